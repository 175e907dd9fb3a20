#!/bin/bash
# The AVX2 kernel's tile shape: build adk_dist.c once per shape (rows R x panels V of 4 centres)
# and time one pass over N x 32 rows against 64 centres on one core, beside the AVX-512 and BLAS
# kernels. From the repository root, after a build:
#
#   experiments/bench-lloyd/shapes.sh [N]        (default N = 400000)
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
for shape in "4 3" "2 6" "4 2" "2 4" "1 6" "4 1"; do
    set -- $shape
    (cd "$BUILD" && $cc $cflags -DADK_AVX2_ROWS="$1" -DADK_AVX2_PANELS="$2" \
        -c "$ROOT/src/adk_dist.c" -o "$WORK/d.o" &&
        $cc $cflags "$ROOT/experiments/bench-lloyd/avx2_shapes.c" "$WORK/d.o" $libs -o "$WORK/b")
    echo "avx2 tile $1 rows x $(($2 * 4)) centres: $("$WORK/b" "$N" avx2)"
done
echo "reference: $("$WORK/b" "$N" avx512 blas | tr '\n' ' ')"
