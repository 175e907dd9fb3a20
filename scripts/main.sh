#!/bin/bash
# The main job: set up (missing Debian packages, autotools, configure, build), then rerun the
# digits study (experiments/digits/run.sh: the k-means anomaly detection notebook's experiments on
# the blobs and the 8x8 digits, t-SNE and PCA first, kNN and Gaussian detectors, the elbow,
# seeds 0-9) with adkit on 2 MPI ranks beside scikit-learn, print the results table and write
# OUTDIR/REPORT.md with its figures.
#
#   scripts/main.sh [OUTDIR]          (default out/digits)
#   env: NP (ranks, default 2), SEEDS (default "0 1 2 3 4 5 6 7 8 9"),
#        SKLEARN=auto|0|1 (the scikit-learn side; auto: when python3-sklearn is installed)
set -eu
ADK_TOP=$(cd "$(dirname "$0")/.." && pwd)
"$ADK_TOP/scripts/setup.sh"
exec "$ADK_TOP/experiments/digits/run.sh" "${1:-$ADK_TOP/out/digits}"
