#!/bin/sh
# The digits study (experiments/digits/run.sh), tested: like for like, adkit started from
# scikit-learn's centroids must give the false positives and false negatives of scikit-learn's
# recipe exactly, for the blobs and the 64-D digits and every threshold rule
# (tests/fixtures/make_study_fixtures.py), at every rank count. Then the study itself, one seed,
# without the scikit-learn side, at the first and last rank counts: the same tables (bar the
# seconds), and every figure a PNG of the size its script draws. (Not under the sanitizers: two
# hundred MPI launches there take too long; the programs are tested there one by one.)
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

[ "${ADK_SANITIZED:-0}" = 1 ] && finish
first=$(echo $(ranks) | cut -d' ' -f1)
last=$(echo $(ranks) | awk '{print $NF}')
for np in $first $last; do
    if SEEDS=0 NP=$np SKLEARN=0 ADK_BUILD=$ADK_BUILDDIR timeout 600 \
        "$ADK_SRCDIR/experiments/digits/run.sh" "$WORK/study$np" >"$WORK/study$np.log" 2>&1; then
        ok "the study, seed 0, on $np ranks"
    else
        notok "the study, seed 0, on $np ranks"
        tail -n 20 "$WORK/study$np.log" | sed 's/^/# /'
    fi
done
# the tables without the seconds and the rank count in their headings
tables() {
    sed -e '/^### Seconds/,$d' -e 's/on [0-9]* MPI ranks/on N MPI ranks/' "$1/work/results.md"
}
if tables "$WORK/study$first" >"$WORK/t1" && tables "$WORK/study$last" >"$WORK/t2" &&
    [ -s "$WORK/t1" ] && cmp -s "$WORK/t1" "$WORK/t2"; then
    ok "the study's tables are the same on $first and $last ranks"
else
    notok "the study's tables differ between $first and $last ranks"
    diff "$WORK/t1" "$WORK/t2" | head -n 20 | sed 's/^/# /'
fi
check "the table has every experiment and says scikit-learn was not run" sh -c "
    t='$WORK/study$first/work/results.md'
    for row in '1 blobs' '2 digits 64-D' 't-SNE' 'PCA' 'kNN' 'Gaussian'; do grep -q \"\$row\" \"\$t\" || exit 1; done
    grep -q 'not run' \"\$t\""
# png FILE W H: a PNG signature and an IHDR of W x H pixels
png() {
    [ "$(od -An -tx1 -N8 "$1" | tr -d ' ')" = 89504e470d0a1a0a ] &&
        [ "$(od -An -tu1 -j16 -N8 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8}')" = "$2 $3" ]
}
for f in blobs:660:550 centroids:880:440 elbow:660:440 gauss_f1:1100:440 quality:990:396 \
    tsne_circles:715:605 tsne_digits:715:605; do
    n=${f%%:*} wh=${f#*:}
    check "figure $n.png: a PNG of ${wh%:*} x ${wh#*:}" png "$WORK/study$first/$n.png" "${wh%:*}" "${wh#*:}"
done
check "REPORT.md names every figure" sh -c "
    for n in blobs centroids elbow gauss_f1 quality tsne_circles tsne_digits; do
        grep -q \"\$n.png\" '$WORK/study$first/REPORT.md' || exit 1; done"
finish
