#!/bin/bash
# The digits study: the k-means anomaly detection notebook's experiments rerun with adkit's
# programs on NP MPI ranks over several seeds, beside scikit-learn, with a results table,
# figures and a report.
#
#   experiments/digits/run.sh [OUTDIR]            (default OUTDIR: out/digits)
#
# Environment: NP (ranks, default 2), SEEDS (default "0 1 2 3 4 5 6 7 8 9"), ADK_BUILD (build
# tree with apps/, default build/), SKLEARN=auto|0|1 (auto: run the scikit-learn side when
# /usr/bin/python3 can import sklearn; 0: the table says "not run"), ELBOW_NINIT (k-means runs per
# K of the elbow curve, default 10), PYTHON3 (default /usr/bin/python3), ADK_STUDY_WORK (folder
# of the programs' outputs, logs, commands.txt and times.tsv; default OUTDIR/work, or
# out/digits-work when OUTDIR is experiments/results/digits, so that only REPORT.md and the PNG
# figures land there).
#
# Experiments (README.md in this folder has the details):
#   1 blobs      300 normal points (3 centres), k-means K=3 on them, per-cluster 99th percentile,
#                scored on the 300 normal + 300 anomalous points
#   2 digits     8x8 digits, 2-9 normal, 0 and 1 anomalous; K=8 on the 1437 normal rows; per-cluster
#                99th percentile, global 95th percentile, per-cluster mean + 3 sd; scored on 1797 rows
#   3 t-SNE      t-SNE of all 1797 rows (random init, seed), then as 2 on the embedding; PCA to
#                2-D and the kNN distance score (k=5) as comparison rows
#   4 Gaussian   seeded split (adkit-subset) of the normal rows 60/20/20 into train/val/test, the
#                anomalies half to val, half to test; per-feature Gaussian (64-D: variances floored
#                at 0.25, log-density sweep; t-SNE: density sweep); epsilon by the F1 sweep on val
#   elbow        K = 2..20 on the normal digits (first seed), Kneedle's choice; silhouette and
#                Davies-Bouldin of every fitted model (adkit-metrics)
# Every number in the table comes from the C programs' JSON/HDF5/CSV outputs; Python only runs the
# scikit-learn side, prints the table, draws the figures and writes the report.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export ADK_BUILD=${ADK_BUILD:-$ROOT/build}
case $ADK_BUILD in /*) ;; *) ADK_BUILD=$ROOT/$ADK_BUILD ;; esac
PY=${PYTHON3:-/usr/bin/python3}
NP=${NP:-2}
SEEDS=${SEEDS:-0 1 2 3 4 5 6 7 8 9}
SKLEARN=${SKLEARN:-auto}
ELBOW_NINIT=${ELBOW_NINIT:-10}
OUT=${1:-$ROOT/out/digits}
case $OUT in /*) ;; *) OUT=$(pwd)/$OUT ;; esac
# shellcheck source=/dev/null
. "$ROOT/scripts/adk-env.sh"
HERE=$ROOT/experiments/digits
DIG=$ROOT/experiments/data/digits.h5
BLOBS=$ROOT/experiments/data/blobs.h5
ANOM=$HERE/digits_anomaly.h5
NORMAL_DIGITS=2,3,4,5,6,7,8,9
B=$ADK_BUILD/apps
for p in "" -kmeans -threshold -score -metrics -elbow -tsne -pca -knn -gauss -subset; do
    [ -x "$B/adkit$p" ] || { echo "run.sh: $B/adkit$p is missing (build first)" >&2; exit 1; }
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
if [ "$OUT" = "$(cd "$ROOT/experiments/results" 2>/dev/null && pwd -P)/digits" ]; then
    W=${ADK_STUDY_WORK:-$ROOT/out/digits-work}
else
    W=${ADK_STUDY_WORK:-$OUT/work}
fi
rm -rf "$W"
mkdir -p "$W/common"
: >"$W/commands.txt"
printf 'step\tseed\tseconds\n' >"$W/times.tsv"

now() { date +%s.%N; }
# The steps of one block (the common steps, then each seed) go into a steps file that `adkit run`
# runs as one MPI job: one MPI start per block instead of one per step (about 0.15 s each here).
# step NAME SEED PROG ARGS...: add adkit-PROG ARGS (with --quiet --force) to the block, counted in
# NAME's time.
step() {
    local name=$1 seed=$2 prog=$3 a line
    shift 3
    line="adkit-$prog"
    if [ "$prog" = gauss ]; then # the subcommand comes before the options
        line="$line $1"
        shift
    fi
    line="$line --quiet --force"
    for a in "$@"; do # a word with other characters is single-quoted (taken literally)
        case $a in
        *"'"*)
            echo "run.sh: a quote in '$a'" >&2
            exit 1
            ;;
        "" | *[!A-Za-z0-9_./:,=+-]*) line="$line '$a'" ;;
        *) line="$line $a" ;;
        esac
    done
    echo "$line" >>"$STEPS"
    printf '%s\t%s\n' "$name" "$seed" >>"$STEPS.names"
    echo "$line" >>"$W/commands.txt"
}
# block DIR: start a block whose steps file is DIR/steps.txt
block() {
    STEPS=$1/steps.txt
    : >"$STEPS"
    : >"$STEPS.names"
}
# run_block SEED: run the block's steps as one MPI job; add each step's seconds to times.tsv, and
# the rest of the job's wall time (MPI start and end) as "start".
run_block() {
    local t0 t1 steps_sum
    echo "mpiexec -n $NP adkit run --times ${STEPS%.txt}.times.tsv $STEPS" >>"$W/commands.txt"
    t0=$(now)
    mpiexec -n "$NP" "$B/adkit" run --force --times "${STEPS%.txt}.times.tsv" "$STEPS" \
        >>"$LOG" 2>&1 || {
        echo "run.sh: a step of $STEPS failed; see $LOG" >&2
        tail -5 "$LOG" >&2
        exit 1
    }
    t1=$(now)
    tail -n +2 "${STEPS%.txt}.times.tsv" | cut -f3 | paste "$STEPS.names" - >>"$W/times.tsv"
    steps_sum=$(tail -n +2 "${STEPS%.txt}.times.tsv" | awk -F'\t' '{ s += $3 } END { print s }')
    printf 'start\t%s\t%s\n' "$1" "$(awk "BEGIN{print $t1 - $t0 - $steps_sum}")" >>"$W/times.tsv"
}
# kmeans-anomaly NAME DIR K SEED TRAIN TEST TESTLABELS POSITIVE [extra rules]: k-means on TRAIN,
# per-cluster 99th percentile (model.h5), optionally global 95th (model_g95.h5) and per-cluster
# mean + 3 sd (model_s3.h5); score.json etc. on TEST; cluster quality of the training rows.
kmeans_anomaly() {
    local name=$1 d=$2 k=$3 s=$4 train=$5 test=$6 tl=$7 pos=$8 rules=${9:-p99}
    mkdir -p "$d"
    step "$name" "$s" kmeans --k "$k" --n-init 10 --seed "$s" --out "$d/model.h5" \
        --assign "$d/assign.h5" "$train"
    for r in $rules; do # p99 into model.h5, the others into copies of it (--out)
        case $r in
        p99) m=model opt="--per-cluster-percentile 99" ;;
        g95) m=model_g95 opt="--global-percentile 95 --out $d/model_g95.h5" ;;
        s3) m=model_s3 opt="--sigma 3 --out $d/model_s3.h5" ;;
        esac
        # shellcheck disable=SC2086
        step "$name" "$s" threshold --model "$d/model.h5" --assign "$d/assign.h5" $opt
        step "$name" "$s" score --model "$d/$m.h5" --out "$d/score_$m.h5" --labels "$tl" \
            --positive "$pos" --json "$d/score_$m.json" "$test"
    done
    step metrics "$s" metrics --model "$d/model.h5" --assign "$d/assign.h5" \
        --json "$d/metrics.json" "$train"
}
# gauss NAME DIR SEED INPUT FITOPTS SELECTOPTS: seeded split of INPUT (0/1 labels of $ANOM),
# fit on train, epsilon on val, score on test.
gauss() {
    local name=$1 d=$2 s=$3 in=$4 fitopt=$5 selopt=$6 part
    mkdir -p "$d"
    for part in train val test; do
        step "$name" "$s" subset --labels "$ANOM:/labels" --split "$part" --split-seed "$s" \
            --split-fractions 0.6,0.2 --anomaly-labels 1 --out "$d/$part.h5" "$in"
    done
    # shellcheck disable=SC2086
    step "$name" "$s" gauss fit $fitopt "$d/train.h5:/data" "$d/model.h5"
    # shellcheck disable=SC2086
    step "$name" "$s" gauss select $selopt --labels "$d/val.h5:/labels" --curve "$d/curve.csv" \
        "$d/model.h5" "$d/val.h5:/data"
    step "$name" "$s" gauss score --labels "$d/test.h5:/labels" --json "$d/score.json" \
        "$d/model.h5" "$d/test.h5:/data" "$d/scores.h5"
}

T_START=$(now)
echo "digits study: adkit on $NP ranks, seeds $SEEDS -> $OUT" >&2
# seed-independent inputs: the normal digits, their PCA projection, the kNN score, the elbow
C=$W/common
LOG=$C/log.txt
block "$C"
step prepare - subset --labels "$DIG:/labels" --keep-labels "$NORMAL_DIGITS" --out "$C/normal.h5" \
    "$DIG:/data"
step pca - pca --n-components 2 --out "$C/pca.h5" "$DIG:/data"
step pca - subset --labels "$DIG:/labels" --keep-labels "$NORMAL_DIGITS" --out "$C/pca_normal.h5" \
    "$C/pca.h5:/projection"
step knn - knn --k 5 --reference "$C/normal.h5:/data" --labels "$DIG:/labels" --positive 0,1 \
    --out "$C/knn.h5" --json "$C/knn.json" "$DIG:/data"
# shellcheck disable=SC2086
set -- $SEEDS
step elbow "$1" elbow --k-min 2 --k-max 20 --n-init "$ELBOW_NINIT" --seed "$1" \
    --out "$C/elbow.csv" "$C/normal.h5:/data"
run_block -

for s in $SEEDS; do
    echo "  seed $s" >&2
    S=$W/seed$s
    mkdir -p "$S"
    LOG=$S/log.txt
    block "$S"
    kmeans_anomaly blobs "$S/blobs" 3 "$s" "$BLOBS:/normal" "$BLOBS:/test" "$BLOBS:/test_labels" 1
    kmeans_anomaly digits64 "$S/digits" 8 "$s" "$C/normal.h5:/data" "$DIG:/data" \
        "$DIG:/labels" 0,1 "p99 g95 s3"
    mkdir -p "$S/tsne"
    step tsne "$s" tsne --seed "$s" --init random --labels "$DIG:/labels" --out "$S/tsne/emb.h5" \
        "$DIG:/data"
    step tsne "$s" subset --labels "$S/tsne/emb.h5:/labels" --keep-labels "$NORMAL_DIGITS" \
        --out "$S/tsne/normal.h5" "$S/tsne/emb.h5:/embedding"
    kmeans_anomaly tsne "$S/tsne" 8 "$s" "$S/tsne/normal.h5:/data" "$S/tsne/emb.h5:/embedding" \
        "$S/tsne/emb.h5:/labels" 0,1
    kmeans_anomaly pca "$S/pca" 8 "$s" "$C/pca_normal.h5:/data" "$C/pca.h5:/projection" \
        "$DIG:/labels" 0,1
    gauss gauss64 "$S/gauss64" "$s" "$DIG:/data" "--min-var 0.25" "--log"
    gauss gausstsne "$S/gausstsne" "$s" "$S/tsne/emb.h5:/embedding" "" ""
    run_block "$s"
done
T_ADKIT=$(awk "BEGIN{print $(now) - $T_START}")
printf 'adkit total\t-\t%s\n' "$T_ADKIT" >>"$W/times.tsv"
echo "adkit's part: $T_ADKIT s" >&2

case $SKLEARN in
auto) if "$PY" -c 'import sklearn' 2>/dev/null; then SKLEARN=1; else SKLEARN=0; fi ;;
esac
rm -f "$W/sklearn.json"
if [ "$SKLEARN" = 1 ]; then
    echo "scikit-learn side ..." >&2
    t0=$(now)
    # shellcheck disable=SC2086
    "$PY" "$HERE/sklearn_side.py" "$W" "$W/sklearn.json" $SEEDS
    printf 'scikit-learn total\t-\t%s\n' "$(awk "BEGIN{print $(now) - $t0}")" >>"$W/times.tsv"
fi
# shellcheck disable=SC2086
"$PY" "$HERE/table.py" "$W" "$NP" $SEEDS >"$W/results.md"
"$PY" "$HERE/figures.py" "$W" "$OUT" "$1"
# shellcheck disable=SC2086
"$PY" "$HERE/report.py" "$W" "$OUT" "$NP" $SEEDS
cat "$W/results.md"
echo "report: $OUT/REPORT.md" >&2
