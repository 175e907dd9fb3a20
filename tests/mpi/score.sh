#!/bin/sh
# Integration tests of adkit-score: the reference notebook's blobs example (HDF5 and CSV input),
# exact ties and rows exactly on a threshold (integer grid), more ranks than rows, no labels.
# Per-row outputs, counts and metrics equal the scikit-learn fixtures
# (tests/fixtures/make_score_fixtures.py) and scikit-learn run on our own distances; outputs and
# JSON are bitwise identical at every rank count. Bad input: exit code, one message, no output
# left, no hang.
. "$ADK_SRCDIR/tests/mpi/lib.sh"

# Ranks that already agreed to stop are not kept waiting between SIGTERM and SIGKILL.
OMPI_MCA_odls_base_sigkill_timeout=0
export OMPI_MCA_odls_base_sigkill_timeout

SCORE=$BIN/adkit-score
S=$FIX/score
PY=$ADK_PYTHON3
if ! "$PY" -c 'import h5py, numpy, sklearn' >/dev/null 2>&1; then
    PY=/usr/bin/python3
fi
first=$(echo $(ranks) | cut -d' ' -f1)
last=$(echo $(ranks) | awk '{print $NF}')
# the smallest and the largest rank count, once each when they are the same
ends=$first
[ "$last" = "$first" ] || ends="$first $last"

# Checked later in one Python run: "OUT JSON-or-- EXPECTED DATA.h5 POSITIVE DESC" per line.
MANIFEST=$WORK/manifest
: >"$MANIFEST"

# score NP NAME ARGS...: run adkit-score into $WORK/NAME.h5 (+ .json, + .txt for stdout)
score() {
    _np=$1
    _name=$2
    shift 2
    if run_np "$_np" "$SCORE" --out "$WORK/$_name.h5" "$@" >"$WORK/$_name.txt" 2>"$WORK/$_name.err"; then
        ok "np=$_np $_name runs"
        return 0
    fi
    notok "np=$_np $_name runs"
    comment_file "$WORK/$_name.err"
    return 1
}

# bitwise equality of two runs: datasets and the JSON summary
same_run() {
    same_dsets "$WORK/$1.h5" "$WORK/$2.h5" /cluster /distance /anomaly || return 1
    [ ! -f "$WORK/$1.json" ] || cmp "$WORK/$1.json" "$WORK/$2.json"
}

for np in $(ranks); do
    b=blobs_np$np
    if score "$np" "$b" --model "$S/blobs_model.h5" "$S/blobs_data.h5:/data" \
        --labels "$S/blobs_data.h5:/labels" --json "$WORK/$b.json" --quiet; then
        echo "$WORK/$b.h5 $WORK/$b.json $S/blobs_expected.h5 $S/blobs_data.h5 1 np=$np blobs" \
            >>"$MANIFEST"
        # the notebook's two numbers, named as it names them, in the printed table
        check "np=$np blobs: table shows FP 3 (normal flagged) and FN 17 (anomalous missed)" \
            sh -c "grep -q '^FP (normal, flagged) *3\$' '$WORK/$b.txt' &&
                   grep -q '^FN (anomalous, not flagged) *17\$' '$WORK/$b.txt'"
        [ "$np" = "$first" ] ||
            check "np=$np blobs bitwise = np=$first" same_run "$b" "blobs_np$first"
    fi
    g=grid_np$np
    if score "$np" "$g" --model "$S/grid_model.h5" "$S/grid_data.h5:/data" \
        --labels "$S/grid_data.h5:/labels" --positive 3,2 --json "$WORK/$g.json" --quiet; then
        echo "$WORK/$g.h5 $WORK/$g.json $S/grid_expected.h5 $S/grid_data.h5 2,3 np=$np grid" \
            >>"$MANIFEST"
        [ "$np" = "$first" ] ||
            check "np=$np grid (ties) bitwise = np=$first" same_run "$g" "grid_np$first"
    fi
done

# three rows: at the largest rank count, ranks without rows
t=tiny_np$last
if score "$last" "$t" --model "$S/grid_model.h5" "$S/tiny_data.h5:/data" \
    --labels "$S/tiny_data.h5:/labels" --positive 2,3 --json "$WORK/$t.json" --quiet; then
    echo "$WORK/$t.h5 $WORK/$t.json $S/tiny_expected.h5 $S/tiny_data.h5 2,3 np=$last 3 rows" \
        >>"$MANIFEST"
fi

for np in $ends; do
    c=csv_np$np
    if score "$np" "$c" --model "$S/blobs_model.h5" "$S/blobs_data.csv" --label-col label \
        --json "$WORK/$c.json" --quiet; then
        echo "$WORK/$c.h5 $WORK/$c.json $S/blobs_expected.h5 $S/blobs_data.h5 1 np=$np CSV" \
            >>"$MANIFEST"
        check "np=$np CSV input bitwise = HDF5 input" \
            same_dsets "$WORK/$c.h5" "$WORK/blobs_np$first.h5" /cluster /distance /anomaly
    fi
    u=nolabels_np$np
    if score "$np" "$u" --model "$S/blobs_model.h5" "$S/blobs_data.h5:/data" \
        --json "$WORK/$u.json" --quiet; then
        echo "$WORK/$u.h5 $WORK/$u.json $S/blobs_expected.h5 - - np=$np no labels" >>"$MANIFEST"
    fi
done

# no row carries an anomaly label: AUC and AP are undefined, reported as null with warnings
n=noanom_np$last
if score "$last" "$n" --model "$S/blobs_model.h5" "$S/blobs_data.h5:/data" \
    --labels "$S/blobs_data.h5:/labels" --positive 7 --json "$WORK/$n.json" --quiet; then
    check "np=$last one class only: roc_auc and average_precision null, two warnings" \
        sh -c "grep -q '\"roc_auc\":.*null' '$WORK/$n.json' &&
               grep -q '\"average_precision\":.*null' '$WORK/$n.json' &&
               grep -q '\"fp\":.*286' '$WORK/$n.json' &&
               [ \$(grep -c '^adkit-score: warning: .* undefined' '$WORK/$n.err') = 2 ] &&
               grep -q '^ROC AUC (distance as score) *undefined\$' '$WORK/$n.txt'"
fi

cat >"$WORK/check.py" <<'EOF'
# For each run: per-row outputs and counts/metrics against the fixture (sklearn on the
# reference distances), and sklearn recomputed on this run's own distances; the JSON summary
# equals the attributes. Prints "PASS desc" or "FAIL desc: why" per run.
import json
import sys

import h5py
import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

RTOL = 1e-12


def close(a, b):
    return abs(a - b) <= RTOL * abs(b)


def check(out, js, exp, data, positive):
    with h5py.File(out, "r") as f, h5py.File(exp, "r") as e:
        cl, dist, flag = f["cluster"][...], f["distance"][...], f["anomaly"][...]
        a, x = dict(f.attrs), dict(e.attrs)
        assert f["cluster"].dtype == np.int32 and f["anomaly"].dtype == np.uint8
        assert f["distance"].dtype == np.float64
        assert np.array_equal(cl, e["cluster"][...]), "cluster differs"
        assert np.array_equal(flag, e["anomaly"][...]), "anomaly flags differ"
        d0 = e["distance"][...]
        assert np.all(np.abs(dist - d0) <= RTOL * d0), "distance differs"
    assert a["n"] == x["n"] and a["n_flagged"] == x["n_flagged"], ("n", a["n_flagged"])
    s = json.load(open(js)) if js != "--" else None
    if data == "-":
        assert "tp" not in a and s["labelled"] is False and s["tp"] is None, "labels invented"
        assert s["n_flagged"] == a["n_flagged"] and s["n"] == a["n"]
        return
    for k in ("n_positive", "tp", "fp", "tn", "fn"):
        assert a[k] == x[k], (k, a[k], x[k])
    for k in ("precision", "recall", "f1", "roc_auc", "average_precision"):
        if np.isnan(x[k]):
            assert k not in a and (s is None or s[k] is None), (k, "should be undefined")
        else:
            assert close(a[k], x[k]), (k, repr(a[k]), repr(x[k]))
    # sklearn on this run's own scores, and the notebook's counting loop
    with h5py.File(data, "r") as f:
        lab = f["labels"][...]
    truth = np.isin(lab, [int(v) for v in positive.split(",")]).astype(int)
    if 0 < truth.sum() < len(truth):
        assert close(a["roc_auc"], roc_auc_score(truth, dist)), "roc_auc vs sklearn"
    if truth.sum() > 0:
        assert close(a["average_precision"], average_precision_score(truth, dist)), "ap"
    assert a["fp"] == int(((flag == 1) & (truth == 0)).sum()), "fp: normal rows flagged"
    assert a["fn"] == int(((flag == 0) & (truth == 1)).sum()), "fn: anomalous rows missed"
    if s is not None:  # the JSON says exactly what the attributes say
        for k in ("n", "n_flagged", "n_positive", "tp", "fp", "tn", "fn", "precision",
                  "recall", "f1", "roc_auc", "average_precision"):
            assert s[k] == a.get(k), (k, s[k], a.get(k))
        assert s["n_negative"] == a["n"] - a["n_positive"] and s["labelled"] is True
        assert s["threshold_method"] == "percentile", s["threshold_method"]
        want = sorted(int(v) for v in positive.split(","))
        assert sorted(s["positive_labels"]) == want, s["positive_labels"]


for line in open(sys.argv[1]):
    out, js, exp, data, positive, desc = line.rstrip("\n").split(" ", 5)
    try:
        check(out, js, exp, data, positive)
        print("PASS %s" % desc)
    except Exception as err:  # one failing run must not hide the others
        print("FAIL %s: %r" % (desc, err))
EOF

"$PY" "$WORK/check.py" "$MANIFEST" >"$WORK/check.out" 2>&1
while IFS= read -r line; do
    case $line in
    PASS*) ok "${line#PASS } = sklearn fixture and sklearn on own distances" ;;
    FAIL*) notok "${line#FAIL }" ;;
    *) echo "# $line" ;;
    esac
done <"$WORK/check.out"
[ "$(grep -c '^PASS' "$WORK/check.out")" = "$(wc -l <"$MANIFEST")" ] ||
    notok "every run was checked by check.py"

# Bad input. The issue's three cases at the smallest and largest rank counts, the rest at the
# largest.
bad=$WORK/bad.h5
for np in $ends; do
    expect_fail "$np" 2 "has 3 features but" "$bad" -- \
        "$SCORE" --model "$S/bad_model_wide.h5" "$S/blobs_data.h5:/data" --out "$bad"
    expect_fail "$np" 2 "run adkit-threshold" "$bad" -- \
        "$SCORE" --model "$S/bad_model_nothr.h5" "$S/blobs_data.h5:/data" --out "$bad"
    expect_fail "$np" 2 "599 values for 600 data rows" "$bad" -- \
        "$SCORE" --model "$S/blobs_model.h5" "$S/blobs_data.h5:/data" \
        --labels "$S/bad_labels_short.h5:/labels" --out "$bad"
done
expect_fail "$last" 1 "needs --labels or --label-col" "$bad" -- \
    "$SCORE" --model "$S/blobs_model.h5" "$S/blobs_data.h5:/data" --positive 1 --out "$bad"
expect_fail "$last" 1 "not both" "$bad" -- \
    "$SCORE" --model "$S/blobs_model.h5" "$S/blobs_data.h5:/data" --label-col 2 \
    --labels "$S/blobs_data.h5:/labels" --out "$bad"
expect_fail "$last" 1 "not a comma-separated list of integer labels" "$bad" -- \
    "$SCORE" --model "$S/blobs_model.h5" "$S/blobs_data.h5:/data" \
    --labels "$S/blobs_data.h5:/labels" --positive 1.5 --out "$bad"
expect_fail "$last" 3 "missing_model.h5" "$bad" -- \
    "$SCORE" --model "$WORK/missing_model.h5" "$S/blobs_data.h5:/data" --out "$bad"
# an existing JSON summary is refused before anything is written
: >"$WORK/exists.json"
expect_fail "$last" 3 "exists.json' exists; use --force" "$bad" -- \
    "$SCORE" --model "$S/blobs_model.h5" "$S/blobs_data.h5:/data" \
    --labels "$S/blobs_data.h5:/labels" --json "$WORK/exists.json" --out "$bad"
check "the refused JSON file is untouched" test ! -s "$WORK/exists.json"

finish
