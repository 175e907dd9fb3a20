#!/bin/bash
# The AVX2 kernel's tile shape: build adk_dist.c once per shape (rows R x panels V of 4 centres)
# and time one pass over N x 32 rows against 64 centres on one core, beside the AVX-512 and BLAS
# kernels. From the repository root, after a build:
#
#   experiments/bench-lloyd/shapes.sh [N]        (default N = 400000)
#
# SHAPES="4x3 2x6" chooses the shapes (rows x panels), ROUNDS=3 the rounds.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
N=${1:-400000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/avx2-shapes.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
. "$ROOT/scripts/adk-env.sh" 2>/dev/null || true
export OPENBLAS_NUM_THREADS=1
# the compiler, flags and libraries of the build (asked of its Makefile)
mkvar() { printf 'adk-print: ; @echo $(%s)\n' "$1" | make -s -C "$BUILD" -f Makefile -f - adk-print; }
cc=$(mkvar CC)
cflags="$(mkvar CFLAGS) $(mkvar AM_CFLAGS) $(mkvar AM_CPPFLAGS) $(mkvar CPPFLAGS)"
libs=$(mkvar ADK_LIBS | sed "s#src/libadkit.a#$BUILD/src/libadkit.a#")
SHAPES=${SHAPES:-"4x3 2x6 4x2 2x4 2x5 1x6"} # rows x panels of 4 centres
for shape in $SHAPES; do
    (cd "$BUILD" && $cc $cflags -DADK_AVX2_ROWS="${shape%x*}" -DADK_AVX2_PANELS="${shape#*x}" \
        -c "$ROOT/src/adk_dist.c" -o "$WORK/d.o" &&
        $cc $cflags "$ROOT/experiments/bench-lloyd/avx2_shapes.c" "$WORK/d.o" $libs -o "$WORK/b$shape")
done
# Rounds over the shapes, each timed beside the AVX-512 kernel in the same process moments later
# (where the CPU has it), so a loaded machine still gives a usable ratio; the best of each.
for round in $(seq "${ROUNDS:-3}"); do
    for shape in $SHAPES; do
        echo "round $round, avx2 tile ${shape%x*} rows x $((${shape#*x} * 4)) centres:" \
            $("$WORK/b$shape" "$N" avx2 avx512 | cut -d' ' -f1,2)
    done
done
echo "BLAS: $("$WORK/b$shape" "$N" blas | cut -d' ' -f1,2)"
