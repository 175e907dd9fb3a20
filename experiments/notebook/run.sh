#!/bin/bash
# The teaching notebook's k-means anomaly detection, both examples, adkit on NP MPI ranks beside
# scikit-learn, and one results table.
#
#   experiments/notebook/run.sh [OUTDIR]        (NP=2 by default; needs a build in build/)
#
# Example 1: 300 normal blobs (3 centres) to train on, tested with 300 anomalies (2 centres).
# Example 2: the 8x8 digits, 2-9 normal (8 clusters), 0 and 1 anomalous.
# For each: adkit-kmeans (k-means++, n_init 10, seed 0) on the normal rows, adkit-threshold
# (per-cluster 99th percentile, and one global 95th percentile), adkit-score on normal + anomalous
# rows with labels. scikit-learn runs the notebook's recipe (KMeans random_state 0, n_init 10,
# np.percentile). Every adkit number is computed by the C programs (their JSON outputs); Python
# only prepares the data, runs the scikit-learn side and prints the table.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${ADK_BUILD:-$ROOT/build}
PY=${PYTHON3:-/usr/bin/python3}
NP=${NP:-2}
OUT=${1:-$ROOT/out/notebook}
. "$ROOT/scripts/adk-env.sh"
mkdir -p "$OUT"
run() { mpiexec -n "$NP" "$@"; }

"$PY" "$ROOT/experiments/notebook/prepare.py" "$OUT/data"
"$PY" "$ROOT/experiments/notebook/sklearn_side.py" "$OUT/data" "$OUT/sklearn.json"
for ex in blobs:3 digits:8; do
    name=${ex%%:*}
    k=${ex##*:}
    d=$OUT/$name
    mkdir -p "$d"
    run "$BUILD/apps/adkit-kmeans" --quiet --force --k "$k" --n-init 10 --seed 0 \
        --out "$d/model.h5" --assign "$d/assign.h5" "$OUT/data/${name}_train.h5:/data" >"$d/kmeans.txt"
    # like for like: Lloyd from scikit-learn's final centroids, then the same thresholds and score
    run "$BUILD/apps/adkit-kmeans" --quiet --force --k "$k" \
        --init "$OUT/data/${name}_sk_centroids.h5:/centroids" --out "$d/model_sk.h5" \
        --assign "$d/assign_sk.h5" "$OUT/data/${name}_train.h5:/data" >>"$d/kmeans.txt"
    run "$BUILD/apps/adkit-threshold" --quiet --force --model "$d/model_sk.h5" \
        --assign "$d/assign_sk.h5" >"$d/threshold.txt"
    cp "$d/model.h5" "$d/model_g95.h5"
    run "$BUILD/apps/adkit-threshold" --quiet --force --model "$d/model.h5" --assign "$d/assign.h5" \
        --per-cluster-percentile 99 >>"$d/threshold.txt"
    run "$BUILD/apps/adkit-threshold" --quiet --force --model "$d/model_g95.h5" \
        --assign "$d/assign.h5" --global-percentile 95 >>"$d/threshold.txt"
    for m in model model_g95 model_sk; do
        run "$BUILD/apps/adkit-score" --quiet --force --model "$d/$m.h5" --out "$d/score_$m.h5" \
            --labels "$OUT/data/${name}_test.h5:/labels" --json "$d/score_$m.json" \
            "$OUT/data/${name}_test.h5:/data" >"$d/score_$m.txt"
    done
    run "$BUILD/apps/adkit-metrics" --quiet --force --model "$d/model.h5" --assign "$d/assign.h5" \
        --json "$d/metrics.json" "$OUT/data/${name}_train.h5:/data" >"$d/metrics.txt"
done
"$PY" "$ROOT/experiments/notebook/table.py" "$OUT" "$NP" | tee "$OUT/results.md"
