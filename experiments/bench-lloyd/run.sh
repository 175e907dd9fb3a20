#!/bin/bash
# Seconds per Lloyd iteration: adkit-kmeans on 2 MPI ranks beside scikit-learn KMeans(lloyd) with
# 2 threads, same data and initial centroids, in one run; plus this machine's dgemm peak measured
# here, peak memory per rank, and the GFLOP/s both reach.
#
#   experiments/bench-lloyd/run.sh [--quick]      (from the repository root, after a build)
#   KERNELS="avx2 blas" experiments/bench-lloyd/run.sh   (only these nearest-centre kernels)
#
# KERNELS defaults to every kernel this CPU can run (avx512, avx2, blas: what adkit-kmeans accepts
# here, so ADK_CPU_FEATURES can hide some); one run times each beside scikit-learn.
# Seconds per iteration = (time for 22 iterations - time for 2) / 20, so start-up, reading and
# the final pass cancel. Both sides run tol = 0 from the same centroids; the data (2,000,000 x 32
# float64, 64 blobs with wide spread) keeps labels changing for all 22 iterations.
# Writes experiments/results/bench-lloyd-<date>.md (-quick.md with --quick).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PY=${PYTHON3:-/usr/bin/python3}
N=${N:-2000000}
D=32
K=64
NP=2
REPS=${REPS:-3}
if [ "${1:-}" = "--quick" ]; then
    N=200000
    REPS=1
fi
. "$ROOT/scripts/adk-env.sh" 2>/dev/null || true
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-lloyd.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "generating $N x $D ..." >&2
mpiexec -n $NP "$BUILD/apps/adkit-gen" blobs --quiet --n "$N" --d $D --centers $K \
    --cluster-std 8 --seed 1 --out "$WORK/data.h5"
"$PY" - "$WORK" $K <<'PYEOF'
import sys, h5py, numpy as np
w, k = sys.argv[1], int(sys.argv[2])
with h5py.File(w + "/data.h5", "r") as f:
    n = f["data"].shape[0]
    idx = np.sort(np.random.default_rng(0).choice(n, k, replace=False))
    c = f["data"][idx, :]
with h5py.File(w + "/init.h5", "w") as f:
    f["centroids"] = c
PYEOF

# adkit: best of REPS for 2 and 22 iterations; the program's own fit time (rank 0 wall clock)
adkit_fit() { # iterations kernel -> "seconds rss_kb_rank0 rss_kb_rank1"
    best=""
    for r in $(seq "$REPS"); do
        # One peak-RSS file per rank: two ranks writing to one pipe can interleave their lines.
        rm -f "$WORK"/rss.*
        out=$(mpiexec -n $NP sh -c 'exec /usr/bin/time -f "%M" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' \
            "$WORK/rss" "$BUILD/apps/adkit-kmeans" --quiet \
            --kernel "$2" --k $K --init "$WORK/init.h5" --max-iter "$1" --tol 0 --force \
            --out "$WORK/m.h5" "$WORK/data.h5:/data" 2>&1)
        t=$(echo "$out" | sed -n 's/.*fit \([0-9.]*\) s.*/\1/p')
        rss=$(cat "$WORK"/rss.* | sort -n | tr '\n' ' ')
        it=$(echo "$out" | sed -n 's/.*iterations \([0-9]*\) .*/\1/p')
        if [ "$it" != "$1" ]; then
            echo "adkit ran $it iterations, wanted $1" >&2
            exit 1
        fi
        if [ -z "$best" ] || awk -v a="$t" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
            best="$t $rss"
        fi
    done
    echo "$best"
}
# the kernels this CPU can run: the ones adkit-kmeans accepts on a tiny problem
if [ -z "${KERNELS:-}" ]; then
    KERNELS=""
    for kern in avx512 avx2 blas; do
        if mpiexec -n 1 "$BUILD/apps/adkit-kmeans" --quiet --kernel $kern --k 2 --max-iter 1 \
            --force --out "$WORK/k.h5" "$WORK/init.h5:/centroids" >/dev/null 2>&1; then
            KERNELS="$KERNELS $kern"
        fi
    done
fi
auto=$(mpiexec -n 1 "$BUILD/apps/adkit-kmeans" --k 2 --max-iter 1 --force --out "$WORK/k.h5" \
    "$WORK/init.h5:/centroids" 2>/dev/null | sed -n 's/.*kernel \([a-z0-9]*\) .*/\1/p')
: >"$WORK/adkit.txt"
for kern in $KERNELS; do
    echo "adkit ($kern kernel) ..." >&2
    t2=$(adkit_fit 2 "$kern")
    t22=$(adkit_fit 22 "$kern")
    echo "$kern $t2 $t22" >>"$WORK/adkit.txt" # kernel, then seconds rss0 rss1 for 2 and 22
done

echo "scikit-learn and dgemm peak ..." >&2
env -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS "$PY" "$ROOT/experiments/bench-lloyd/sklearn_side.py" \
    "$WORK" "$REPS" "$NP" "$auto" "$N" $D $K >"$WORK/report.md"
date=$(date -u +%Y-%m-%d)
out="$ROOT/experiments/results/bench-lloyd-$date${1:+-quick}.md" # a --quick run never replaces a full one
{
    echo "# bench-lloyd, $date"
    echo
    echo "Command: \`KERNELS=\"${KERNELS# }\" experiments/bench-lloyd/run.sh ${1:-}\` (REPS=$REPS, best of each)"
    echo "Commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc --all) cores, $(free -g | awk '/Mem:/ {print $2}') GiB;" \
        "$("$PY" -c "import numpy; print(\"numpy\", numpy.__version__)" 2>/dev/null)"
    echo "Vector units: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|fma|avx512f|avx512dq|avx512bw|avx512vl)$' | tr '\n' ' ')(\`--kernel auto\` picks $auto)"
    echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    cat "$WORK/report.md"
} >"$out"
cat "$out"
echo "wrote $out" >&2
