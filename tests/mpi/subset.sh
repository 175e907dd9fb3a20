#!/bin/sh
# Integration tests of adkit-subset on the digits (1797 rows, labels 0-9): --keep-labels keeps
# exactly the rows with those labels, in order, data and labels carried along; the three parts of
# a seeded split are disjoint and cover every row, anomalies never in training; every output the
# same bits at every rank count; bad input.
. "$ADK_SRCDIR/tests/mpi/lib.sh"

B=$BIN/adkit-subset
D=$FIX/knn/digits.h5
"$H5CMP" dump "$D" /labels >"$WORK/labels"

for np in $(ranks); do
    o=$WORK/normal$np.h5
    run_np "$np" "$B" --quiet --labels "$D:/labels" --keep-labels 2,3,4,5,6,7,8,9 --out "$o" "$D" \
        >/dev/null 2>"$WORK/e" || { notok "keep np=$np: run failed"; comment_file "$WORK/e"; continue; }
    for part in train val test; do
        run_np "$np" "$B" --quiet --labels "$D:/labels" --split $part --split-seed 3 \
            --anomaly-labels 0,1 --out "$WORK/$part$np.h5" "$D" >/dev/null 2>"$WORK/e" ||
            { notok "split $part np=$np: run failed"; comment_file "$WORK/e"; }
    done
    if [ "$np" = "$R1" ]; then
        # the kept rows are exactly the input rows with labels 2-9, in order
        check "keep: the rows labelled 2-9, in order, with their labels" sh -c "
            awk '\$1 >= 2 { print NR - 1 }' '$WORK/labels' >'$WORK/want' &&
            '$H5CMP' dump '$o' /rows >'$WORK/got' && cmp '$WORK/want' '$WORK/got' &&
            awk '\$1 >= 2' '$WORK/labels' >'$WORK/wl' && '$H5CMP' dump '$o' /labels | cmp - '$WORK/wl' &&
            [ \"\$('$H5CMP' shape '$o' /data)\" = \"\$(wc -l <'$WORK/want' | tr -d ' ') 64\" ]"
        check "keep: each kept row's data is the input row's" sh -c "
            '$H5CMP' dump '$o' /data | sed -n '1p;1000p' >'$WORK/a' &&
            r1=\$(sed -n 1p '$WORK/want') && r2=\$(sed -n 1000p '$WORK/want') &&
            '$H5CMP' dump '$D' /data | sed -n \"\$((r1 + 1))p;\$((r2 + 1))p\" | cmp - '$WORK/a'"
        check "split: train, val and test are disjoint and cover all 1797 rows" sh -c "
            for p in train val test; do '$H5CMP' dump '$WORK/'\$p'$np.h5' /rows; done | sort -n >'$WORK/all' &&
            [ \"\$(uniq '$WORK/all' | wc -l)\" = 1797 ] && [ \"\$(wc -l <'$WORK/all')\" = 1797 ]"
        check "split: no anomaly (label 0 or 1) in training; anomalies in val and test" sh -c "
            ! '$H5CMP' dump '$WORK/train$np.h5' /labels | grep -qx '[01]' &&
            '$H5CMP' dump '$WORK/val$np.h5' /labels | grep -qx '[01]' &&
            '$H5CMP' dump '$WORK/test$np.h5' /labels | grep -qx '[01]'"
    else
        check "np=$np: every output the same bits as on $R1 ranks" sh -c "
            for f in normal train val test; do
                for ds in /data /labels /rows; do
                    '$H5CMP' cmp '$WORK/'\$f'$np.h5' \$ds '$WORK/'\$f'$R1.h5' \$ds || exit 1
                done
            done"
    fi
done

o=$WORK/bad.h5
np=$(echo $(ranks) | awk '{print $NF}')
expect_fail "$np" 1 "--split: 'all' is not train, val or test" "$o" -- "$B" --split all --out "$o" "$D"
expect_fail "$np" 1 "sum to at most 1" "$o" -- "$B" --split val --split-fractions 0.9,0.3 --out "$o" "$D"
expect_fail "$np" 1 "--split-fractions: '0.5' is not TRAIN,VAL" "$o" -- "$B" --split val --split-fractions 0.5 --out "$o" "$D"
expect_fail "$np" 1 "needs labels" "$o" -- "$B" --keep-labels 1 --out "$o" "$D"
expect_fail "$np" 1 "need --split" "$o" -- "$B" --anomaly-labels 1 --out "$o" "$D"
expect_fail "$np" 1 "--keep-labels" "$o" -- "$B" --labels "$D:/labels" --keep-labels 1,x --out "$o" "$D"
expect_fail "$np" 1 "--out OUT.h5 is required" - -- "$B" "$D"
cp "$WORK/normal$R1.h5" "$o"
expect_fail "$np" 3 "exists" - -- "$B" --out "$o" "$D"
finish
