#!/bin/sh
# The digits study (experiments/digits/run.sh), tested: like for like, adkit started from
# scikit-learn's centroids must give the false positives and false negatives of scikit-learn's
# recipe exactly, for the blobs and the 64-D digits and every threshold rule
# (tests/fixtures/make_study_fixtures.py), at every rank count.
. "$ADK_SRCDIR/tests/mpi/lib.sh"

SK=$FIX/study/sk.h5
DIG=$ADK_SRCDIR/experiments/data/digits.h5

# json_int FILE KEY: an integer value of the JSON summary
json_int() {
    sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([0-9]*\),*$/\1/p" "$1"
}

# like NAME NP K TRAIN TEST LABELS POSITIVE: fit from the fixture's centroids, every rule
like() {
    _n=$1 _np=$2 _k=$3 _train=$4 _test=$5 _lab=$6 _pos=$7
    _d=$WORK/$_n-np$_np
    mkdir -p "$_d"
    if ! run_np "$_np" "$BIN/adkit-kmeans" --quiet --k "$_k" --init "$SK:/$_n/centroids" \
        --out "$_d/m.h5" --assign "$_d/a.h5" "$_train" >"$_d/log" 2>&1; then
        notok "$_n np=$_np: fit from scikit-learn's centroids failed"
        comment_file "$_d/log"
        return
    fi
    for rule in per_cluster_p99:--per-cluster-percentile=99 global_p95:--global-percentile=95 \
        sigma3:--sigma=3; do
        _r=${rule%%:*}
        cp "$_d/m.h5" "$_d/m_$_r.h5"
        run_np "$_np" "$BIN/adkit-threshold" --quiet --model "$_d/m_$_r.h5" --assign "$_d/a.h5" \
            "${rule#*:}" >>"$_d/log" 2>&1 &&
            run_np "$_np" "$BIN/adkit-score" --quiet --model "$_d/m_$_r.h5" --labels "$_lab" \
                --positive "$_pos" --json "$_d/$_r.json" --out "$_d/s_$_r.h5" "$_test" >>"$_d/log" 2>&1
        _fp=$(json_int "$_d/$_r.json" fp)
        _fn=$(json_int "$_d/$_r.json" fn)
        _wfp=$("$H5CMP" attr "$SK" "/$_n" "${_r}_fp")
        _wfn=$("$H5CMP" attr "$SK" "/$_n" "${_r}_fn")
        if [ -n "$_fp" ] && [ "$_fp" = "$_wfp" ] && [ "$_fn" = "$_wfn" ]; then
            ok "$_n $_r np=$_np: FP $_fp, FN $_fn as scikit-learn's from the same centroids"
        else
            notok "$_n $_r np=$_np: FP ${_fp:-?} FN ${_fn:-?}, scikit-learn FP $_wfp FN $_wfn"
            comment_file "$_d/log"
        fi
    done
}

for np in $(ranks); do
    like blobs "$np" 3 "$SK:/blobs/train" "$SK:/blobs/test" "$SK:/blobs/test_labels" 1
    if run_np "$np" "$BIN/adkit-subset" --quiet --labels "$DIG:/labels" --keep-labels 2,3,4,5,6,7,8,9 \
        --out "$WORK/normal$np.h5" "$DIG" >"$WORK/e" 2>&1; then
        like digits "$np" 8 "$WORK/normal$np.h5" "$DIG" "$DIG:/labels" 0,1
    else
        notok "digits np=$np: the normal rows"
        comment_file "$WORK/e"
    fi
done
finish
