#!/bin/bash
# Output equivalence of two builds: runs every program of the test suite's scenarios (tests/mpi/*.sh)
# with OLD_BUILD's and with NEW_BUILD's programs, each scenario in a fresh directory at the same
# absolute path with the same argv, and compares everything they leave behind: every HDF5 file
# (h5same.py: every dataset's shape, type, layout and bytes, every attribute's type and value;
# provenance times and commits aside), every other file byte for byte, every run's exit code,
# stdout and stderr (times in seconds and Open MPI's own failure notices normalised; see README.md).
#
#   experiments/equivalence/run.sh OLD_BUILD NEW_BUILD [OUTDIR]
#
# OLD_BUILD and NEW_BUILD are automake build trees (programs in BUILD/apps/). OUTDIR (default: a new
# /tmp/adk-equiv.XXXXXX) keeps both sides' outputs and logs and report.txt (every difference).
# Prints one line per scenario ("same" or "DIFF: what") and "N scenarios, N same, N different";
# exits 1 when any scenario differs, 2 on a usage error.
# env: ADK_EQ_FIXTURES (default: tests/fixtures of this script's source tree; the same inputs for
#      both sides), ADK_EQ_ONLY (a regular expression: run only the scenarios whose names match).
set -eu

usage() {
    echo "usage: $0 OLD_BUILD NEW_BUILD [OUTDIR]" >&2
    exit 2
}
[ $# -ge 2 ] && [ $# -le 3 ] || usage

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
FIX=$(cd "${ADK_EQ_FIXTURES:-$SRC/tests/fixtures}" && pwd)
PY=/usr/bin/python3
H5SAME=$HERE/h5same.py
ONLY=${ADK_EQ_ONLY:-}

BUILD_OLD=$(cd "$1" && pwd)
BUILD_NEW=$(cd "$2" && pwd)
for b in "$BUILD_OLD" "$BUILD_NEW"; do
    for p in gen kmeans threshold score metrics elbow gauss; do
        [ -x "$b/apps/adkit-$p" ] || { echo "$0: no $b/apps/adkit-$p (build first)" >&2; exit 2; }
    done
done

if [ $# -ge 3 ]; then
    OUTDIR=$3
    if [ -e "$OUTDIR" ] && [ -n "$(ls -A "$OUTDIR")" ] && [ ! -e "$OUTDIR/.adk-equivalence" ]; then
        echo "$0: $OUTDIR is not empty and was not made by this script" >&2
        exit 2
    fi
    rm -rf "$OUTDIR"
    mkdir -p "$OUTDIR"
    OUTDIR=$(cd "$OUTDIR" && pwd)
else
    OUTDIR=$(mktemp -d /tmp/adk-equiv.XXXXXX)
fi
: >"$OUTDIR/.adk-equivalence"

export LC_ALL=C
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none
# ranks that have agreed to stop are killed at once instead of after a one-second grace period
export OMPI_MCA_odls_base_sigkill_timeout=0
BASE_PATH=$PATH

# The commit a build records (provenance; replaced by "<commit>" before comparing).
commit_of() {
    sed -n 's/^#define ADK_GIT_COMMIT "\([0-9a-f]\{7,40\}\)"$/\1/p' "$1/config.h" 2>/dev/null || true
}
COMMIT_OLD=$(commit_of "$BUILD_OLD")
COMMIT_NEW=$(commit_of "$BUILD_NEW")

# --- inputs made once, copied into the scenarios that use them (identical for both sides) ------
INP=$OUTDIR/inputs
mkdir -p "$INP"
"$PY" - "$INP" "$FIX" <<'EOF'
import sys
import h5py
import numpy as np

out, fix = sys.argv[1], sys.argv[2]
with h5py.File(out + "/bad.h5", "w") as f:  # as tests/mpi/kmeans.sh
    f["flat"] = np.arange(10.0)
    x = np.arange(20.0).reshape(10, 2)
    x[7, 1] = np.nan
    f["nan"] = x
    f["empty"] = np.zeros((0, 3))
    f["good"] = np.arange(20.0).reshape(10, 2)
    f["init3"] = np.zeros((3, 3))
with h5py.File(out + "/cen.h5", "w") as f:  # as tests/mpi/gen.sh
    f["/c"] = np.array([[0.0, 1.0, 2.0, 3.0], [10.0, -10.0, 5.5, 0.25], [-4.0, 4.0, -4.0, 4.0]])
    f["/flat"] = np.arange(5.0)
    f["/cube"] = np.zeros((2, 2, 2))
    f["/nan"] = np.array([[0.0, np.nan], [1.0, 2.0]])
    f["/inf"] = np.array([[0.0, 1.0], [np.inf, 2.0]])
with h5py.File(fix + "/kmeans/iris.h5", "r") as f:
    iris = f["/data"][...]
rows = [",".join(repr(float(v)) for v in r) for r in iris]  # repr: exact round trip
with open(out + "/iris_h.csv", "w") as f:
    f.write("# iris as CSV\na,b,c,d\n" + "\n".join(rows) + "\n")
with open(out + "/tiny.csv", "w") as f:
    f.write("\n".join(rows[:5]) + "\n")
with open(out + "/nonnum.csv", "w") as f:
    f.write("1,2\n3,x\n")
with open(out + "/ragged.csv", "w") as f:
    f.write("1,2\n3,4,5\n")
with open(out + "/nan.csv", "w") as f:  # NaN in a CSV value (row 3, column 1)
    f.write("x,y\n1,2\n3,4\n5,nan\n7,8\n")
EOF

# --- scenario helpers (run with the cwd the scenario's directory) --------------------------------
# use F...: copy fixtures (tests/fixtures/F) or prepared inputs (inputs/F) into the cwd
use() {
    for _f in "$@"; do
        if [ -e "$FIX/$_f" ]; then
            cp "$FIX/$_f" .
        else
            cp "$INP/$_f" .
        fi
    done
}
# r NP PROG ARGS...: one step, mpiexec -n NP under a timeout; exit code, stdout, stderr kept
r() {
    _np=$1
    shift
    STEP=$((STEP + 1))
    printf '%s\n' "np=$_np $*" >"$LOG/$STEP.cmd"
    _rc=0
    timeout -k 10 120 mpiexec -n "$_np" "$@" >"$LOG/$STEP.out" 2>"$LOG/$STEP.err" </dev/null || _rc=$?
    echo "$_rc" >"$LOG/$STEP.rc"
}
# x ARGS...: one step at the scenario's rank count
x() {
    r "$NP" "$@"
}

# --- the scenarios ---------------------------------------------------------------------------------
# Each sc_* function runs at rank count $NP; the list at the end names each (function, NP) pair.

# adkit-gen (tests/mpi/gen.sh)
GENARGS="blobs --n 1001 --d 5 --centers 4 --cluster-std 0.5,1,1.5,2 --center-box -3,7 --seed 7"
sc_gen_slab() { x adkit-gen $GENARGS --slab-rows 64 --out b.h5; }
sc_gen_oneslab() { x adkit-gen $GENARGS --quiet --out b.h5; }
sc_gen_tiny() { x adkit-gen blobs --n 3 --d 2 --centers 2 --seed 5 --quiet --out t.h5; }
sc_gen_defaults() { x adkit-gen blobs --out d.h5; }
sc_gen_f32() { x adkit-gen $GENARGS --dtype float32 --slab-rows 100 --out f.h5; }
sc_gen_centers_file() {
    use cen.h5
    x adkit-gen blobs --centers-file cen.h5:/c --n 500 --cluster-std 0.1 --quiet --out c.h5
}
sc_gen_force() {
    x adkit-gen $GENARGS --quiet --out b.h5
    x adkit-gen $GENARGS --out b.h5
    x adkit-gen $GENARGS --seed 8 --force --quiet --out b.h5
}
sc_gen_bad_a() {
    use cen.h5
    x adkit-gen moons --out bad.h5
    x adkit-gen blobs --n 10
    x adkit-gen blobs --n 0 --out bad.h5
    x adkit-gen blobs --d 0 --out bad.h5
    x adkit-gen blobs --centers 0 --out bad.h5
    x adkit-gen blobs --cluster-std 1,2 --out bad.h5
    x adkit-gen blobs --cluster-std 1,-1,1 --out bad.h5
    x adkit-gen blobs --cluster-std 1,,2 --out bad.h5
    x adkit-gen blobs --center-box 5,5 --out bad.h5
    x adkit-gen blobs --nn 5 --out bad.h5
}
sc_gen_bad_b() {
    use cen.h5
    x adkit-gen blobs --center-box 1 --out bad.h5
    x adkit-gen blobs --dtype int8 --out bad.h5
    x adkit-gen blobs --centers-file cen.h5:/c --d 4 --out bad.h5
    x adkit-gen blobs --centers-file none.h5:/c --out bad.h5
    x adkit-gen blobs --centers-file cen.h5:/flat --out bad.h5
    x adkit-gen blobs --centers-file cen.h5:/cube --out bad.h5
    x adkit-gen blobs --centers-file cen.h5:/nan --out bad.h5
    x adkit-gen blobs --centers-file cen.h5:/inf --out bad.h5
    x adkit-gen blobs --centers-file cen.h5:/c --cluster-std 1,2 --out bad.h5
    x adkit-gen blobs --out no-dir/x.h5
}

# adkit-kmeans (tests/mpi/kmeans.sh)
km_init() { # FIXTURE K ARGS...: scikit-learn's initial centroids from the fixture
    _fx=$1
    _k=$2
    shift 2
    use "kmeans/$_fx.h5"
    x adkit-kmeans --k "$_k" --init "$_fx.h5:/init" --out m.h5 --assign a.h5 "$@" "$_fx.h5:/data"
}
sc_km_iris() { km_init iris 3 --tol 0.0001 --max-iter 300; }
sc_km_digits() { km_init digits 10 --quiet; }
sc_km_digits_blas() { km_init digits 10 --quiet --kernel blas; }
sc_km_blobs_blas() { km_init blobs 5 --quiet --kernel blas; }
sc_km_blobs_tol0() { km_init blobs 5 --tol 0; }
sc_km_blobs_maxiter3() {
    km_init blobs 5 --max-iter 3
    x adkit-kmeans --k 5 --init blobs.h5:/init --max-iter 3 --require-convergence --out m4.h5 \
        blobs.h5:/data
}
sc_km_empty() { km_init empty 4; }
sc_km_kpp() {
    use kmeans/digits.h5
    x adkit-kmeans --k 10 --seed 3 --kernel auto --out m.h5 --assign a.h5 digits.h5:/data
}
sc_km_random() {
    use kmeans/blobs.h5
    x adkit-kmeans --quiet --k 5 --init random --n-init 3 --seed 5 --out m.h5 --assign a.h5 \
        blobs.h5:/data
}
sc_km_random_default_ninit() {
    use kmeans/iris.h5
    x adkit-kmeans --k 3 --init random --seed 2 --out m.h5 iris.h5:/data
}
sc_km_ninit() {
    use kmeans/iris.h5
    x adkit-kmeans --k 4 --n-init 4 --seed 9 --out m.h5 --assign a.h5 iris.h5
}
sc_km_csv() {
    use kmeans/iris.h5 iris_h.csv
    x adkit-kmeans --quiet --k 3 --init iris.h5:/init --out m.h5 --assign a.h5 iris_h.csv
}
sc_km_csv_label_col() {
    use score/blobs_data.csv
    x adkit-kmeans --k 3 --seed 1 --label-col label --out m.h5 --assign a.h5 blobs_data.csv
}
sc_km_tiny() {
    use tiny.csv
    x adkit-kmeans --quiet --k 2 --seed 1 --out m.h5 --assign a.h5 tiny.csv
}
sc_km_gen_f32() {
    x adkit-gen blobs --n 2000 --d 4 --centers 3 --seed 11 --dtype float32 --quiet --out g.h5
    x adkit-kmeans --k 3 --seed 0 --n-init 2 --out m.h5 --assign a.h5 g.h5:/data
}
sc_km_bad() {
    use bad.h5 nonnum.csv ragged.csv nan.csv kmeans/iris.h5
    x adkit-kmeans --out o.h5 missing.h5:/data
    x adkit-kmeans --out o.h5 bad.h5:/nope
    x adkit-kmeans --out o.h5 bad.h5:/flat
    x adkit-kmeans --out o.h5 --k 2 bad.h5:/nan
    x adkit-kmeans --out o.h5 bad.h5:/empty
    x adkit-kmeans --out o.h5 nonnum.csv
    x adkit-kmeans --out o.h5 ragged.csv
    x adkit-kmeans --out o.h5 --k 2 nan.csv
    x adkit-kmeans --k 0 --out o.h5 bad.h5:/good
    x adkit-kmeans --k 11 --out o.h5 bad.h5:/good
    x adkit-kmeans --k 3 --init bad.h5:/init3 --out o.h5 bad.h5:/good
    x adkit-kmeans --kk 3 --out o.h5 bad.h5:/good
    x adkit-kmeans --k 2 bad.h5:/good
    x adkit-kmeans --k two --out o.h5 bad.h5:/good
    x adkit-kmeans --k 2 --kernel foo --out o.h5 bad.h5:/good
    x adkit-kmeans --quiet --k 3 --out keep.h5 iris.h5:/data
    x adkit-kmeans --k 3 --out keep.h5 iris.h5:/data
}

# adkit-threshold (tests/mpi/threshold.sh): the model is updated in place, so it is an output
sc_thr_p99() {
    use threshold/blobs_assign.h5
    cp "$FIX/threshold/blobs_model.h5" m.h5
    x adkit-threshold --model m.h5 --assign blobs_assign.h5
}
sc_thr_data_p95() {
    use threshold/blobs_data.h5
    cp "$FIX/threshold/blobs_model.h5" m.h5
    x adkit-threshold --model m.h5 --per-cluster-percentile 95 blobs_data.h5:/data
}
sc_thr_ties_global95() {
    use threshold/ties_assign.h5
    cp "$FIX/threshold/ties_model.h5" m.h5
    x adkit-threshold --model m.h5 --assign ties_assign.h5 --global-percentile 95
}
sc_thr_tiny() {
    use threshold/tiny_assign.h5
    cp "$FIX/threshold/tiny_model.h5" m.h5
    x adkit-threshold --model m.h5 --assign tiny_assign.h5
}
sc_thr_sigma3() {
    use threshold/blobs_assign.h5
    cp "$FIX/threshold/blobs_model.h5" m.h5
    x adkit-threshold --model m.h5 --assign blobs_assign.h5 --sigma 3
}
sc_thr_global_sigma2() {
    use threshold/ties_assign.h5
    cp "$FIX/threshold/ties_model.h5" m.h5
    x adkit-threshold --model m.h5 --assign ties_assign.h5 --global-sigma 2
}
sc_thr_ties_p50_radix3_sigma0() {
    use threshold/ties_assign.h5
    cp "$FIX/threshold/ties_model.h5" m.h5
    cp "$FIX/threshold/ties_model.h5" m0.h5
    x adkit-threshold --quiet --model m.h5 --assign ties_assign.h5 --per-cluster-percentile 50 \
        --radix-bits 3
    x adkit-threshold --quiet --model m0.h5 --assign ties_assign.h5 --sigma 0
}
sc_thr_force() {
    use threshold/blobs_assign.h5
    cp "$FIX/threshold/blobs_model.h5" m.h5
    x adkit-threshold --quiet --model m.h5 --assign blobs_assign.h5
    x adkit-threshold --model m.h5 --assign blobs_assign.h5
    cp m.h5 m100.h5
    x adkit-threshold --quiet --force --model m.h5 --assign blobs_assign.h5 \
        --per-cluster-percentile 0
    x adkit-threshold --quiet --force --model m100.h5 --assign blobs_assign.h5 \
        --per-cluster-percentile=100
}
sc_thr_pipeline() {
    use threshold/blobs_data.h5
    x adkit-kmeans --quiet --k 3 --seed 1 --out km.h5 --assign ka.h5 blobs_data.h5:/data
    cp km.h5 km2.h5 2>/dev/null || true
    x adkit-threshold --model km.h5 --assign ka.h5
    x adkit-threshold --model km2.h5 blobs_data.h5:/data
}
sc_thr_csv_label_col() {
    use score/blobs_data.csv
    cp "$FIX/score/blobs_model.h5" m.h5
    x adkit-threshold --force --model m.h5 --global-sigma 1.5 --label-col label blobs_data.csv
}
sc_thr_bad() {
    T=threshold
    use $T/blobs_assign.h5 $T/blobs_data.h5 $T/bad_label.h5 $T/bad_length.h5 $T/bad_nan.h5 \
        $T/bad_negative.h5 $T/bad_model.h5 nan.csv
    cp "$FIX/threshold/blobs_model.h5" m.h5
    cp "$FIX/score/blobs_model.h5" has.h5
    x adkit-threshold --model m.h5 --assign bad_label.h5
    x adkit-threshold --model m.h5 blobs_data.h5:/wide
    x adkit-threshold --model has.h5 --assign blobs_assign.h5
    x adkit-threshold --model m.h5 --assign blobs_assign.h5 --per-cluster-percentile 101
    x adkit-threshold --model m.h5 --assign blobs_assign.h5 --global-percentile -1
    x adkit-threshold --model m.h5 --assign blobs_assign.h5 --sigma -2
    x adkit-threshold --model m.h5 --assign blobs_assign.h5 --sigma x
    x adkit-threshold --model m.h5 --assign blobs_assign.h5 --sigma 2 --global-percentile 95
    x adkit-threshold --assign blobs_assign.h5
    x adkit-threshold --model m.h5 --assign blobs_assign.h5 blobs_data.h5:/data
    x adkit-threshold --model m.h5
    x adkit-threshold --model m.h5 --assign bad_length.h5
    x adkit-threshold --model m.h5 --assign bad_nan.h5
    x adkit-threshold --model m.h5 --assign bad_negative.h5
    x adkit-threshold --model bad_model.h5 --assign blobs_assign.h5
    x adkit-threshold --model m.h5 --assign nothere.h5
    x adkit-threshold --model nomodel.h5 --assign blobs_assign.h5
    x adkit-threshold --model m.h5 --radix-bits 17 --assign blobs_assign.h5
    x adkit-threshold --model m.h5 nan.csv
}

# adkit-score (tests/mpi/score.sh)
sc_score_blobs() {
    use score/blobs_model.h5 score/blobs_data.h5
    x adkit-score --model blobs_model.h5 blobs_data.h5:/data --labels blobs_data.h5:/labels \
        --json s.json --out s.h5
}
sc_score_grid() {
    use score/grid_model.h5 score/grid_data.h5
    x adkit-score --quiet --model grid_model.h5 grid_data.h5:/data --labels grid_data.h5:/labels \
        --positive 3,2 --json s.json --out s.h5
}
sc_score_tiny() {
    use score/grid_model.h5 score/tiny_data.h5
    x adkit-score --model grid_model.h5 tiny_data.h5:/data --labels tiny_data.h5:/labels \
        --positive 2,3 --json s.json --out s.h5
}
sc_score_csv() {
    use score/blobs_model.h5 score/blobs_data.csv
    x adkit-score --model blobs_model.h5 blobs_data.csv --label-col label --json s.json --out s.h5
}
sc_score_nolabels() {
    use score/blobs_model.h5 score/blobs_data.h5
    x adkit-score --model blobs_model.h5 blobs_data.h5:/data --json s.json --out s.h5
}
sc_score_noanom() {
    use score/blobs_model.h5 score/blobs_data.h5
    x adkit-score --model blobs_model.h5 blobs_data.h5:/data --labels blobs_data.h5:/labels \
        --positive 7 --json s.json --out s.h5
}
sc_score_force() {
    use score/blobs_model.h5 score/blobs_data.h5
    x adkit-score --quiet --model blobs_model.h5 blobs_data.h5:/data --out s.h5
    x adkit-score --model blobs_model.h5 blobs_data.h5:/data --labels blobs_data.h5:/labels \
        --out s.h5
    x adkit-score --quiet --force --model blobs_model.h5 blobs_data.h5:/data \
        --labels blobs_data.h5:/labels --positive 0 --out s.h5
}
sc_score_bad() {
    S=score
    use $S/bad_model_wide.h5 $S/bad_model_nothr.h5 $S/bad_labels_short.h5 $S/blobs_model.h5 \
        $S/blobs_data.h5 nan.csv
    x adkit-score --model bad_model_wide.h5 blobs_data.h5:/data --out o.h5
    x adkit-score --model bad_model_nothr.h5 blobs_data.h5:/data --out o.h5
    x adkit-score --model blobs_model.h5 blobs_data.h5:/data --labels bad_labels_short.h5:/labels \
        --out o.h5
    x adkit-score --model blobs_model.h5 blobs_data.h5:/data --positive 1 --out o.h5
    x adkit-score --model blobs_model.h5 blobs_data.h5:/data --label-col 2 \
        --labels blobs_data.h5:/labels --out o.h5
    x adkit-score --model blobs_model.h5 blobs_data.h5:/data --labels blobs_data.h5:/labels \
        --positive 1.5 --out o.h5
    x adkit-score --model missing_model.h5 blobs_data.h5:/data --out o.h5
    : >exists.json
    x adkit-score --model blobs_model.h5 blobs_data.h5:/data --labels blobs_data.h5:/labels \
        --json exists.json --out o.h5
    x adkit-score --model blobs_model.h5 blobs_data.h5:/nope --out o.h5
    x adkit-score --model blobs_model.h5 --out o.h5
    x adkit-score --model blobs_model.h5 nan.csv --out o.h5
}

# adkit-metrics (tests/mpi/metrics.sh)
sc_metrics_blobs() {
    use metrics/blobs.h5
    x adkit-metrics --model blobs.h5 --assign blobs.h5 --json q.json blobs.h5:/data
}
sc_metrics_wide() {
    use metrics/wide.h5
    x adkit-metrics --model wide.h5 --assign wide.h5:/truth --json q.json wide.h5:/data
}
sc_metrics_edge() {
    use metrics/edge.h5
    x adkit-metrics --quiet --model edge.h5 --assign edge.h5 --json q.json edge.h5:/data
}
sc_metrics_sample() {
    use metrics/blobs.h5
    x adkit-metrics --model blobs.h5 --sample-size 200 --seed 7 --json q.json blobs.h5:/data
}
sc_metrics_csv_label_col() {
    use score/blobs_model.h5 score/blobs_data.csv
    x adkit-metrics --model blobs_model.h5 --label-col label --json q.json blobs_data.csv
}
sc_metrics_bad() {
    use metrics/blobs.h5 metrics/edge.h5
    x adkit-metrics --model blobs.h5 --assign blobs.h5:/badlabel --json bad.json blobs.h5:/data
    x adkit-metrics --model edge.h5 --assign blobs.h5 --json o.json edge.h5:/data
    x adkit-metrics --model edge.h5 --assign edge.h5:/single --json o.json edge.h5:/data
    x adkit-metrics --model edge.h5 --assign edge.h5 --sample-size 1 --json o.json edge.h5:/data
    x adkit-metrics --model edge.h5 --sample-size -3 --json o.json edge.h5:/data
    x adkit-metrics --model blobs.h5 --json o.json edge.h5:/data
    x adkit-metrics --model missing.h5 --json o.json edge.h5:/data
    x adkit-metrics --json o.json edge.h5:/data
    echo '{}' >e.json
    x adkit-metrics --model edge.h5 --json e.json edge.h5:/data
}

# adkit-elbow (tests/mpi/metrics.sh)
sc_elbow_blobs() {
    use metrics/blobs.h5
    x adkit-elbow --k-min 1 --k-max 8 --seed 0 --out curve.csv blobs.h5:/data
}
sc_elbow_random() {
    use kmeans/iris.h5
    x adkit-elbow --k-min 2 --k-max 6 --init random --n-init 2 --sensitivity 0.5 --out curve.csv \
        iris.h5:/data
}
sc_elbow_bad() {
    use metrics/edge.h5
    x adkit-elbow --quiet --k-min 2 --k-max 12 --out c.csv edge.h5:/data
    x adkit-elbow --quiet --k-min 0 --k-max 3 --out c.csv edge.h5:/data
    x adkit-elbow --quiet --init foo --k-max 3 --out c.csv edge.h5:/data
    x adkit-elbow --quiet --sensitivity -1 --out c.csv edge.h5:/data
    echo 'k,inertia' >e.csv
    x adkit-elbow --quiet --k-max 3 --out e.csv edge.h5:/data
    x adkit-elbow --quiet --k-max 3 --out c.csv missing.h5:/data
}

# adkit-gauss (tests/mpi/gauss.sh)
G=gauss
sc_gauss_diag_p() {
    use $G/train.h5 $G/val.h5 $G/test.h5
    x adkit-gauss fit train.h5 diag.h5
    x adkit-gauss select --labels val.h5:/labels --curve curve.csv diag.h5 val.h5:/data
    x adkit-gauss score --density --labels test.h5:/labels --json s.json diag.h5 test.h5 s.h5
}
sc_gauss_full_log() {
    use $G/train.h5 $G/val.h5 $G/test.h5
    x adkit-gauss fit --quiet --full train.h5:/data full.h5
    x adkit-gauss select --log --labels val.h5:/labels --curve curve.csv full.h5 val.h5:/data
    x adkit-gauss score --quiet --density --labels test.h5:/labels --json s.json full.h5 test.h5 \
        s.h5
}
sc_gauss_diag_log() {
    use $G/train.h5 $G/val.h5 $G/test.h5
    x adkit-gauss fit --quiet train.h5 diag.h5
    x adkit-gauss select --quiet --log --labels val.h5:/labels --curve curve.csv diag.h5 val.h5
    x adkit-gauss score --labels test.h5:/labels --json s.json diag.h5 test.h5 s.h5
}
sc_gauss_full_p() {
    use $G/train.h5 $G/val.h5 $G/test.h5
    x adkit-gauss fit --full train.h5 full.h5
    x adkit-gauss select --quiet --labels val.h5:/labels --curve curve.csv full.h5 val.h5
    x adkit-gauss score --quiet --labels test.h5:/labels full.h5 test.h5 s.h5
}
sc_gauss_digits() {
    use $G/digits_train.h5 $G/digits_val.h5
    x adkit-gauss fit digits_train.h5 dg.h5
    x adkit-gauss fit --min-var 0.25 digits_train.h5 dg.h5
    x adkit-gauss select --log --labels digits_val.h5:/labels dg.h5 digits_val.h5
    x adkit-gauss fit --full digits_train.h5 dgf.h5
    x adkit-gauss fit --full --ridge 0.5 digits_train.h5 dgr.h5
    x adkit-gauss select --quiet --log --labels digits_val.h5:/labels dgr.h5 digits_val.h5
}
sc_gauss_min_var_ridge() {
    use $G/train.h5 $G/val.h5
    x adkit-gauss fit --min-var 50 train.h5 mv.h5
    x adkit-gauss fit --full --ridge 0.125 train.h5 rg.h5
    x adkit-gauss select --labels val.h5:/labels rg.h5 val.h5
}
sc_gauss_tiny() {
    use $G/tiny.h5
    x adkit-gauss fit tiny.h5 t.h5
    x adkit-gauss select --labels tiny.h5:/labels t.h5 tiny.h5
}
sc_gauss_csv() {
    use $G/train.h5 $G/val.csv
    x adkit-gauss fit --quiet train.h5 diag.h5
    x adkit-gauss select --label-col label --curve curve.csv diag.h5 val.csv
}
sc_gauss_epsilon() {
    use $G/train.h5 $G/test.h5
    x adkit-gauss fit --quiet train.h5 diag.h5
    x adkit-gauss score --epsilon 9.5367431640625e-07 diag.h5 test.h5 eps.h5
}
sc_gauss_force() {
    use $G/train.h5 $G/val.h5
    x adkit-gauss fit --quiet train.h5 diag.h5
    x adkit-gauss select --quiet --labels val.h5:/labels diag.h5 val.h5
    x adkit-gauss select --labels val.h5:/labels --curve b.csv diag.h5 val.h5
    x adkit-gauss select --force --log --labels val.h5:/labels diag.h5 val.h5
    x adkit-gauss fit train.h5 diag.h5
}
sc_gauss_bad() {
    use $G/bad.h5 $G/model3.h5 $G/train.h5 $G/test.h5 $G/val.h5 nan.csv
    cp model3.h5 m3.h5
    x adkit-gauss select --labels bad.h5:/labels2 --curve b.csv m3.h5 bad.h5
    x adkit-gauss select --labels bad.h5:/labels9 --curve b.csv m3.h5 bad.h5
    x adkit-gauss fit bad.h5:/const c.h5
    x adkit-gauss fit --full bad.h5:/sum s.h5
    x adkit-gauss score --epsilon 0.1 m3.h5 test.h5 o.h5
    x adkit-gauss score m3.h5 bad.h5 o.h5
    x adkit-gauss score --epsilon 0.1 --labels bad.h5:/labels2 --json o.json model3.h5 bad.h5 o.h5
    x adkit-gauss fit --min-var -1 train.h5 n.h5
    x adkit-gauss select m3.h5 val.h5
    x adkit-gauss fitt train.h5 n.h5
    x adkit-gauss score --epsilon x m3.h5 test.h5 o.h5
    x adkit-gauss fit missing.h5 n.h5
    x adkit-gauss fit nan.csv n.h5
    x adkit-gauss
}

# --help and --version of every program (and of each adkit-gauss command)
sc_help_version() {
    for p in gen kmeans threshold score metrics elbow gauss; do
        x adkit-$p --help
        x adkit-$p --version
    done
    for c in fit select score; do
        x adkit-gauss $c --help
    done
}

# name function NP
SCENARIOS="
gen-slab64            sc_gen_slab                  1
gen-slab64            sc_gen_slab                  3
gen-oneslab           sc_gen_oneslab               3
gen-tiny              sc_gen_tiny                  3
gen-defaults          sc_gen_defaults              1
gen-float32           sc_gen_f32                   1
gen-float32           sc_gen_f32                   3
gen-centers-file      sc_gen_centers_file          1
gen-centers-file      sc_gen_centers_file          3
gen-force             sc_gen_force                 3
gen-bad-a             sc_gen_bad_a                 1
gen-bad-b             sc_gen_bad_b                 3
kmeans-iris-init      sc_km_iris                   1
kmeans-iris-init      sc_km_iris                   3
kmeans-digits-init    sc_km_digits                 1
kmeans-digits-init    sc_km_digits                 3
kmeans-digits-blas    sc_km_digits_blas            3
kmeans-blobs-blas     sc_km_blobs_blas             1
kmeans-blobs-tol0     sc_km_blobs_tol0             3
kmeans-blobs-maxiter3 sc_km_blobs_maxiter3         1
kmeans-empty-cluster  sc_km_empty                  1
kmeans-empty-cluster  sc_km_empty                  3
kmeans-kpp-auto       sc_km_kpp                    1
kmeans-kpp-auto       sc_km_kpp                    3
kmeans-random-ninit3  sc_km_random                 3
kmeans-random-ninit0  sc_km_random_default_ninit   1
kmeans-kpp-ninit4     sc_km_ninit                  1
kmeans-csv            sc_km_csv                    1
kmeans-csv            sc_km_csv                    3
kmeans-csv-label-col  sc_km_csv_label_col          3
kmeans-tiny           sc_km_tiny                   3
kmeans-gen-float32    sc_km_gen_f32                3
kmeans-bad            sc_km_bad                    1
kmeans-bad            sc_km_bad                    3
threshold-p99-assign  sc_thr_p99                   1
threshold-p99-assign  sc_thr_p99                   3
threshold-p95-data    sc_thr_data_p95              1
threshold-p95-data    sc_thr_data_p95              3
threshold-global-pct  sc_thr_ties_global95         3
threshold-tiny        sc_thr_tiny                  3
threshold-sigma       sc_thr_sigma3                1
threshold-global-sigma sc_thr_global_sigma2        3
threshold-radix-sigma0 sc_thr_ties_p50_radix3_sigma0 1
threshold-force       sc_thr_force                 3
threshold-pipeline    sc_thr_pipeline              3
threshold-csv-label-col sc_thr_csv_label_col       1
threshold-bad         sc_thr_bad                   1
threshold-bad         sc_thr_bad                   3
score-blobs           sc_score_blobs               1
score-blobs           sc_score_blobs               3
score-grid-ties       sc_score_grid                1
score-grid-ties       sc_score_grid                3
score-tiny            sc_score_tiny                3
score-csv-label-col   sc_score_csv                 1
score-csv-label-col   sc_score_csv                 3
score-nolabels        sc_score_nolabels            3
score-one-class       sc_score_noanom              3
score-force           sc_score_force               1
score-bad             sc_score_bad                 1
score-bad             sc_score_bad                 3
metrics-blobs         sc_metrics_blobs             1
metrics-blobs         sc_metrics_blobs             3
metrics-wide          sc_metrics_wide              3
metrics-edge          sc_metrics_edge              1
metrics-edge          sc_metrics_edge              3
metrics-sample        sc_metrics_sample            1
metrics-sample        sc_metrics_sample            3
metrics-csv-label-col sc_metrics_csv_label_col     3
metrics-bad           sc_metrics_bad               3
elbow-blobs           sc_elbow_blobs               1
elbow-blobs           sc_elbow_blobs               3
elbow-random          sc_elbow_random              3
elbow-bad             sc_elbow_bad                 3
gauss-diag-p          sc_gauss_diag_p              1
gauss-diag-p          sc_gauss_diag_p              3
gauss-full-log        sc_gauss_full_log            1
gauss-full-log        sc_gauss_full_log            3
gauss-diag-log        sc_gauss_diag_log            3
gauss-full-p          sc_gauss_full_p              1
gauss-digits          sc_gauss_digits              3
gauss-min-var-ridge   sc_gauss_min_var_ridge       1
gauss-tiny            sc_gauss_tiny                3
gauss-csv-label-col   sc_gauss_csv                 1
gauss-epsilon         sc_gauss_epsilon             3
gauss-force           sc_gauss_force               1
gauss-bad             sc_gauss_bad                 1
gauss-bad             sc_gauss_bad                 3
help-version          sc_help_version              1
"

# --- run every scenario with one build's programs --------------------------------------------------
# The scenario runs in $OUTDIR/run/NAME (the same absolute path for both sides), then moves to
# $OUTDIR/SIDE/NAME; its logs (N.cmd, N.rc, N.out, N.err per step) are in $OUTDIR/SIDE/NAME.log.
IDS=()
run_side() {
    _side=$1
    _bin=$2/apps
    mkdir -p "$OUTDIR/$_side" "$OUTDIR/run"
    while read -r _name _fn _np; do
        [ -n "$_name" ] || continue
        _id=$_name-np$_np
        if [ -n "$ONLY" ] && ! [[ $_id =~ $ONLY ]]; then
            continue
        fi
        [ "$_side" = old ] && IDS+=("$_id")
        LOG=$OUTDIR/$_side/$_id.log
        mkdir -p "$LOG" "$OUTDIR/run/$_id"
        STEP=0
        NP=$_np
        (cd "$OUTDIR/run/$_id" && PATH=$_bin:$BASE_PATH && "$_fn")
        mv "$OUTDIR/run/$_id" "$OUTDIR/$_side/$_id"
    done <<<"$SCENARIOS"
}

t0=$(date +%s)
run_side old "$BUILD_OLD"
t1=$(date +%s)
run_side new "$BUILD_NEW"
t2=$(date +%s)
rmdir "$OUTDIR/run"

# --- normalisation of stdout/stderr (and of commits in text files) ---------------------------------
# Exactly these fields are replaced, nothing else:
#  - times in seconds printed by the programs (each pattern anchored to its line's own format):
#    adkit-kmeans summary "fit T s" (stdout) and per-iteration progress "changed N  T s" (stderr,
#    also from adkit-elbow's fits), adkit-elbow "k = K: ..., T s", adkit-gen "in T s (generate T s,
#    write T s)", adkit-metrics "(exact|sample, N rows, T s)", adkit-threshold "rounds in all, T s"
#    and "exact sums: N allreduce rounds, T s", adkit-gauss select "read T s, density T s, sweep T s"
#  - each build's own commit (from its config.h) -> <commit>  (--version, JSON adkit_version)
#  - the PID in temporary output names "X.tmp-PID" -> X.tmp-<pid>, the PID in Open MPI's
#    "mpiexec noticed that process rank R with PID P ..." and the job id in "[[JOBID,1],R]"
#  - Open MPI's own notice blocks after a non-zero exit ("Primary job terminated normally, but 1
#    process returned..." and "mpiexec detected that one or more processes exited with non-zero
#    status..."): they name the first rank to exit, which varies from run to run; the exit code
#    itself is compared separately.
SED_TIMES='
s/^\(  inertia .*  converged [a-z]*  kernel [a-z0-9]*  fit \)[0-9][0-9]*\.[0-9]* s$/\1<T> s/
s/^\(run [0-9]* iter  *[0-9]*  inertia .*  shift .*  changed [0-9]*  \)[0-9][0-9]*\.[0-9]* s$/\1<T> s/
s/^\(k = [0-9]*: inertia .*, [0-9]* iterations\( (not converged)\)\{0,1\}, \)[0-9][0-9]*\.[0-9]* s$/\1<T> s/
s/^\(adkit-gen: wrote .* ranks in \)[0-9][0-9]*\.[0-9]* s (generate [0-9][0-9]*\.[0-9]* s, write [0-9][0-9]*\.[0-9]* s)$/\1<T> s (generate <T> s, write <T> s)/
s/^\(  silhouette  .*, [0-9]* rows, \)[0-9][0-9]*\.[0-9]* s)$/\1<T> s)/
s/^\(  selection: [0-9]* allreduce rounds, [0-9]* bytes per rank; [0-9]* rounds in all, \)[0-9][0-9]*\.[0-9]* s$/\1<T> s/
s/^\(  exact sums: [0-9]* allreduce rounds, \)[0-9][0-9]*\.[0-9]* s$/\1<T> s/
s/^\(select: [0-9]* ranks, max over ranks: read \)[0-9][0-9]*\.[0-9]* s, density [0-9][0-9]*\.[0-9]* s, sweep [0-9][0-9]*\.[0-9]* s$/\1<T> s, density <T> s, sweep <T> s/
s/\.tmp-[0-9][0-9]*/.tmp-<pid>/g
s/^\(mpiexec noticed that process rank [0-9]* with PID \)[0-9]*/\1<pid>/
s/\[\[[0-9]*,\([0-9]*\)\],\([0-9]*\)\]/[[<jobid>,\1],\2]/g
'
DASHES=--------------------------------------------------------------------------
drop_ompi_notices() {
    awk -v dash="$DASHES" '
        $0 == dash && !inblk { inblk = 1; drop = 0; nb = 0; buf[++nb] = $0; next }
        inblk {
            buf[++nb] = $0
            if (nb == 2 && ($0 ~ /^Primary job  *terminated normally, but [0-9]+ process(es)? returned$/ ||
                            $0 ~ /^mpiexec detected that one or more processes exited with non-zero status, thus causing$/))
                drop = 1
            if ($0 == dash && nb > 1) {
                if (!drop) for (i = 1; i <= nb; i++) print buf[i]
                inblk = 0
            }
            next
        }
        { print }
        END { if (inblk) for (i = 1; i <= nb; i++) print buf[i] }'
}
# norm FILE COMMIT: the normalised text on stdout
norm_log() {
    _c=$2
    if [ -n "$_c" ]; then
        sed -e "$SED_TIMES" -e "s/$_c/<commit>/g" "$1" | drop_ompi_notices
    else
        sed -e "$SED_TIMES" "$1" | drop_ompi_notices
    fi
}
norm_text() {
    if [ -n "$2" ]; then sed -e "s/$2/<commit>/g" "$1"; else cat "$1"; fi
}
is_hdf5() {
    [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 894844460d0a1a0a ]
}

# --- compare ---------------------------------------------------------------------------------------
REPORT=$OUTDIR/report.txt
H5LIST=$OUTDIR/h5pairs.tsv
: >"$H5LIST"
declare -A WHY
add_why() { # ID TEXT
    WHY[$1]="${WHY[$1]:+${WHY[$1]}; }$2"
}
N1=$OUTDIR/.n1
N2=$OUTDIR/.n2
for id in "${IDS[@]}"; do
    lo=$OUTDIR/old/$id.log
    ln=$OUTDIR/new/$id.log
    no=$(ls "$lo" | grep -c '\.rc$' || true)
    nn=$(ls "$ln" | grep -c '\.rc$' || true)
    [ "$no" = "$nn" ] || add_why "$id" "$no vs $nn steps"
    i=1
    while [ "$i" -le "$no" ] && [ "$i" -le "$nn" ]; do
        prog=$(cut -d' ' -f2 "$lo/$i.cmd")
        cmp -s "$lo/$i.cmd" "$ln/$i.cmd" || add_why "$id" "step $i: argv differs"
        rco=$(cat "$lo/$i.rc")
        rcn=$(cat "$ln/$i.rc")
        [ "$rco" = "$rcn" ] || add_why "$id" "step $i ($prog): exit code $rco vs $rcn"
        for s in out err; do
            norm_log "$lo/$i.$s" "$COMMIT_OLD" >"$N1"
            norm_log "$ln/$i.$s" "$COMMIT_NEW" >"$N2"
            if ! cmp -s "$N1" "$N2"; then
                d=$(diff "$N1" "$N2" | grep '^[<>]' | head -n 2 | tr '\n' ' ' | cut -c1-220)
                add_why "$id" "step $i ($prog): std$s differs: $d"
            fi
        done
        i=$((i + 1))
    done
    # the files left in the scenario directory (inputs too: adkit-threshold and adkit-gauss select
    # update files in place)
    (cd "$OUTDIR/old/$id" && find . -type f | sort) | sed 's/\.tmp-[0-9][0-9]*/.tmp-<pid>/' >"$N1"
    (cd "$OUTDIR/new/$id" && find . -type f | sort) | sed 's/\.tmp-[0-9][0-9]*/.tmp-<pid>/' >"$N2"
    if ! cmp -s "$N1" "$N2"; then
        d=$(diff "$N1" "$N2" | grep '^[<>]' | head -n 4 | tr '\n' ' ')
        add_why "$id" "files differ (< old, > new): $d"
    fi
    while read -r f; do
        a=$OUTDIR/old/$id/$f
        b=$OUTDIR/new/$id/$f
        [ -f "$a" ] && [ -f "$b" ] || continue
        if is_hdf5 "$a" || is_hdf5 "$b"; then
            printf '%s\t%s\t%s\n' "$id:${f#./}" "$a" "$b" >>"$H5LIST"
        else
            norm_text "$a" "$COMMIT_OLD" >"$N1"
            norm_text "$b" "$COMMIT_NEW" >"$N2"
            cmp -s "$N1" "$N2" || add_why "$id" "${f#./}: $(cmp "$N1" "$N2" 2>&1 | sed 's/^.* differ: //')"
        fi
    done < <(cd "$OUTDIR/old/$id" && find . -type f | sort)
done
rm -f "$N1" "$N2"

"$PY" "$H5SAME" --commits "$COMMIT_OLD" "$COMMIT_NEW" --list "$H5LIST" >"$OUTDIR/h5same.out" || true
nh5=0
while IFS=$'\t' read -r key verdict what; do
    nh5=$((nh5 + 1))
    if [ "$verdict" = DIFF ]; then
        add_why "${key%%:*}" "${key#*:}: $what"
    elif [ -n "$what" ]; then
        echo "note: ${key#*:} ($key): $what" >>"$OUTDIR/notes.txt"
    fi
done <"$OUTDIR/h5same.out"
[ "$nh5" = "$(wc -l <"$H5LIST")" ] || add_why "${IDS[0]}" "h5same.py did not report every HDF5 file"

# --- report ----------------------------------------------------------------------------------------
{
    echo "old: $BUILD_OLD (commit ${COMMIT_OLD:-unknown})"
    echo "new: $BUILD_NEW (commit ${COMMIT_NEW:-unknown})"
    echo "outputs: $OUTDIR"
} | tee "$REPORT"
nsame=0
ndiff=0
nsteps=0
for id in "${IDS[@]}"; do
    nsteps=$((nsteps + $(ls "$OUTDIR/old/$id.log" | grep -c '\.rc$' || true)))
    if [ -z "${WHY[$id]:-}" ]; then
        nsame=$((nsame + 1))
        printf '%-34s same\n' "$id"
        printf '%-34s same\n' "$id" >>"$REPORT"
    else
        ndiff=$((ndiff + 1))
        w=${WHY[$id]}
        printf '%-34s DIFF: %s\n' "$id" "$w" >>"$REPORT"
        [ ${#w} -le 400 ] || w="${w:0:400}... (all in report.txt)"
        printf '%-34s DIFF: %s\n' "$id" "$w"
    fi
done
[ ! -f "$OUTDIR/notes.txt" ] || sed 's/^/  /' "$OUTDIR/notes.txt" | sort -u | head -n 5
{
    echo "$nsteps program runs per build, $nh5 HDF5 files compared; old $((t1 - t0)) s, new $((t2 - t1)) s"
    echo "${#IDS[@]} scenarios, $nsame same, $ndiff different"
} | tee -a "$REPORT"
[ "$ndiff" = 0 ]
