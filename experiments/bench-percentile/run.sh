#!/bin/sh
# Per-cluster percentile thresholds on N training distances in K clusters: adkit-threshold (exact
# distributed selection, NP ranks) beside numpy.percentile per cluster on one process, in one run.
# For each radix width: allreduce rounds, bytes each rank passes to the selection's allreduces,
# and the computation time measured inside the program (MAX over ranks, best of REPS; file I/O
# not included), and whether every threshold equals numpy's bit for bit. Prints Markdown.
#
#   experiments/bench-percentile/run.sh BUILD_DIR
#   env: N (2000000), K (64), NP (2), Q (99), REPS (3), BITS ("4 8 11 16"), SEED (1),
#        OUTDIR (BUILD_DIR/bench-percentile)
#
# Example (the recorded run):
#   experiments/bench-percentile/run.sh build-thr | tee experiments/results/bench-percentile-$(date +%F).md
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 1
fi
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-2000000}
K=${K:-64}
NP=${NP:-2}
Q=${Q:-99}
REPS=${REPS:-3}
BITS=${BITS:-"4 8 11 16"}
SEED=${SEED:-1}
OUTDIR=${OUTDIR:-$BUILD/bench-percentile}
PY=/usr/bin/python3
SIDE=$SRC/experiments/bench-percentile/numpy_side.py
TH=$BUILD/apps/adkit-threshold
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1

[ -x "$TH" ] || { echo "$0: no $TH (build first)" >&2; exit 1; }
mkdir -p "$OUTDIR"
trap 'rm -rf "$OUTDIR"' EXIT
sizes=$($PY "$SIDE" make "$OUTDIR" "$N" "$K" "$SEED")

echo "# Per-cluster percentile thresholds: adkit-threshold vs numpy.percentile ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo
dirty=$(cd "$SRC" && git status --porcelain -- src apps 2>/dev/null | head -n 1)
echo "- commit: $(cd "$SRC" && git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)${dirty:+ (with uncommitted or untracked changes in src/ or apps/)}"
echo "- data: N = $N distances (scaled chi(8)), K = $K clusters (Dirichlet sizes: $sizes), seed $SEED"
echo "- adkit: \`mpiexec -n NP adkit-threshold --model model.h5 --assign assign.h5 --per-cluster-percentile $Q --radix-bits B\`"
echo "- numpy $($PY -c 'import numpy; print(numpy.__version__)'): np.percentile(d[lab == k], $Q) for each k (as the reference notebook), and after one stable argsort; one process"
echo "- machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB memory, $(uname -sr), $(lscpu | sed -n 's/^Model name: *//p')"
echo "- load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| side | ranks | radix bits | allreduce rounds | selection bytes per rank | seconds (best of $REPS) | equal to numpy |"
echo "|---|---|---|---|---|---|---|"
num=$($PY "$SIDE" time "$OUTDIR" "$Q" "$REPS")
run() { # run NP BITS
    best=""
    for r in $(seq "$REPS"); do
        cp "$OUTDIR/model.h5" "$OUTDIR/m.h5"
        mpiexec -n "$1" "$TH" --model "$OUTDIR/m.h5" --assign "$OUTDIR/assign.h5" \
            --per-cluster-percentile "$Q" --radix-bits "$2" >"$OUTDIR/out" 2>"$OUTDIR/err"
        line=$(grep '^  selection: ' "$OUTDIR/out")
        rounds=$(echo "$line" | sed 's/.*selection: \([0-9]*\) allreduce.*/\1/')
        bytes=$(echo "$line" | sed 's/.*rounds, \([0-9]*\) bytes.*/\1/')
        secs=$(echo "$line" | sed 's/.*, \([0-9.]*\) s$/\1/')
        best=$(echo "$best $secs" | awk '{ m = $1; for (i = 2; i <= NF; i++) if ($i < m) m = $i; print m }')
    done
    eq=$($PY "$SIDE" same "$OUTDIR" "$OUTDIR/m.h5" | awk '{ print $1 " of " $2 }')
    echo "| adkit-threshold | $1 | $2 | $rounds | $bytes | $best | $eq |"
}
for b in $BITS; do
    run "$NP" "$b"
done
[ "$NP" = 1 ] || run 1 8
echo "| numpy, mask per cluster | 1 | - | - | - | $(echo "$num" | awk '/^masks/ { print $2 }') | reference |"
echo "| numpy, argsort + slices | 1 | - | - | - | $(echo "$num" | awk '/^sorted/ { print $2 }') | reference |"
echo
echo "Rounds include the counting round (count, min, max per cluster); the selection's histograms"
echo "carry 24 bytes per bin (count, max key, complement of min key). Seconds: adkit's computation"
echo "(validation + selection) measured inside the program and MAX-reduced over ranks, without"
echo "reading the file; numpy's on arrays already in memory."
echo "- load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
