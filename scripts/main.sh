#!/bin/bash
# The main job: set up (missing Debian packages, autotools, configure, build), then run the
# notebook's k-means anomaly detection examples (blobs, and the 8x8 digits with 2-9 normal and
# 0/1 anomalous) with adkit on 2 MPI ranks beside scikit-learn, and print the results table.
#
#   scripts/main.sh [OUTDIR]          (default out/notebook; NP=... to change the rank count)
#
# The digits study with t-SNE preprocessing will replace this job once it exists.
set -eu
ADK_TOP=$(cd "$(dirname "$0")/.." && pwd)
"$ADK_TOP/scripts/setup.sh"
exec "$ADK_TOP/experiments/notebook/run.sh" "${1:-$ADK_TOP/out/notebook}"
