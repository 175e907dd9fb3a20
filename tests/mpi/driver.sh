#!/bin/sh
# Integration tests of `adkit` (every program in one executable) and `adkit run STEPS` (a file of
# program command lines in one MPI job): a pipeline run as steps writes the same bits as the same
# commands run as separate programs, at every rank count; --times; a failing step stops the run
# with its own exit code and one message, earlier outputs kept, later steps not run; a bad steps
# file runs nothing; adkit-threshold --out leaves the model as it was.
. "$ADK_SRCDIR/tests/mpi/lib.sh"

A=$BIN/adkit

# pipeline DIR: the steps of a small study (paths relative to DIR) as a steps file
pipeline() {
    cat >"$1/steps.txt" <<'EOF'
# generated data, k-means, two threshold rules (in place and as a copy), scores, kNN, a subset
adkit-gen blobs --n 300 --d 3 --centers 4 --cluster-std 0.8 --seed 5 \
    --out g.h5
kmeans --k 4 --n-init 3 --seed 2 --out m.h5 --assign a.h5 'g.h5:/data'
threshold --model m.h5 --assign a.h5 --per-cluster-percentile 99
threshold --model m.h5 --assign a.h5 --global-percentile "95" --out m95.h5
score --model m95.h5 --out s.h5 g.h5:/data
knn --k 3 --out k.h5 g.h5:/data
subset --labels g.h5:/labels --keep-labels 1,2 --out sub.h5 g.h5:/data
EOF
}
OUTS="g.h5:/data g.h5:/labels m.h5:/centroids m.h5:/thresholds a.h5:/cluster a.h5:/distance
m95.h5:/centroids m95.h5:/thresholds s.h5:/anomaly s.h5:/distance k.h5:/knn_index
k.h5:/knn_distance sub.h5:/data"

# same_outs DIR1 DIR2: every output dataset bitwise equal
same_outs() {
    for o in $OUTS; do
        "$H5CMP" cmp "$1/${o%%:*}" "${o#*:}" "$2/${o%%:*}" "${o#*:}" || return 1
    done
}

# The reference: each command as its own program, on R1 ranks.
ref=$WORK/ref
mkdir -p "$ref"
pipeline "$ref"
(
    cd "$ref" &&
        sed -e '/^#/d' -e ':a' -e '/\\$/N; s/\\\n//; ta' steps.txt | tr -d "'\"" |
        while read -r prog args; do
            case $prog in adkit-*) ;; *) prog=adkit-$prog ;; esac
            # shellcheck disable=SC2086
            run_np "$R1" "$BIN/$prog" --quiet $args </dev/null >/dev/null || exit 1
        done
) 2>"$WORK/e" && ok "reference: the pipeline as separate programs" ||
    { notok "reference: the pipeline as separate programs"; comment_file "$WORK/e"; }

for np in $(ranks); do
    d=$WORK/run$np
    mkdir -p "$d"
    pipeline "$d"
    if (cd "$d" && run_np "$np" "$A" run --times times.tsv steps.txt >out.txt 2>err.txt); then
        ok "np=$np: adkit run runs the 7 steps"
    else
        notok "np=$np: adkit run runs the 7 steps"
        comment_file "$d/err.txt"
        continue
    fi
    check "np=$np: every output the same bits as the separate programs'" same_outs "$ref" "$d"
    check "np=$np: --times lists each step's line and program" sh -c "
        printf 'line\tprogram\n2\tadkit-gen\n4\tadkit-kmeans\n5\tadkit-threshold\n6\tadkit-threshold\n7\tadkit-score\n8\tadkit-knn\n9\tadkit-subset\n' >'$d/want' &&
        cut -f1,2 '$d/times.tsv' | cmp - '$d/want' &&
        awk -F'\t' 'NR > 1 && !(\$3 >= 0) { exit 1 }' '$d/times.tsv'"
done

d=$WORK/single
mkdir -p "$d"
check "adkit kmeans ... is adkit-kmeans ...: same model" sh -c "
    cd '$d' && '$ADK_MPIEXEC' -n 2 '$A' kmeans --quiet --k 4 --n-init 3 --seed 2 --out m.h5 '$ref/g.h5:/data' &&
    '$H5CMP' cmp m.h5 /centroids '$ref/m.h5' /centroids"
check "adkit --help lists the programs; adkit --version" sh -c "
    '$A' --help | grep -q 'Programs: elbow gauss gen kmeans knn metrics pca score subset threshold tsne' &&
    '$A' --version | grep -q '^adkit adkit '"
check "adkit NOSUCH: exit 1, one message" sh -c "
    '$A' nosuch 2>'$d/e'; [ \$? = 1 ] && [ \"\$(wc -l <'$d/e')\" = 1 ] && grep -q \"'nosuch' is not an adkit program\" '$d/e'"

# A step that fails: its exit code, its message, the run's note; earlier outputs kept.
for np in 1 3; do
    d=$WORK/fail$np
    mkdir -p "$d"
    printf 'gen blobs --n 50 --seed 1 --out g.h5\nkmeans --k 2 --out m.h5 missing.h5:/data\nsubset --keep-labels 1 --labels g.h5:/labels --out s.h5 g.h5:/data\n' >"$d/steps.txt"
    (cd "$d" && run_np "$np" "$A" run steps.txt >out.txt 2>err.txt)
    rc=$?
    if [ "$rc" = 3 ] && [ -f "$d/g.h5" ] && [ ! -e "$d/s.h5" ] && [ ! -e "$d/m.h5" ] &&
        [ "$(grep -c '^adkit-kmeans: ' "$d/err.txt")" = 1 ] &&
        grep -q '^adkit-kmeans: .*missing.h5' "$d/err.txt" &&
        grep -q '^adkit run: steps.txt:2: kmeans failed (exit 3); the steps after it were not run' "$d/err.txt" &&
        ! ls "$d"/*.tmp-* >/dev/null 2>&1; then
        ok "np=$np: a failing step stops the run with its exit code (3) and one message"
    else
        notok "np=$np: a failing step stops the run with its exit code (3) and one message (exit $rc)"
        comment_file "$d/err.txt"
    fi
done

# Bad steps files: nothing runs, one message naming the line, exit 1 (usage) or 3 (unreadable).
for np in 1 4; do
    d=$WORK/bad$np
    mkdir -p "$d"
    printf 'gen blobs --n 50 --out g.h5\n\nkmeens --k 2 --out m.h5 g.h5:/data\n' >"$d/typo.txt"
    printf 'gen blobs --n 50 --out g.h5\nkmeans --out $HOME/m.h5 g.h5:/data\n' >"$d/dollar.txt"
    printf "gen blobs --n 50 --out 'g.h5\n" >"$d/quote.txt"
    for c in "typo.txt:1:typo.txt:3: 'kmeens' is not an adkit program" \
        "dollar.txt:1:dollar.txt:2: '\$' outside single quotes" \
        "quote.txt:1:quote.txt:1: unterminated '" \
        "absent.txt:3:cannot read steps file 'absent.txt'"; do
        f=${c%%:*} r=${c#*:}
        code=${r%%:*} msg=${r#*:}
        (cd "$d" && run_np "$np" "$A" run "$f" >out.txt 2>err.txt)
        rc=$?
        if [ "$rc" = "$code" ] && [ ! -e "$d/g.h5" ] && [ "$(grep -c '^adkit run: ' "$d/err.txt")" = 1 ] &&
            grep -qF "adkit run: $msg" "$d/err.txt"; then
            ok "np=$np: $f refused before anything runs (exit $code)"
        else
            notok "np=$np: $f refused before anything runs (exit $rc, expected $code)"
            comment_file "$d/err.txt"
        fi
    done
    check "np=$np: --check reads and checks, runs nothing" sh -c "
        cd '$d' && printf 'gen blobs --n 50 --out g.h5\nknn --k 2 --out k.h5 g.h5:/data\n' >ok.txt &&
        '$ADK_MPIEXEC' -n $np '$A' run --check ok.txt | grep -q 'ok.txt: 2 steps' && [ ! -e g.h5 ]"
done
check "--times: an existing file is refused before any step runs" sh -c "
    cd '$WORK/bad1' && printf 'gen blobs --n 50 --out g2.h5\n' >one.txt && : >t.tsv &&
    ! '$ADK_MPIEXEC' -n 2 '$A' run --times t.tsv one.txt 2>/dev/null && [ ! -e g2.h5 ] &&
    '$ADK_MPIEXEC' -n 2 '$A' run --quiet --force --times t.tsv one.txt >/dev/null 2>&1 && [ -s t.tsv ]"

# adkit-threshold --out: the model file is left as it was; the copy has the new thresholds.
d=$WORK/thrcopy
mkdir -p "$d"
cp "$ref/m.h5" "$d/m.h5"
cp "$ref/m.h5" "$d/before.h5"
check "threshold --out: M.h5 unchanged, OUT.h5 has the new rule's thresholds" sh -c "
    cd '$d' && '$ADK_MPIEXEC' -n 3 '$BIN/adkit-threshold' --quiet --model m.h5 --assign '$ref/a.h5' \
        --global-percentile 95 --out g95.h5 && cmp m.h5 before.h5 &&
    '$H5CMP' cmp g95.h5 /thresholds '$ref/m95.h5' /thresholds &&
    '$H5CMP' cmp g95.h5 /centroids '$ref/m.h5' /centroids"
expect_fail 2 3 "exists" - -- "$BIN/adkit-threshold" --model "$d/m.h5" --assign "$ref/a.h5" \
    --sigma 3 --out "$d/g95.h5"
check "threshold --out --force replaces OUT.h5" sh -c "
    cd '$d' && '$ADK_MPIEXEC' -n 2 '$BIN/adkit-threshold' --quiet --force --model m.h5 --assign '$ref/a.h5' \
        --sigma 3 --out g95.h5 && ! '$H5CMP' cmp g95.h5 /thresholds '$ref/m95.h5' /thresholds 2>/dev/null &&
    cmp m.h5 before.h5"

finish
