#!/bin/bash
# Whole k-means fits, exact acceleration: adkit-kmeans --algorithm lloyd|hamerly|auto on 2 MPI ranks
# with every kernel the binary accepts, beside scikit-learn KMeans(algorithm="lloyd") and
# KMeans(algorithm="elkan") on 2 threads, all from the same initial centroids to convergence
# (tol 1e-4, at most 300 iterations), in one run:
#   (a) blobs N = 2,000,000, D = 32, K = 64;  (b) blobs N = 2,000,000, D = 2, K = 16;
#   (c) the digits (1,797 x 64), K = 8 and K = 64.
#
#   experiments/bench-kmeans-fit/run.sh            (from the repository root, after a build)
#   QUICK=1 experiments/bench-kmeans-fit/run.sh    (N = 100,000, one repetition: a smoke test)
#
# Environment: ALGOS ("lloyd hamerly auto"), KERNELS (default: each of blas avx512 avx2 that
# adkit-kmeans accepts here), REPS (3; the best of them is kept), CASES ("a b c8 c64").
# Per fit: whole-process seconds (mpiexec), the fit's seconds (the program's "fit" line: the fit
# alone, no start-up or reading), iterations, the fraction of row-centre distances skipped over
# the fit and per iteration, and whether the result is bitwise lloyd's with the same kernel.
# Writes experiments/results/bench-kmeans-fit-<date>.md.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PY=${PYTHON3:-/usr/bin/python3}
KM=$BUILD/apps/adkit-kmeans
NP=2
N=2000000
REPS=${REPS:-3}
if [ "${QUICK:-0}" = 1 ]; then
    N=100000
    REPS=1
fi
ALGOS=${ALGOS:-"lloyd hamerly auto"}
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
CASES=${CASES:-"a b c8 c64"}
. "$ROOT/scripts/adk-env.sh" 2>/dev/null || true
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-kmeans-fit.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# the kernels this binary and CPU accept (a refused one exits non-zero)
"$PY" -c "import h5py, numpy as np; h5py.File('$WORK/t.h5', 'w')['data'] = np.arange(40.0).reshape(20, 2)"
if [ -z "${KERNELS:-}" ]; then
    KERNELS=""
    for k in blas avx512 avx2; do
        if mpiexec -n 1 "$KM" --quiet --k 2 --kernel $k --force --out "$WORK/t.m.h5" \
            "$WORK/t.h5:/data" >/dev/null 2>&1; then
            KERNELS="$KERNELS $k"
        fi
    done
fi

# case -> "spec K": data made once, initial centroids = K rows drawn with numpy (seed 0)
make_case() {
    case $1 in
    a) [ -f "$WORK/a.h5" ] || mpiexec -n $NP "$BUILD/apps/adkit-gen" blobs --quiet --n $N --d 32 \
        --centers 64 --cluster-std 2 --seed 1 --out "$WORK/a.h5"
       echo "$WORK/a.h5:/data 64" ;;
    b) [ -f "$WORK/b.h5" ] || mpiexec -n $NP "$BUILD/apps/adkit-gen" blobs --quiet --n $N --d 2 \
        --centers 16 --cluster-std 1 --seed 2 --out "$WORK/b.h5"
       echo "$WORK/b.h5:/data 16" ;;
    c8) echo "$ROOT/tests/fixtures/kmeans/digits.h5:/data 8" ;;
    c64) echo "$ROOT/tests/fixtures/kmeans/digits.h5:/data 64" ;;
    esac
}

: >"$WORK/adkit.tsv"
for c in $CASES; do
    set -- $(make_case "$c")
    spec=$1
    k=$2
    "$PY" - "$spec" "$k" "$WORK/init-$c.h5" <<'PY'
import sys, h5py, numpy as np
path, dset = sys.argv[1].split(":")
k = int(sys.argv[2])
with h5py.File(path, "r") as f:
    n = f[dset].shape[0]
    idx = np.sort(np.random.default_rng(0).choice(n, k, replace=False))
    c = f[dset][idx, :]
with h5py.File(sys.argv[3], "w") as f:
    f["centroids"] = c
PY
    for kern in $KERNELS; do
        for alg in $ALGOS; do
            best=""
            for r in $(seq "$REPS"); do
                t0=$(date +%s.%N)
                mpiexec -n $NP "$KM" --algorithm "$alg" --kernel "$kern" --k "$k" \
                    --init "$WORK/init-$c.h5" --tol 1e-4 --force --out "$WORK/m-$c-$kern-$alg.h5" \
                    "$spec" >"$WORK/out" 2>"$WORK/err"
                t1=$(date +%s.%N)
                whole=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
                fit=$(sed -n 's/.* fit \([0-9.]*\) s.*/\1/p' "$WORK/out")
                it=$(sed -n 's/.*iterations \([0-9]*\) .*/\1/p' "$WORK/out")
                used=$(sed -n 's/.*algorithm \([a-z]*\) .*/\1/p' "$WORK/out")
                skip=$(sed -n 's/.*distances skipped \(-*[0-9.]*\).*/\1/p' "$WORK/out")
                per=$(sed -n 's/.*  skipped \(-*[0-9.]*\)  .*/\1/p' "$WORK/err" |
                    awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }')
                if [ -z "$best" ] || awk -v a="$fit" -v b="${best%%	*}" 'BEGIN { exit !(a < b) }'; then
                    best="$fit	$whole	$it	$used	$skip	${per:--}"
                fi
            done
            same=yes
            if [ "$alg" != lloyd ] && [ -f "$WORK/m-$c-$kern-lloyd.h5" ]; then
                "$PY" - "$WORK/m-$c-$kern-$alg.h5" "$WORK/m-$c-$kern-lloyd.h5" <<'PY' || same=NO
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
ok = np.array_equal(a["centroids"][:].view(np.uint64), b["centroids"][:].view(np.uint64))
ok = ok and all(a.attrs[n] == b.attrs[n] for n in ("inertia", "n_iter", "converged"))
sys.exit(0 if ok else 1)
PY
            fi
            printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$kern" "$alg" "$best" "$same" >>"$WORK/adkit.tsv"
            echo "$c $kern $alg: $best same=$same" >&2
        done
    done
done

echo "scikit-learn ..." >&2
env -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS "$PY" "$ROOT/experiments/bench-kmeans-fit/sklearn_side.py" \
    "$WORK" "$REPS" "$NP" "$CASES" >"$WORK/sk.tsv"

date=$(date -u +%Y-%m-%d)
out="$ROOT/experiments/results/bench-kmeans-fit-$date.md"
flags=$(grep -o -w -E 'avx2|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ')
{
    echo "# bench-kmeans-fit, $date"
    echo
    echo "Command: \`$( [ "${QUICK:-0}" = 1 ] && echo "QUICK=1 ")experiments/bench-kmeans-fit/run.sh\`" \
        "(REPS=$REPS, best fit of each; ALGOS=\"$ALGOS\", KERNELS=\"$KERNELS\", CASES=\"$CASES\", N=$N)"
    echo "Commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc --all) cores, vector units: ${flags:-none};" \
        "$("$PY" -c "import sklearn; print(\"scikit-learn\", sklearn.__version__)" 2>/dev/null)"
    echo "Started: $STARTED; load average at start: $LOAD, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    "$PY" "$ROOT/experiments/bench-kmeans-fit/sklearn_side.py" --report "$WORK/adkit.tsv" "$WORK/sk.tsv" "$N"
} >"$out"
cat "$out"
echo "wrote $out" >&2
