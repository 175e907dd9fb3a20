#!/bin/sh
# adkit-kmeans --stream / --mem-limit: a fit whose rows are read from the file window by window at
# every pass gives the in-memory run's model, labels and distances bit for bit, at every rank
# count, for the default window, the smallest one (one distance chunk, 256 rows) and one between,
# with rank blocks that do not start on a window boundary and more ranks than rows; k-means++,
# random and file inits, several runs, empty-cluster relocation; a streamed fit stopped with a
# checkpoint resumes (streamed or not) to the same bits; bad --mem-limit values, CSV input and bad
# values are refused with one message; and a run under a memory limit stays far below the memory
# the data takes.
. "$ADK_SRCDIR/tests/mpi/lib.sh"
KM=$BIN/adkit-kmeans

# need1 OPTS... INPUT: "F P N D" from the refusal of --mem-limit 1 on one rank, which states the
# smallest limit: F bytes of k x d state, P bytes per row, N rows (all of them), D columns
need1() {
    run_np 1 "$KM" --mem-limit 1 --out "$WORK/never.h5" "$@" 2>&1 |
        sed -n 's/.*(256 rows of \([0-9]*\) x 8 bytes, \([0-9]*\) bytes per row for \([0-9]*\) rows, about \([0-9]*\) bytes.*/\4 \2 \3 \1/p' |
        head -n 1
}

# need NP F P N D: the smallest limit on NP ranks, whose rank 0 holds the most rows of the
# reproducibility partition (blocks of a power of two in [16, 4096] not above N/256, adk_part)
need() {
    _b=16
    while [ $_b -lt 4096 ] && [ $((2 * _b)) -le $(($4 / 256)) ]; do
        _b=$((2 * _b))
    done
    _nb=$((($4 + _b - 1) / _b))
    _c=$(((_nb / $1 + (_nb % $1 > 0 ? 1 : 0)) * _b))
    [ "$_c" -gt "$4" ] && _c=$4
    echo $(($2 + $3 * _c + 256 * $5 * 8))
}

# window FILE: the window size a streamed run reported
window() {
    sed -n 's/^streaming .*: windows of \([0-9]*\) rows.*/\1/p' "$1" | head -n 1
}

# same DESC MODEL ASSIGN: bitwise the in-memory reference $WORK/ref.h5, $WORK/ref-a.h5
same() {
    check "$1: centroids, labels and distances bitwise those in memory" \
        sh -c "'$H5CMP' cmp '$2' /centroids '$WORK/ref.h5' /centroids &&
               '$H5CMP' cmp '$3' /cluster '$WORK/ref-a.h5' /cluster &&
               '$H5CMP' cmp '$3' /distance '$WORK/ref-a.h5' /distance"
    check "$1: inertia, n_iter and converged those in memory" test \
        "$(h5attr "$2" / inertia) $(h5attr "$2" / n_iter) $(h5attr "$2" / converged)" = \
        "$(h5attr "$WORK/ref.h5" / inertia) $(h5attr "$WORK/ref.h5" / n_iter) $(h5attr "$WORK/ref.h5" / converged)"
}

# streamed TAG RANKS WIDE INPUT OPTS...: the in-memory fit on R1 ranks, then streamed fits on
# RANKS in windows of one chunk (the smallest --mem-limit); with WIDE = 1 also, on R1, a larger
# limit and the default window of --stream
streamed() {
    _tag=$1
    _ranks=$2
    _wide=$3
    _in=$4
    shift 4
    rm -f "$WORK/ref.h5" "$WORK/ref-a.h5"
    if ! run_np "$R1" "$KM" --quiet "$@" --out "$WORK/ref.h5" --assign "$WORK/ref-a.h5" "$_in" \
        >"$WORK/out" 2>&1; then
        notok "$_tag: the in-memory reference run failed"
        comment_file "$WORK/out"
        return
    fi
    _fpnd=$(need1 "$@" --assign "$WORK/x.h5" "$_in")
    for np in $_ranks; do
        _need=$(need "$np" $_fpnd)
        _lims="$_need"
        if [ "$np" = "$R1" ] && [ "$_wide" = 1 ]; then
            _lims="$_need $((_need + 40000)) stream"
        fi
        for _lim in $_lims; do
            _o="--mem-limit $_lim"
            [ "$_lim" = stream ] && _o=--stream
            _m=$WORK/$_tag-$np.h5
            _a=$WORK/$_tag-$np-a.h5
            rm -f "$_m" "$_a"
            if ! run_np "$np" "$KM" $_o "$@" --out "$_m" --assign "$_a" "$_in" \
                >"$WORK/out" 2>"$WORK/err"; then
                notok "$_tag np=$np $_o: adkit-kmeans failed"
                comment_file "$WORK/err"
                continue
            fi
            _w=$(window "$WORK/err")
            same "$_tag np=$np $_o (windows of $_w rows)" "$_m" "$_a"
            if [ "$_lim" = "$_need" ]; then
                check "$_tag np=$np: the smallest limit gives windows of one chunk" test "$_w" = 256
            fi
        done
    done
}

FX=$FIX/kmeans
ALL=$(ranks)
LAST=$(echo $ALL | awk '{ print $NF }')
# 2,000 rows in blocks of 16: rank blocks start off the window boundaries; several runs
streamed blobs-kpp "$ALL" 1 "$FX/blobs.h5:/data" --k 5 --n-init 3 --seed 4 --tol 0
# an init file and empty clusters relocated (scikit-learn's answer: kmeans.sh)
streamed empty-reloc "$ALL" 0 "$FX/empty.h5:/data" --k 4 --init "$FX/empty.h5:/init" \
    --tol "$(h5attr "$FX/empty.h5" /ref tol)" --max-iter "$(h5attr "$FX/empty.h5" /ref max_iter)"
streamed digits-random "$R1 $LAST" 0 "$FX/digits.h5:/data" --k 10 --init random --n-init 2 \
    --seed 2 --max-iter 30

# More ranks than rows (and than reproducibility blocks): 5 rows, and bad values
"$ADK_PYTHON3" - "$WORK" "$FX/iris.h5" <<'EOF'
import sys, h5py, numpy as np
w = sys.argv[1]
with h5py.File(sys.argv[2], "r") as f:
    x = f["data"][:5]
with h5py.File(w + "/small.h5", "w") as f:
    f["tiny"] = x
    y = np.arange(2000.0).reshape(1000, 2); y[700, 1] = np.nan; y[300, 0] = 1e160
    f["nan"] = y  # a NaN after an out-of-range value: the NaN is reported, as in memory
    y = np.arange(2000.0).reshape(1000, 2); y[600, 0] = 1e160
    f["huge"] = y
EOF
S=$WORK/small.h5
streamed tiny "$ALL" 0 "$S:/tiny" --k 2 --seed 1

# --- checkpoints: a streamed fit stopped on one rank count resumes on another -----------------
OPTS="--k 5 --n-init 2 --tol 0 --seed 6"
rm -f "$WORK/ref.h5" "$WORK/ref-a.h5"
run_np "$R1" "$KM" --quiet $OPTS --out "$WORK/ref.h5" --assign "$WORK/ref-a.h5" "$FX/blobs.h5:/data" \
    >/dev/null 2>&1
ADK_CKPT_TEST_STOP_AT=2:3
export ADK_CKPT_TEST_STOP_AT
expect_fail 2 75 "stopped on request at run 2 of 2, iteration 3: checkpoint" "$WORK/ck-m.h5" -- \
    "$KM" --quiet --mem-limit "$(need 2 $(need1 $OPTS "$FX/blobs.h5:/data"))" $OPTS --checkpoint "$WORK/ck.h5" \
    --out "$WORK/ck-m.h5" "$FX/blobs.h5:/data"
unset ADK_CKPT_TEST_STOP_AT
cp "$WORK/ck.h5" "$WORK/ck2.h5"
for how in "3 --stream" "1"; do
    set -- $how
    np=$1
    shift
    ck=$WORK/ck.h5
    [ $# = 0 ] && ck=$WORK/ck2.h5
    rm -f "$WORK/r-m.h5" "$WORK/r-a.h5"
    if run_np "$np" "$KM" --quiet "$@" $OPTS --resume "$ck" --out "$WORK/r-m.h5" \
        --assign "$WORK/r-a.h5" "$FX/blobs.h5:/data" >"$WORK/out" 2>&1; then
        same "streamed checkpoint resumed on $np ranks ${1:-in memory}" "$WORK/r-m.h5" "$WORK/r-a.h5"
    else
        notok "streamed checkpoint resumed on $np ranks ${1:-in memory}: adkit-kmeans failed"
        comment_file "$WORK/out"
    fi
done

# --- refusals: one message, exit code, nothing written ----------------------------------------
O=$WORK/never.h5
for bad in 0 12X -5 1.5G 99999999999999999999 4Ki; do
    expect_fail 2 1 "--mem-limit: '$bad' is not a positive byte count" "$O" -- \
        "$KM" --k 3 --mem-limit "$bad" --out "$O" "$FX/iris.h5:/data"
done
for np in 1 3; do
    expect_fail "$np" 1 "--mem-limit 1024 bytes is too small: the fit needs" "$O" -- \
        "$KM" --k 3 --mem-limit 1K --out "$O" "$FX/iris.h5:/data"
done
"$H5CMP" dump "$FX/iris.h5" /data | tr ' ' ',' >"$WORK/iris.csv"
expect_fail 2 1 "streamed input must be HDF5" "$O" -- "$KM" --k 3 --stream --out "$O" "$WORK/iris.csv"
expect_fail 2 1 "--label-col applies to CSV input" "$O" -- \
    "$KM" --k 3 --stream --label-col a --out "$O" "$FX/iris.h5:/data"
for np in 1 3; do
    expect_fail "$np" 2 "small.h5:/nan row 700: NaN in column 1" "$O" -- \
        "$KM" --k 3 --mem-limit 2M --out "$O" "$S:/nan"
    expect_fail "$np" 2 "small.h5:/huge row 600: value 1e+160 in column 0 is too large" "$O" -- \
        "$KM" --k 3 --stream --out "$O" "$S:/huge"
    expect_fail "$np" 2 "no dataset '/nope'" "$O" -- "$KM" --k 3 --stream --out "$O" "$S:/nope"
done

# --- memory: a streamed run's peak RSS against the in-memory run's ----------------------------
# 400,000 x 32 doubles (102 MB) on one rank; the streamed run is limited to 8 MiB of data. Under
# the sanitizers RSS means little (shadow memory): skipped there.
if [ -n "${ADK_SANITIZED:-}" ] && [ "$ADK_SANITIZED" != 0 ]; then
    ok "# SKIP peak memory under the sanitizers"
elif [ ! -x /usr/bin/time ]; then
    ok "# SKIP peak memory: no /usr/bin/time"
else
    G=$WORK/big.h5
    MOPTS="--k 4 --seed 1 --max-iter 2 --quiet"
    if run_np 1 "$BIN/adkit-gen" blobs --n 400000 --d 32 --centers 4 --seed 2 --out "$G" \
        --quiet >"$WORK/out" 2>&1 &&
        run_np 1 /usr/bin/time -f %M -o "$WORK/rss-mem" "$KM" $MOPTS --out "$WORK/bm.h5" \
            "$G" >"$WORK/out" 2>&1 &&
        run_np 1 /usr/bin/time -f %M -o "$WORK/rss-str" "$KM" $MOPTS --mem-limit 8M \
            --out "$WORK/bs.h5" "$G" >"$WORK/out" 2>&1; then
        m=$(tail -n 1 "$WORK/rss-mem")
        s=$(tail -n 1 "$WORK/rss-str")
        # the data alone is 100,000 KiB: in memory RSS includes it, streamed it must not
        check "peak RSS streamed ${s} KiB, in memory ${m} KiB: at least 80 MB less" \
            test "$s" -lt $((m - 80000))
        check "peak RSS streamed ${s} KiB: below the 100,000 KiB the data takes" test "$s" -lt 100000
        check "streamed model under --mem-limit 8M bitwise the in-memory one" \
            same_dsets "$WORK/bs.h5" "$WORK/bm.h5" /centroids
    else
        notok "peak memory runs failed"
        comment_file "$WORK/out"
    fi
fi

finish
