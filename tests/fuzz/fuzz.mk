# tests/fuzz/fuzz.mk: builds the libFuzzer harnesses (plain make; tests/fuzz/run.sh calls it).
# The library sources are compiled here with the harnesses' own flags (clang, libFuzzer coverage,
# ASan, UBSan), never taken from the gcc-built libadkit.a, which carries neither coverage nor
# sanitizers. Objects and programs go to $(O), outside the source tree.
#
#   make -f tests/fuzz/fuzz.mk SRCDIR=. O=build/fuzz TOP_BUILDDIR=build \
#        DEP_CFLAGS='<HDF5, GSL, CBLAS, cJSON include flags>' DEP_LIBS='<their link flags>'

SRCDIR ?= .
O ?= fuzz-build
TOP_BUILDDIR ?= $(O)
CC = clang
DEP_CFLAGS ?=
DEP_LIBS ?=

SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
FZ_CFLAGS = -std=c11 -g -O1 -ffp-contract=off $(WARN) $(SAN)
# TOP_BUILDDIR: the configured build tree (config.h, the generated src/adk_gitversion.h)
FZ_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -I$(TOP_BUILDDIR) -I$(TOP_BUILDDIR)/src -I$(SRCDIR)/src \
	$(DEP_CFLAGS)

# Every library source goes into one archive, so the linker takes what the parsers reach and a
# module added to src/ later needs no change here.
LIB_SRCS = $(sort $(wildcard $(SRCDIR)/src/adk_*.c))
LIB_OBJS = $(patsubst $(SRCDIR)/src/%.c,$(O)/obj/%.o,$(LIB_SRCS))
HARNESSES = fuzz_csv fuzz_spec fuzz_cli fuzz_h5
HEADERS = $(wildcard $(SRCDIR)/src/*.h $(TOP_BUILDDIR)/src/*.h) $(SRCDIR)/tests/fuzz/fuzz_common.h

all: $(HARNESSES:%=$(O)/%)

$(O)/obj/adk_%.o: $(SRCDIR)/src/adk_%.c $(HEADERS) $(TOP_BUILDDIR)/config.h
	@mkdir -p $(O)/obj
	$(CC) $(FZ_CFLAGS) -fsanitize=fuzzer-no-link $(FZ_CPPFLAGS) -c $< -o $@

$(O)/obj/fuzz_%.o: $(SRCDIR)/tests/fuzz/fuzz_%.c $(HEADERS)
	@mkdir -p $(O)/obj
	$(CC) $(FZ_CFLAGS) -fsanitize=fuzzer-no-link $(FZ_CPPFLAGS) -c $< -o $@

$(O)/libadkit-fuzz.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

# fuzz_h5 counts the files adkit opens and closes at the calls (see check_open_ids there)
$(O)/fuzz_h5: WRAP = -Wl,--wrap=H5Fopen -Wl,--wrap=H5Fclose

$(O)/fuzz_%: $(O)/obj/fuzz_%.o $(O)/libadkit-fuzz.a
	$(CC) $(FZ_CFLAGS) -fsanitize=fuzzer $(WRAP) $^ $(DEP_LIBS) -lm -o $@

.PHONY: all
.SECONDARY:
