#!/bin/sh
# adkit-metrics and adkit-elbow at every rank count: scikit-learn's scores within 1e-10 on the
# fixtures (tests/fixtures/make_metrics_fixtures.py), the sampled silhouette against sklearn on the
# same subset, bitwise identical outputs for any rank count, the elbow against the reference
# Kneedle of the fixture script, the plot script, and bad input (exit code, one message, no output
# left, no hang).
. "$ADK_SRCDIR/tests/mpi/lib.sh"

# configure records PYTHON3 as a bare name, which PATH may resolve to a Python without numpy
PY=$ADK_PYTHON3
"$PY" -c 'import numpy, scipy, matplotlib' >/dev/null 2>&1 || PY=/usr/bin/python3

MF=$FIX/metrics
REF=$MF/reference.json
GEN=$FIX/make_metrics_fixtures.py

# cmp_ref OUT.json CASE model|truth|sample:I -- JSON scores against reference.json (rel 1e-10)
cmp_ref() {
    "$PY" - "$REF" "$@" <<'EOF'
import json, sys
ref_path, out, case, which = sys.argv[1:5]
got = json.load(open(out))
ref = json.load(open(ref_path))["cases"][case]
if which.startswith("sample:"):
    s = ref["samples"][int(which[7:])]
    want = {"silhouette": s["silhouette"], "silhouette_rows": s["rows"]}
else:
    r = ref[which]
    want = {k: r[k] for k in ("silhouette", "davies_bouldin", "calinski_harabasz", "inertia",
                              "n_labels")}
    want["silhouette_rows"] = ref["n"]
bad = []
for k, v in want.items():
    g = got[k]
    if abs(g - v) > 1e-10 * max(abs(v), 1.0 if v == 0 else 0.0):
        bad.append("%s: got %.17g, sklearn %.17g" % (k, g, v))
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# same_json A B -- identical apart from the rank count
same_json() {
    grep -v '"mpi_ranks"' "$1" >"$WORK/.a" && grep -v '"mpi_ranks"' "$2" >"$WORK/.b" &&
        cmp "$WORK/.a" "$WORK/.b"
}

# the K=4 inertia of the curve equals sklearn's optimum (reference inertia of the model labels)
k4_inertia() {
    "$PY" - "$REF" "$1" <<'EOF'
import json, sys
want = json.load(open(sys.argv[1]))["cases"]["blobs"]["model"]["inertia"]
for line in open(sys.argv[2]):
    if line.startswith("4,"):
        got = float(line.split(",")[1])
        sys.exit(0 if abs(got - want) <= 1e-10 * want else 1)
sys.exit(1)
EOF
}

# the elbow recorded in the CSV equals the fixture script's reference Kneedle on the same curve
ref_elbow() {
    want=$("$PY" "$GEN" --kneedle "$1") || return 1
    grep -qx "# elbow_k=$want" "$1" && [ "$want" = "$2" ]
}

M="$BIN/adkit-metrics --quiet"
first=""
for np in $(ranks); do
    d=$WORK/np$np
    mkdir -p "$d"
    check "np=$np blobs, labels from the assignment file: sklearn's four scores" \
        run_np "$np" $M --model "$MF/blobs.h5" --assign "$MF/blobs.h5" --json "$d/blobs.json" \
        "$MF/blobs.h5:/data"
    check "np=$np blobs vs sklearn" cmp_ref "$d/blobs.json" blobs model
    check "np=$np wide (N=900, K=6), other labelling" \
        run_np "$np" $M --model "$MF/wide.h5" --assign "$MF/wide.h5:/truth" \
        --json "$d/wide.json" "$MF/wide.h5:/data"
    check "np=$np wide vs sklearn" cmp_ref "$d/wide.json" wide truth
    check "np=$np edge (9 rows: empty cluster, singleton, ranks without rows)" \
        run_np "$np" $M --model "$MF/edge.h5" --assign "$MF/edge.h5" --json "$d/edge.json" \
        "$MF/edge.h5:/data"
    check "np=$np edge vs sklearn" cmp_ref "$d/edge.json" edge model
    # the model's nearest centroids are the fixture's labels (sklearn's predict)
    check "np=$np sampled silhouette (200 of 600, seed 7), labels from the model" \
        run_np "$np" $M --model "$MF/blobs.h5" --sample-size 200 --seed 7 \
        --json "$d/sample.json" "$MF/blobs.h5:/data"
    check "np=$np sample vs sklearn on the same rows" cmp_ref "$d/sample.json" blobs sample:0
    check "np=$np elbow curve K=1..8" \
        run_np "$np" "$BIN/adkit-elbow" --quiet --k-min 1 --k-max 8 --seed 0 \
        --out "$d/curve.csv" "$MF/blobs.h5:/data"
    check "np=$np elbow is K=4 and matches the reference Kneedle" ref_elbow "$d/curve.csv" 4
    check "np=$np K=4 inertia equals sklearn's" k4_inertia "$d/curve.csv"
    grep -v '^# command=' "$d/curve.csv" >"$d/curve.body"
    if [ -z "$first" ]; then
        first=$np
    else
        for j in blobs wide edge sample; do
            check "np=$np $j.json bitwise equal to np=$first" \
                same_json "$WORK/np$first/$j.json" "$d/$j.json"
        done
        check "np=$np curve.csv bitwise equal to np=$first" \
            cmp "$WORK/np$first/curve.body" "$d/curve.body"
    fi
    # a label outside the model on row 590, held by the last rank: one message, from rank 0
    expect_fail "$np" 2 "row 590: 9 is not a cluster" "$d/bad.json" -- \
        $M --model "$MF/blobs.h5" --assign "$MF/blobs.h5:/badlabel" --json "$d/bad.json" \
        "$MF/blobs.h5:/data"
done

# The plot script draws the curve and marks the elbow (PNG and PDF).
c=$WORK/np$first/curve.csv
check "plot_elbow.py writes PNG and PDF" \
    "$PY" "$ADK_SRCDIR/scripts/plot_elbow.py" "$c" "$WORK/elbow.png" "$WORK/elbow.pdf"
check "the PNG is a PNG" sh -c "head -c 8 '$WORK/elbow.png' | grep -q PNG"
check "the PDF is a PDF" sh -c "head -c 5 '$WORK/elbow.pdf' | grep -q '%PDF'"

# Bad input, at the largest rank count (more ranks than rows for edge.h5).
np=$(echo $(ranks) | awk '{print $NF}')
o=$WORK/err.json
expect_fail "$np" 2 "values for" "$o" -- \
    $M --model "$MF/edge.h5" --assign "$MF/blobs.h5" --json "$o" "$MF/edge.h5:/data"
expect_fail "$np" 2 "clusters have rows" "$o" -- \
    $M --model "$MF/edge.h5" --assign "$MF/edge.h5:/single" --json "$o" "$MF/edge.h5:/data"
expect_fail "$np" 2 "clusters have rows" "$o" -- \
    $M --model "$MF/edge.h5" --assign "$MF/edge.h5" --sample-size 1 --json "$o" \
    "$MF/edge.h5:/data"
expect_fail "$np" 1 "negative" "$o" -- \
    $M --model "$MF/edge.h5" --sample-size -3 --json "$o" "$MF/edge.h5:/data"
expect_fail "$np" 2 "columns" "$o" -- \
    $M --model "$MF/blobs.h5" --json "$o" "$MF/edge.h5:/data"
expect_fail "$np" 3 "missing.h5" "$o" -- \
    $M --model "$WORK/missing.h5" --json "$o" "$MF/edge.h5:/data"
expect_fail "$np" 1 "--model" "$o" -- $M --json "$o" "$MF/edge.h5:/data"
echo '{}' >"$o"
expect_fail "$np" 3 "force" "-" -- $M --model "$MF/edge.h5" --json "$o" "$MF/edge.h5:/data"
check "an existing JSON is left alone without --force" sh -c "test \"\$(cat '$o')\" = '{}'"
rm -f "$o"
c=$WORK/err.csv
E="$BIN/adkit-elbow --quiet"
expect_fail "$np" 2 "exceeds" "$c" -- $E --k-min 2 --k-max 12 --out "$c" "$MF/edge.h5:/data"
expect_fail "$np" 1 "k-min" "$c" -- $E --k-min 0 --k-max 3 --out "$c" "$MF/edge.h5:/data"
expect_fail "$np" 1 "init" "$c" -- $E --init foo --k-max 3 --out "$c" "$MF/edge.h5:/data"
expect_fail "$np" 1 "sensitivity" "$c" -- $E --sensitivity -1 --out "$c" "$MF/edge.h5:/data"
echo 'k,inertia' >"$c"
expect_fail "$np" 3 "force" "-" -- $E --k-max 3 --out "$c" "$MF/edge.h5:/data"
finish
