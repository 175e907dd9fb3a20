#!/bin/sh
# tests/fuzz/run.sh: build the libFuzzer harnesses of the parsers (CSV, input spec, options, HDF5
# reader), replay every regression input of tests/fuzz/regress/, then fuzz each harness for
# FUZZ_SECONDS / 4 seconds over its seed corpus (tests/fuzz/corpus/) and print, per harness, the
# executions, executions per second and crashes. Exits non-zero on any crash, or when clang's
# libFuzzer is missing. `make fuzz FUZZ_SECONDS=600` calls it with the flags configure found.
#
# Environment (make fuzz sets the first five):
#   FUZZ_SRCDIR     source tree (default: two levels above this script)
#   FUZZ_BUILDDIR   where objects, programs, the growing corpus, crash artifacts and logs go
#                   (default: ./fuzz); never inside the source tree's tests/fuzz
#   FUZZ_TOP_BUILDDIR the configured (and built) tree: config.h, src/adk_gitversion.h
#                   (default: FUZZ_SRCDIR/build)
#   FUZZ_DEP_CFLAGS include flags of HDF5 (parallel), GSL, CBLAS, cJSON (MPI comes with HDF5's)
#   FUZZ_DEP_LIBS   their link flags
#   FUZZ_SECONDS    total fuzzing time, shared equally by the harnesses (default 60)
#   FUZZ_HARNESSES  which ones (default "csv spec cli h5")
#   FUZZ_SEED       libFuzzer -seed (default: libFuzzer's own choice, printed in the logs)
#   FUZZ_CC         compiler (default clang); FUZZ_JOBS: parallel compile jobs (default 2)
set -u

here=$(cd "$(dirname "$0")" && pwd)
SRC=${FUZZ_SRCDIR:-$(cd "$here/../.." && pwd)}
B=${FUZZ_BUILDDIR:-$(pwd)/fuzz}
TOP=${FUZZ_TOP_BUILDDIR:-$SRC/build}
SECONDS_TOTAL=${FUZZ_SECONDS:-60}
HARNESSES=${FUZZ_HARNESSES:-"csv spec cli h5"}
CC=${FUZZ_CC:-clang}
JOBS=${FUZZ_JOBS:-2}
if [ -z "${FUZZ_DEP_CFLAGS+set}" ]; then
    FUZZ_DEP_CFLAGS="$(pkg-config --cflags hdf5-openmpi 2>/dev/null) $(mpicc --showme:compile 2>/dev/null) -I/usr/include/cjson"
fi
if [ -z "${FUZZ_DEP_LIBS+set}" ]; then
    FUZZ_DEP_LIBS="$(pkg-config --libs hdf5-openmpi 2>/dev/null) $(mpicc --showme:link 2>/dev/null) -lgsl -lopenblas -lcjson"
fi

die() {
    echo "fuzz: $*" >&2
    exit 2
}

case $SECONDS_TOTAL in
'' | *[!0-9]*) die "FUZZ_SECONDS must be a whole number of seconds, not '$SECONDS_TOTAL'" ;;
esac
[ -f "$TOP/config.h" ] ||
    die "no config.h in '$TOP': configure and build first, or set FUZZ_TOP_BUILDDIR"

# libFuzzer ships with clang's compiler-rt (Debian: clang and libclang-rt-14-dev).
mkdir -p "$B/obj" "$B/tmp" "$B/logs" || die "cannot create $B"
probe=$B/obj/probe
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
    >"$probe.c"
if ! command -v "$CC" >/dev/null 2>&1; then
    die "'$CC' not found: fuzzing needs clang with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)"
fi
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe.c" -o "$probe" >"$probe.log" 2>&1; then
    sed 's/^/  /' "$probe.log" | head -n 5 >&2
    die "'$CC' cannot link -fsanitize=fuzzer,address,undefined: libFuzzer is missing (Debian: apt-get install clang libclang-rt-14-dev)"
fi

echo "fuzz: building the harnesses in $B"
make -s -j"$JOBS" -f "$SRC/tests/fuzz/fuzz.mk" SRCDIR="$SRC" O="$B" TOP_BUILDDIR="$TOP" \
    CC="$CC" DEP_CFLAGS="$FUZZ_DEP_CFLAGS" DEP_LIBS="$FUZZ_DEP_LIBS" >"$B/logs/build.log" 2>&1 || {
    tail -n 30 "$B/logs/build.log" >&2
    die "build failed (log: $B/logs/build.log)"
}

# Sanitizers: an allocation over 256 MiB fails with NULL (the library must then report
# ADK_ENOMEM) instead of being made: the harnesses' inputs justify a few MiB at most, and HDF5
# allocates whatever a corrupt file declares (4 GiB for one string: tests/fuzz/upstream/hdf5/),
# which would otherwise end the run as an out-of-memory "crash" that is HDF5's, not adkit's.
# Leaks in adkit's code fail, those of Open MPI and HDF5 (tests/lsan.supp) do not.
# use_tls=0: clang 14's LeakSanitizer misreads glibc 2.36's dynamic TLS table and its leak check
# dies ("Tracer caught signal 11") once Open MPI's threads exist; adkit keeps nothing in TLS.
ASAN_OPTIONS="allocator_may_return_null=1:max_allocation_size_mb=256:detect_leaks=1:${ASAN_OPTIONS-}"
LSAN_OPTIONS="suppressions=$SRC/tests/lsan.supp:print_suppressions=0:use_tls=0:${LSAN_OPTIONS-}"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS-}"
FUZZ_TMPDIR=$B/tmp
OMPI_MCA_hwloc_base_binding_policy=none
export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS FUZZ_TMPDIR OMPI_MCA_hwloc_base_binding_policy

nh=$(echo $HARNESSES | wc -w)
per=$((SECONDS_TOTAL / nh))
[ "$per" -ge 1 ] || per=1
failed=0
total_execs=0
total_crashes=0
: >"$B/logs/summary.txt"

for h in $HARNESSES; do
    bin=$B/fuzz_$h
    [ -x "$bin" ] || die "unknown harness '$h' (csv, spec, cli, h5)"
    case $h in
    h5) maxlen=65536 ;;
    *) maxlen=4096 ;;
    esac
    art=$B/artifacts/$h
    work=$B/corpus/$h
    mkdir -p "$art" "$work"
    crashes=0
    note=""

    # 1. every committed reproducer first: each must now run cleanly
    reg=$SRC/tests/fuzz/regress/$h
    nreg=0
    if [ -d "$reg" ]; then
        set -- $(find "$reg" -type f ! -name 'README*' | LC_ALL=C sort)
        nreg=$#
        if [ "$nreg" -gt 0 ] && ! "$bin" -timeout=60 -rss_limit_mb=2048 \
            -artifact_prefix="$art/regress-" "$@" >"$B/logs/$h-regress.log" 2>&1; then
            crashes=$((crashes + 1))
            note="a regression input crashes again (log: $B/logs/$h-regress.log)"
        fi
    fi

    # 2. fuzz: new inputs go to the working corpus in the build tree, never to the sources. The
    # reproducers are not seeds: mutants of the corrupt HDF5 ones mostly exercise HDF5's own
    # error paths (and leave files it cannot close, tests/fuzz/upstream/hdf5/README).
    seeds=$SRC/tests/fuzz/corpus/$h
    dirs="$work $seeds"
    before=$(ls "$art" | wc -l)
    log=$B/logs/$h.log
    "$bin" -max_total_time="$per" -max_len="$maxlen" -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art/" ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
        $dirs >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    seed=$(sed -n 's/^INFO: Seed: *//p' "$log" | head -n 1)
    [ -n "$execs" ] || execs=0
    [ -n "$rate" ] || rate=0
    if [ "$rc" -ne 0 ]; then
        crashes=$((crashes + 1))
        new=$(ls -t "$art" | head -n 1)
        if [ "$(ls "$art" | wc -l)" -gt "$before" ]; then
            note="${note:+$note; }crash: $art/$new (log: $log)"
        else
            note="${note:+$note; }exit status $rc without an artifact (log: $log)"
        fi
    fi
    ncorp=$(find "$work" -type f | wc -l)
    nseed=$(find "$seeds" -type f | wc -l)
    line=$(printf '%-5s %10s executions %8s exec/s  %d crash(es)  corpus %d seeds + %d found  regress %d  seed %s' \
        "$h" "$execs" "$rate" "$crashes" "$nseed" "$ncorp" "$nreg" "${seed:-?}")
    echo "fuzz: $line"
    [ -n "$note" ] && echo "fuzz:   $note"
    echo "$line" >>"$B/logs/summary.txt"
    total_execs=$((total_execs + execs))
    total_crashes=$((total_crashes + crashes))
    [ "$crashes" -eq 0 ] || failed=1
done

echo "fuzz: total $total_execs executions, $total_crashes crash(es), $per s per harness"
[ "$failed" -eq 0 ] || echo "fuzz: FAILED; minimise with: $B/fuzz_H -minimize_crash=1 -runs=10000 FILE, then add it to tests/fuzz/regress/H/"
exit "$failed"
