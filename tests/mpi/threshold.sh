#!/bin/sh
# adkit-threshold at every rank count: numpy fixtures (percentile rules bit for bit, sigma rules
# within 1e-12 and bitwise equal to 1 rank), from an assignment file and from the training data,
# empty and one-row clusters, more ranks than rows, --force, and every bad input (exit code, one
# message, the model left untouched, no hang).
. "$ADK_SRCDIR/tests/mpi/lib.sh"
TH=$BIN/adkit-threshold
FT=$FIX/threshold

# close_dsets F1 D1 F2 D2 RTOL: |a - b| <= RTOL |b| element by element; infinities must match
close_dsets() {
    "$H5CMP" dump "$1" "$2" >"$WORK/c1.txt" && "$H5CMP" dump "$3" "$4" >"$WORK/c2.txt" &&
        [ "$(wc -l <"$WORK/c1.txt")" = "$(wc -l <"$WORK/c2.txt")" ] &&
        paste -d ' ' "$WORK/c1.txt" "$WORK/c2.txt" | awk -v t="$5" '
        $1 == $2 { next }
        $1 ~ /inf|nan/ || $2 ~ /inf|nan/ { bad = 1; next }
        { d = $1 - $2; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2; if (d > t * m) bad = 1 }
        END { exit bad }'
}

# thr NP TAG MODEL ARGS...: copy MODEL to $WORK/TAG-NP.h5 and run adkit-threshold on it
thr() {
    _np=$1
    _m=$WORK/$2-$1.h5
    cp "$3" "$_m"
    shift 3
    run_np "$_np" "$TH" --model "$_m" "$@" >"$WORK/out" 2>"$WORK/err"
}

# exact NP TAG MODEL EXPECTED DSET ARGS...: run, then /thresholds bitwise equal to numpy's
exact() {
    _np=$1
    _tag=$2
    _mod=$3
    _exp=$4
    _ds=$5
    shift 5
    if thr "$_np" "$_tag" "$_mod" "$@"; then
        check "np=$_np $_tag: /thresholds equal numpy's $_ds bit for bit" \
            "$H5CMP" cmp "$WORK/$_tag-$_np.h5" /thresholds "$FT/$_exp" "$_ds"
    else
        notok "np=$_np $_tag: adkit-threshold failed"
        comment_file "$WORK/err"
    fi
}

# sigma NP TAG MODEL EXPECTED DSET ARGS...: within 1e-12 of numpy, bitwise equal to 1 rank
sigma() {
    _np=$1
    _tag=$2
    _mod=$3
    _exp=$4
    _ds=$5
    shift 5
    if thr "$_np" "$_tag" "$_mod" "$@"; then
        check "np=$_np $_tag: /thresholds within 1e-12 of numpy's $_ds" \
            close_dsets "$WORK/$_tag-$_np.h5" /thresholds "$FT/$_exp" "$_ds" 1e-12
        if [ "$_np" != "$R1" ] && [ -f "$WORK/$_tag-$R1.h5" ]; then
            check "np=$_np $_tag: bitwise equal to np=$R1" \
                same_dsets "$WORK/$_tag-$_np.h5" "$WORK/$_tag-$R1.h5" /thresholds
        fi
    else
        notok "np=$_np $_tag: adkit-threshold failed"
        comment_file "$WORK/err"
    fi
}

BM=$FT/blobs_model.h5
BA=$FT/blobs_assign.h5
TM=$FT/ties_model.h5
TA=$FT/ties_assign.h5
# nth_rank I: the rank count of the I-th single-run case, cycling through $(ranks)
nth_rank() {
    ranks | awk -v i="$1" '{ print $((i % NF) + 1) }'
}

for np in $(ranks); do
    # the reference recipe: per-cluster 99th percentile (the default rule) from an assignment
    exact "$np" p99 "$BM" blobs_expected.h5 /per-cluster-percentile_99 --quiet --assign "$BA"
    m=$WORK/p99-$np.h5
    check "np=$np p99: attributes method, q, n" test \
        "$(h5attr "$m" /thresholds method) $(h5attr "$m" /thresholds q) $(h5attr "$m" /thresholds n)" \
        = "per-cluster-percentile 99 250 201 151 0 1"
    check "np=$np p99: warns once about the empty and the one-row cluster" \
        test "$(grep -c 'warning: 1 cluster(s) without training rows' "$WORK/err")" = 1
    # from the training data (assigned with the model): the same distances as numpy's
    exact "$np" data "$BM" blobs_expected.h5 /per-cluster-percentile_95 --quiet \
        --per-cluster-percentile 95 "$FT/blobs_data.h5:/data"
    exact "$np" tg95 "$TM" ties_expected.h5 /global-percentile_95 --quiet --assign "$TA" \
        --global-percentile 95
    exact "$np" tiny "$FT/tiny_model.h5" tiny_expected.h5 /per-cluster-percentile_99 --quiet \
        --assign "$FT/tiny_assign.h5" # more ranks than rows
    sigma "$np" s3 "$BM" blobs_expected.h5 /sigma_3 --quiet --assign "$BA" --sigma 3
    sigma "$np" tgs2 "$TM" ties_expected.h5 /global-sigma_2 --quiet --assign "$TA" --global-sigma 2
done
# Q = 0 and 100 with --force over existing thresholds, ties, another radix width: one rank count
# each (the unit suites run every rule and edge case at every rank count)
cp "$WORK/p99-$R1.h5" "$WORK/has.h5"
exact "$(nth_rank 1)" p0 "$WORK/has.h5" blobs_expected.h5 /per-cluster-percentile_0 --quiet \
    --force --assign "$BA" --per-cluster-percentile 0
exact "$(nth_rank 2)" p100 "$WORK/has.h5" blobs_expected.h5 /per-cluster-percentile_100 \
    --quiet --force --assign "$BA" --per-cluster-percentile=100
exact "$(nth_rank 3)" tp50 "$TM" ties_expected.h5 /per-cluster-percentile_50 --quiet \
    --assign "$TA" --per-cluster-percentile 50 --radix-bits 3
sigma "$(nth_rank 0)" ts0 "$TM" ties_expected.h5 /sigma_0 --quiet --assign "$TA" --sigma 0

# The pipeline: adkit-kmeans --assign, then thresholds from that file and from the data agree
np=$(nth_rank 2)
if run_np "$np" "$BIN/adkit-kmeans" --quiet --k 3 --seed 1 --out "$WORK/km.h5" \
    --assign "$WORK/ka.h5" "$FT/blobs_data.h5:/data" >"$WORK/out" 2>&1 &&
    thr "$(nth_rank 3)" kma "$WORK/km.h5" --quiet --assign "$WORK/ka.h5" &&
    thr "$np" kmd "$WORK/km.h5" --quiet "$FT/blobs_data.h5:/data"; then
    check "adkit-kmeans --assign file and the data give the same /thresholds" \
        same_dsets "$WORK/kma-$(nth_rank 3).h5" "$WORK/kmd-$np.h5" /thresholds
else
    notok "adkit-kmeans then adkit-threshold failed"
    comment_file "$WORK/out"
    comment_file "$WORK/err"
fi

# Bad input: exit code, one message from rank 0, no hang, the model untouched, no temporary file.
M=$WORK/m.h5
cp "$BM" "$M"
for np in $(ranks); do # found on one rank only, or after collective reads
    expect_fail "$np" 2 "row 13: cluster 7 is not in \[0, 5)" - -- "$TH" --model "$M" \
        --assign "$FT/bad_label.h5"
    expect_fail "$np" 2 "has 3 columns but the model" - -- "$TH" --model "$M" \
        "$FT/blobs_data.h5:/wide"
done
expect_fail "$(nth_rank 0)" 3 "already has /thresholds; use --force" - -- "$TH" \
    --model "$WORK/has.h5" --assign "$BA"
expect_fail "$(nth_rank 1)" 1 "Q = 101 is outside \[0, 100\]" - -- "$TH" --model "$M" \
    --assign "$BA" --per-cluster-percentile 101
expect_fail "$(nth_rank 2)" 1 "Q = -1 is outside" - -- "$TH" --model "$M" --assign "$BA" \
    --global-percentile -1
expect_fail "$(nth_rank 1)" 1 "--radix-bits: 0 is not in \[1, 16\]" - -- "$TH" --model "$M" \
    --assign "$BA" --radix-bits 0
expect_fail "$(nth_rank 3)" 1 "N = -2 must be" - -- "$TH" --model "$M" --assign "$BA" --sigma -2
expect_fail "$(nth_rank 0)" 1 "sigma: 'x' is not" - -- "$TH" --model "$M" --assign "$BA" \
    --sigma x
expect_fail "$(nth_rank 1)" 1 "give only one of" - -- "$TH" --model "$M" --assign "$BA" \
    --sigma 2 --global-percentile 95
expect_fail "$(nth_rank 2)" 1 "--model M.h5 is required" - -- "$TH" --assign "$BA"
expect_fail "$(nth_rank 3)" 1 "exactly one of them" - -- "$TH" --model "$M" --assign "$BA" \
    "$FT/blobs_data.h5:/data"
expect_fail "$(nth_rank 0)" 1 "exactly one of them" - -- "$TH" --model "$M"
expect_fail "$(nth_rank 1)" 2 "/cluster has 20 rows but /distance has 19" - -- "$TH" \
    --model "$M" --assign "$FT/bad_length.h5"
expect_fail "$(nth_rank 2)" 2 "row 17: distance is NaN" - -- "$TH" --model "$M" \
    --assign "$FT/bad_nan.h5"
expect_fail "$(nth_rank 3)" 2 "row 5: distance -0.5" - -- "$TH" --model "$M" \
    --assign "$FT/bad_negative.h5"
expect_fail "$(nth_rank 0)" 2 "centroids" - -- "$TH" --model "$FT/bad_model.h5" --assign "$BA"
expect_fail "$(nth_rank 1)" 3 "nothere.h5" - -- "$TH" --model "$M" --assign "$WORK/nothere.h5"
expect_fail "$(nth_rank 2)" 3 "nomodel.h5" - -- "$TH" --model "$WORK/nomodel.h5" --assign "$BA"
check "after the failures: the models are untouched and no temporary file is left" sh -c \
    "cmp -s '$M' '$BM' && cmp -s '$WORK/has.h5' '$WORK/p99-$R1.h5' &&
     ! ls '$M'.tmp-* '$WORK'/has.h5.tmp-* >/dev/null 2>&1"
finish
