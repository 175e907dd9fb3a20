#!/bin/sh
# Integration tests of adkit-knn: the neighbour lists, distances and both scores against numpy's
# brute force (tests/fixtures/make_knn_fixtures.py: ties broken by the lower row, self excluded)
# on data full of exact ties (a small integer grid, the digits) and on float blobs, at every rank
# count and the same bits at all of them; the evaluation against labels (ROC AUC and average
# precision as scikit-learn computes them, the F1 sweep, a given threshold); bad input.
. "$ADK_SRCDIR/tests/mpi/lib.sh"

K=$BIN/adkit-knn
F=$FIX/knn
SAN=${ADK_SANITIZED:-0} # make sets it: 1 in the sanitizer build

# knn_case NAME K SCORE: every rank count against the fixture, and the same bits as on $R1 ranks.
knn_case() {
    _name=$1
    _k=$2
    _score=$3
    for np in $(ranks); do
        _o=$WORK/$_name-k$_k-$_score-np$np.h5
        if ! run_np "$np" "$K" --quiet --k "$_k" --score "$_score" --out "$_o" "$F/$_name.h5" \
            >"$WORK/o" 2>"$WORK/e"; then
            notok "$_name k=$_k $_score np=$np: run failed"
            comment_file "$WORK/e"
            continue
        fi
        _ref=score_kth
        [ "$_score" = mean ] && _ref=score_mean
        _tol=0
        [ "$_name" = blobs ] && _tol=1e-12
        if "$H5CMP" cmp "$_o" /knn_index "$F/$_name.h5" "/k$_k/knn_index" &&
            "$H5CMP" cmp --rtol "$_tol" "$_o" /knn_distance "$F/$_name.h5" "/k$_k/knn_distance" &&
            "$H5CMP" cmp --rtol "$_tol" "$_o" /score "$F/$_name.h5" "/k$_k/$_ref" >"$WORK/c" 2>&1; then
            ok "$_name k=$_k $_score np=$np: lists, distances and scores = numpy brute force"
        else
            notok "$_name k=$_k $_score np=$np: differs from numpy brute force"
            comment_file "$WORK/c"
        fi
        if [ "$np" != "$R1" ]; then
            check "$_name k=$_k $_score np=$np: the same bits as on $R1 ranks" \
                same_dsets "$_o" "$WORK/$_name-k$_k-$_score-np$R1.h5" /knn_index /knn_distance /score
        fi
    done
}

knn_case ties 1 kth
knn_case ties 10 mean
knn_case tiny 4 kth
knn_case blobs 5 mean
[ "$SAN" = 0 ] && knn_case digits 10 kth

# Evaluation against labels: the digits 0 and 1 as anomalies (as in the digits study).
D=$F/digits.h5
if [ "$SAN" = 1 ]; then
    D=$F/blobs.h5
fi
for np in $(ranks); do
    o=$WORK/ev$np.h5
    j=$WORK/ev$np.json
    if ! run_np "$np" "$K" --k 10 --labels "$D:/labels" --positive 0,1 --out "$o" --json "$j" "$D" \
        >"$WORK/ev$np.out" 2>"$WORK/e"; then
        notok "evaluation np=$np: run failed"
        comment_file "$WORK/e"
        continue
    fi
    if [ "$np" = "$R1" ]; then
        # scikit-learn's roc_auc_score / average_precision_score of the fixture's score, and the
        # F1 sweep of the Gaussian recipe written out in numpy: the JSON must agree
        if "$ADK_PYTHON3" - "$D" "$j" "$o" >"$WORK/py" 2>&1 <<'PYEOF'; then
import json, sys
import h5py, numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
f = h5py.File(sys.argv[1], "r")
# adkit's own scores (checked against numpy's within 1e-12 above): the sweep's candidates
# depend on the exact minimum and maximum
s = h5py.File(sys.argv[3], "r")["score"][:]
assert np.allclose(s, f["k10/score_kth"][:], rtol=1e-12, atol=0)
y = np.isin(f["labels"][:], [0, 1]).astype(int)
got = json.load(open(sys.argv[2]))
best_f1, best_eps = 0.0, 0.0
for eps in np.linspace(s.min(), s.max(), 1000):
    p = s > eps
    tp = int(np.sum(p & (y == 1))); fp = int(np.sum(p & (y == 0))); fn = int(np.sum(~p & (y == 1)))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    if f1 > best_f1:
        best_f1, best_eps = f1, eps
flag = h5py.File(sys.argv[3], "r")["anomaly"][:]
checks = [
    ("roc_auc", abs(got["roc_auc"] - roc_auc_score(y, s)) <= 1e-12),
    ("average_precision", abs(got["average_precision"] - average_precision_score(y, s)) <= 1e-12),
    ("epsilon", got["epsilon"] == best_eps),
    ("f1", abs(got["f1"] - best_f1) <= 1e-12),
    ("flags", int(flag.sum()) == int(np.sum(s > best_eps)) == got["n_flagged"]),
    ("n_positive", got["n_positive"] == int(y.sum())),
]
bad = [n for n, good in checks if not good]
print("got", got, "bad", bad)
sys.exit(1 if bad else 0)
PYEOF
            ok "evaluation np=$np: AUC, AP, F1 sweep and flags = scikit-learn / numpy"
        else
            notok "evaluation np=$np: differs from scikit-learn / numpy"
            comment_file "$WORK/py"
        fi
    else
        check "evaluation np=$np: outputs and JSON the same as on $R1 ranks" \
            sh -c "'$H5CMP' cmp '$o' /anomaly '$WORK/ev$R1.h5' /anomaly &&
                   '$H5CMP' cmp '$o' /score '$WORK/ev$R1.h5' /score &&
                   sed 's/\"mpi_ranks\":[[:space:]]*[0-9]*//' '$j' >'$WORK/a.json' &&
                   sed 's/\"mpi_ranks\":[[:space:]]*[0-9]*//' '$WORK/ev$R1.json' >'$WORK/b.json' &&
                   cmp '$WORK/a.json' '$WORK/b.json'"
    fi
done
check "evaluation: the table shows ROC AUC and the chosen epsilon" \
    sh -c "grep -q 'ROC AUC' '$WORK/ev$R1.out' && grep -q 'epsilon (F1 sweep)' '$WORK/ev$R1.out'"

# --reference: neighbours among other rows. The blobs against themselves, not left out: each row's
# first neighbour is itself at 0 and the next K are the fixture's K (no duplicate rows there).
for np in $(ranks); do
    o=$WORK/ref$np.h5
    if ! run_np "$np" "$K" --quiet --k 6 --reference "$F/blobs.h5" --out "$o" "$F/blobs.h5" \
        >/dev/null 2>"$WORK/e"; then
        notok "--reference np=$np: run failed"
        comment_file "$WORK/e"
        continue
    fi
    if [ "$np" = "$R1" ]; then
        check "--reference np=$np: itself first at 0, then numpy's 5 nearest" "$ADK_PYTHON3" -c "
import sys, h5py, numpy as np
g = h5py.File('$o', 'r'); f = h5py.File('$F/blobs.h5', 'r')
idx, dist = g['knn_index'][:], g['knn_distance'][:]
ok = (np.array_equal(idx[:, 0], np.arange(len(idx))) and not dist[:, 0].any()
      and np.array_equal(idx[:, 1:], f['k5/knn_index'][:])
      and np.allclose(dist[:, 1:], f['k5/knn_distance'][:], rtol=1e-12, atol=0)
      and g.attrs['reference'].endswith('blobs.h5'))
sys.exit(0 if ok else 1)"
    else
        check "--reference np=$np: the same bits as on $R1 ranks" \
            same_dsets "$o" "$WORK/ref$R1.h5" /knn_index /knn_distance /score
    fi
done
expect_fail "$np" 2 "columns but the reference" "$WORK/bad.h5" -- \
    "$K" --k 2 --reference "$F/ties.h5" --out "$WORK/bad.h5" "$F/tiny.h5"

# A given threshold flags exactly the rows whose score exceeds it.
np=$(echo $(ranks) | awk '{print $NF}')
run_np "$np" "$K" --quiet --k 3 --threshold 0.5 --out "$WORK/t.h5" "$F/ties.h5" >/dev/null 2>"$WORK/e"
check "--threshold: /anomaly is score > EPS" sh -c "
    '$H5CMP' dump '$WORK/t.h5' /score | awk '{ n += (\$1 > 0.5) } END { print n }' >'$WORK/n1' &&
    '$H5CMP' dump '$WORK/t.h5' /anomaly | awk '{ n += \$1 } END { print n }' >'$WORK/n2' &&
    cmp '$WORK/n1' '$WORK/n2' && [ \"\$(cat '$WORK/n1')\" -gt 0 ]"

# Bad input: one message, the documented exit code, no output, no hang.
o=$WORK/bad.h5
printf '1,2\n3,nan\n5,6\n' >"$WORK/nan.csv"
printf '1,2\n' >"$WORK/one.csv"
for np in $(ranks); do
    expect_fail "$np" 1 "needs 1 <= k <= N - 1 (N = 5 rows" "$o" -- "$K" --k 5 --out "$o" "$F/tiny.h5"
    expect_fail "$np" 1 "--k: 0 is not a positive" "$o" -- "$K" --k 0 --out "$o" "$F/tiny.h5"
done
np=$(echo $(ranks) | awk '{print $NF}')
expect_fail "$np" 1 "needs 1 <= k <= N - 1 (N = 1 rows" "$o" -- "$K" --k 1 --out "$o" "$WORK/one.csv"
expect_fail "$np" 2 "row 1" "$o" -- "$K" --k 1 --out "$o" "$WORK/nan.csv"
expect_fail "$np" 1 "--score: 'max' is not kth or mean" "$o" -- "$K" --score max --out "$o" "$F/tiny.h5"
expect_fail "$np" 1 "--out NN.h5 is required" - -- "$K" "$F/tiny.h5"
expect_fail "$np" 1 "--positive needs --labels" "$o" -- "$K" --positive 1 --out "$o" "$F/tiny.h5"
: >"$o.keep"
cp "$WORK/t.h5" "$o"
expect_fail "$np" 3 "exists" - -- "$K" --k 2 --out "$o" "$F/tiny.h5"
check "an existing output is left as it was without --force" "$H5CMP" cmp "$o" /score "$WORK/t.h5" /score
run_np "$np" "$K" --quiet --k 2 --force --out "$o" "$F/tiny.h5" >/dev/null 2>&1
check "--force replaces it" "$H5CMP" cmp "$o" /knn_index "$F/tiny.h5" /k2/knn_index
finish
