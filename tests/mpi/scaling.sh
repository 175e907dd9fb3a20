#!/bin/sh
# The scaling study (experiments/scaling/) at a tiny size, strong scaling at 1, 2 and 3 ranks (3
# oversubscribed on 2 cores; 1 and 2 under the sanitizers): the CSV has its columns and one row
# per phase and rank count, marks oversubscribed runs, bytes sent are 0 at 1 rank and positive
# at more, every phase's outputs are the bits of 1 rank's; a Lloyd iteration sends exactly the
# adk_repro accumulator the model assumes; the model's 1-rank time at the measured size is the
# measured time, and its strong-scaling efficiency never rises with P; a CSV without a phase is
# refused; the report and plots exist.
. "$ADK_SRCDIR/tests/mpi/lib.sh"

RK="1 2 3"
[ "${ADK_SANITIZED:-0}" = 1 ] && RK="1 2"
N=30000
D=8
K=16
TN=400
OUT=$WORK/out
MODELBIN=$ADK_BUILDDIR/experiments/scaling/adk-scaling-model
CSV=$OUT/strong-test.csv
PHASES="kmeans threshold f1 tsne"

check "run.sh strong at ranks $RK" env N=$N D=$D K=$K ITERS=32 ITERS_LO=2 RANKS="$RK" REPS=1 \
    TSNE_N=$TN TSNE_ITERS=450 TSNE_ITERS_LO=250 OUTDIR="$OUT" DATE=test WORK="$WORK/s" \
    MPIEXEC="$ADK_MPIEXEC" timeout -k 10 120 "$ADK_SRCDIR/experiments/scaling/run.sh" \
    "$ADK_BUILDDIR" strong
[ -f "$CSV" ] || {
    notok "no $CSV"
    finish
}

# field NAME ROW-SELECTOR: the value of column NAME in the rows where ranks=$2 and phase=$3
field() {
    awk -F, -v want="$1" -v r="$2" -v ph="$3" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["ranks"] == r && $c["phase"] == ph { print $c[want] }' "$CSV"
}

has_columns() {
    _h=$(head -n 1 "$CSV")
    for _c in ranks n d k phase seconds io_s mpi_s compute_s bytes_sent reps oversubscribed \
        identical; do
        echo ",$_h," | grep -q ",$_c," || { echo "no column $_c"; return 1; }
    done
}
check "CSV has the columns" has_columns

one_row_each() {
    _rows=0
    for _p in $RK; do
        for _ph in $PHASES; do
            _c=$(field phase "$_p" "$_ph" | wc -l)
            [ "$_c" = 1 ] || { echo "$_c rows for $_ph at $_p ranks"; return 1; }
            _rows=$((_rows + 1))
        done
    done
    [ "$(($(wc -l <"$CSV") - 1))" = "$_rows" ] || { echo "extra rows"; return 1; }
}
check "one row per phase and rank count" one_row_each

bytes_ok() {
    for _ph in $PHASES; do
        [ "$(field bytes_sent 1 "$_ph")" = 0 ] || { echo "$_ph sends at 1 rank"; return 1; }
        for _p in $RK; do
            [ "$_p" = 1 ] && continue
            awk -v b="$(field bytes_sent "$_p" "$_ph")" 'BEGIN { exit !(b > 0) }' ||
                { echo "$_ph sends nothing at $_p ranks"; return 1; }
        done
    done
}
check "bytes sent: none at 1 rank, some at more" bytes_ok

over_ok() {
    _cores=$(nproc)
    for _p in $RK; do
        _want=0
        [ "$_p" -gt "$_cores" ] && _want=1
        for _ph in $PHASES; do
            [ "$(field oversubscribed "$_p" "$_ph")" = "$_want" ] ||
                { echo "$_ph at $_p ranks: oversubscribed should be $_want"; return 1; }
        done
    done
}
check "runs with more ranks than cores are marked oversubscribed" over_ok

# every phase's outputs at 2 and 3 ranks are the bits of 1 rank's (run.sh compares them)
same_ok() {
    for _ph in $PHASES; do
        [ "$(field identical 1 "$_ph")" = ref ] || { echo "$_ph: 1 rank is not the reference"; return 1; }
        for _p in $RK; do
            [ "$_p" = 1 ] && continue
            [ "$(field identical "$_p" "$_ph")" = 1 ] ||
                { echo "$_ph at $_p ranks: outputs differ from 1 rank's"; return 1; }
        done
    done
}
check "outputs identical to 1 rank's at every rank count" same_ok

# one adk_repro allreduce per Lloyd iteration: K x D + 1 reals of 4 int64 limbs, K + 4 counters,
# one flag, and two 8-byte status agreements, the accumulator's and the pass's (the model's
# formula), per rank
lloyd_bytes() {
    _want=$((8 * (4 * (K * D + 1) + K + 5) + 16))
    for _p in $RK; do
        [ "$_p" = 1 ] && continue
        _b=$(field bytes_sent "$_p" kmeans)
        [ "$_b" = "$_want" ] || { echo "$_b bytes per iteration at $_p ranks, want $_want"; return 1; }
    done
}
check "a Lloyd iteration sends the accumulator the model assumes" lloyd_bytes

# the model at the measured size: its P = 1 time is the measured 1-rank time of each phase
p1_ok() {
    "$MODELBIN" --csv --n "$2" --d $D --k $K "$CSV" >"$WORK/m1.csv" || return 1
    for _ph in $1; do
        _meas=$(field seconds 1 "$_ph")
        _mod=$(awk -F, -v ph="$_ph" '$1 == "strong" && $2 == ph && $3 == 1 { print $5 }' "$WORK/m1.csv")
        awk -v a="$_meas" -v b="$_mod" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b != "" && d <= 1e-12 * (a < 0 ? -a : a)) }' ||
            { echo "$_ph: model $_mod s at P = 1, measured $_meas s"; return 1; }
    done
}
check "model at P = 1 equals the measured time (k-means, thresholds, F1)" p1_ok "kmeans threshold f1" $N
check "model at P = 1 equals the measured time (t-SNE)" p1_ok tsne $TN

monotone() {
    "$MODELBIN" --csv "$CSV" >"$WORK/m.csv" || return 1
    awk -F, '$1 == "strong" { if ($2 == ph && $10 > last * (1 + 1e-12)) { print $2 " at P = " $3 ": " $10 " > " last; bad = 1 }
        ph = $2; last = $10; n[$2]++ }
        END { if (n["kmeans"] != 11 || n["tsne"] != 11) { print "expected P = 1..1024"; bad = 1 } exit bad }' "$WORK/m.csv"
}
check "model: strong-scaling efficiency does not rise with P (N = 1e9, P = 1..1024)" monotone

no_phase() {
    grep -v ',f1,' "$CSV" >"$WORK/nof1.csv"
    "$MODELBIN" "$WORK/nof1.csv" >/dev/null 2>"$WORK/nof1.err"
    [ $? = 2 ] && grep -q 'no 1-rank row of phase f1' "$WORK/nof1.err"
}
check "model refuses a CSV without a phase" no_phase

check "model report written" grep -q "Where t-SNE breaks" "$OUT/model-test.md"
check "plot written" test -s "$OUT/strong-test.png"
finish
