#!/bin/sh
# Silhouette on 20,000 x 32 (8 Gaussian blobs): adkit-metrics (exact ring pass) on NP ranks beside
# sklearn.metrics.silhouette_score on the same data and labels, one run each, same machine.
#
#   experiments/bench-silhouette/run.sh BUILDDIR [NP] [OUT.md]
#
# BUILDDIR is a configured and built tree (apps/adkit-metrics). Writes OUT.md (default
# experiments/results/bench-silhouette-<date>.md) with the command, machine, date and timings:
# wall seconds of the silhouette call itself (adkit: the time adkit-metrics reports for
# adk_metrics_silhouette; sklearn: perf_counter around silhouette_score), plus the whole
# process for adkit (MPI start-up, reading, the other metrics).
set -eu
BUILD=$(cd "${1:?usage: run.sh BUILDDIR [NP] [OUT.md]}" && pwd)
NP=${2:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
DATE=$(date -u +%Y-%m-%d)
OUT=${3:-$SRC/experiments/results/bench-silhouette-$DATE.md}
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$PY" "$HERE/make_data.py" "$WORK/blobs.h5" 20000 32 8 1 >/dev/null

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
/usr/bin/time -f "%e %U %S" -o "$WORK/time.txt" \
    mpiexec --oversubscribe -n "$NP" "$BUILD/apps/adkit-metrics" --quiet --model "$WORK/blobs.h5" \
    --assign "$WORK/blobs.h5" --json "$WORK/adkit.json" "$WORK/blobs.h5:/data" >"$WORK/adkit.txt"
read -r ADK_TOTAL ADK_U ADK_S <"$WORK/time.txt"
ADK_CPU=$(echo "$ADK_U + $ADK_S" | bc)
ADK_SIL=$(sed -n 's/.*exact, [0-9]* rows, \([0-9.]*\) s).*/\1/p' "$WORK/adkit.txt")

# sklearn with every core its BLAS wants (its default), on the same file
unset OPENBLAS_NUM_THREADS
"$PY" - "$WORK/blobs.h5" "$WORK/adkit.json" >"$WORK/sk.txt" <<'EOF'
import json, os, sys, time
import h5py, numpy as np, sklearn
from sklearn.metrics import silhouette_score
with h5py.File(sys.argv[1], "r") as f:
    X, lab = f["data"][:], f["cluster"][:]
t = time.perf_counter(); c = time.process_time()
s = silhouette_score(X, lab)
wall, cpu = time.perf_counter() - t, time.process_time() - c
ours = json.load(open(sys.argv[2]))["silhouette"]
print("%.17g %.3f %.3f %.3g %s %s" % (s, wall, cpu, abs(ours - s) / abs(s), sklearn.__version__,
                                       np.__version__))
EOF
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
# a 1-minute load above the core count means other work shared the CPUs with this run
if awk -v l="${LOAD0%% *}" -v c="$(nproc)" 'BEGIN { exit !(l > c) }'; then
    LOADNOTE="load above the core count: other work shared the CPUs, timings are indicative only"
else
    LOADNOTE="no other heavy work was running"
fi
read -r SK_VAL SK_WALL SK_CPU REL SK_VER NP_VER <"$WORK/sk.txt"
ADK_VAL=$(sed -n 's/.*"silhouette":[[:space:]]*\([0-9.e+-]*\).*/\1/p' "$WORK/adkit.json")
COMMIT=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$SRC" status --porcelain 2>/dev/null | grep -q . && echo " + uncommitted changes" || true)
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)

mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<EOF
# Silhouette benchmark: adkit-metrics vs scikit-learn, 20,000 x 32

- Date (UTC): $DATE
- Commit: $COMMIT$DIRTY
- Machine: $(nproc) cores ($CPU), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)
- Load average before / after: $LOAD0 / $LOAD1 ($LOADNOTE)
- Data: \`experiments/bench-silhouette/make_data.py OUT.h5 20000 32 8 1\` (8 Gaussian blobs,
  labels = generating blob), float64
- Command: \`experiments/bench-silhouette/run.sh BUILDDIR $NP\`, i.e.
  \`mpiexec -n $NP adkit-metrics --model blobs.h5 --assign blobs.h5 blobs.h5:/data\`
  (OPENBLAS_NUM_THREADS=1) and \`sklearn.metrics.silhouette_score(X, labels)\` (scikit-learn
  $SK_VER, numpy $NP_VER, OpenBLAS threads: default), one run each

| | silhouette | wall (s) | note |
|---|---|---|---|
| adkit, exact ring pass, $NP ranks | $ADK_VAL | $ADK_SIL | adk_metrics_silhouette alone; whole job $ADK_TOTAL s wall, $ADK_CPU s CPU (all ranks, start-up and I/O included) |
| scikit-learn silhouette_score | $SK_VAL | $SK_WALL | process CPU time $SK_CPU s (BLAS threads included) |

Relative difference of the two scores: $REL.

adkit computes each distance directly (sqrt of the sum of squared differences in column order,
vectorised across 8 rows, no GEMM) and sums per row and cluster exactly per 64-row block, so the
score is the same bits at any rank count; scikit-learn forms distance chunks with BLAS
(||x||^2 - 2 x.y + ||y||^2) and sums them with numpy's bincount.
EOF
cat "$OUT"
