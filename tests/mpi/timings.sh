#!/bin/sh
# Integration tests of --timings: adkit-gen, -kmeans, -threshold, -knn, -gauss fit and -tsne (on
# 60 rows) at every rank count, with --quiet: exactly one timings line, from rank 0, with every
# field; the attributes on "/" of every HDF5 output, consistent (non-negative, mean <= max <=
# ranks x mean, total = ranks x mean, the phases' means within the run's wall time, some I/O time,
# no bytes at 1 rank); lower bounds the bytes sent must reach: adkit-knn's ring passes (P - 1)
# blocks of every rank's rows, adkit-kmeans all-reduces at least the K x D centroid sums from
# every rank once per iteration; the data the same bits with and without --timings (and no
# attribute without it); every --help lists it; each `adkit run` step given it prints its line.
. "$ADK_SRCDIR/tests/mpi/lib.sh"

N=600 # rows, features and centres of the generated data
D=4
C=3
KM=6 # k-means clusters: more than the centres, on overlapping blobs, so it iterates a while
ATTRS="timings_io_max timings_io_mean timings_compute_max timings_compute_mean timings_mpi_max
timings_mpi_mean bytes_sent_max bytes_sent_mean bytes_sent_total timings_ranks"
NUM='[0-9]+\.[0-9]{3}'
SIZE='[0-9.]+ (B|kB|MB|GB|TB|PB)'

now() {
    date +%s.%N
}

# timed NAME NP PROG ARGS...: PROG ARGS --timings --quiet on NP ranks, stderr in
# $WORK/NAME-npNP.err, its wall seconds in $WORK/NAME-npNP.wall; then the line checked.
timed() {
    _name=$1
    _np=$2
    _prog=$3
    shift 3
    _t0=$(now)
    if ! run_np "$_np" "$BIN/$_prog" "$@" --timings --quiet >/dev/null 2>"$WORK/$_name-np$_np.err"; then
        notok "$_name np=$_np: run failed"
        comment_file "$WORK/$_name-np$_np.err"
        return 1
    fi
    echo "$(now) $_t0" | awk '{ printf "%.6f\n", $1 - $2 }' >"$WORK/$_name-np$_np.wall"
    check "$_name np=$_np: one timings line, every field, max >= mean" one_line \
        "$WORK/$_name-np$_np.err" "$_prog" "$_np"
}

# one_line ERR PROG NP: exactly one timings line in ERR, from PROG over NP ranks, every field.
one_line() {
    _r=ranks
    [ "$3" = 1 ] && _r=rank
    [ "$(grep -c 'timings over' "$1")" = 1 ] &&
        grep -E "^$2: timings over $3 $_r \(max / mean\): I/O $NUM / $NUM s, compute $NUM / $NUM s, MPI $NUM / $NUM s, sent $SIZE / $SIZE \(total $SIZE\)\$" "$1" |
        sed -E 's|.*I/O ([0-9.]+) / ([0-9.]+) s, compute ([0-9.]+) / ([0-9.]+) s, MPI ([0-9.]+) / ([0-9.]+) s.*|\1 \2 \3 \4 \5 \6|' |
        awk '{ if (!($1 + 0.0005 >= $2 && $3 + 0.0005 >= $4 && $5 + 0.0005 >= $6)) exit 1; n++ }
             END { exit n != 1 }'
}

# sane FILE NP WALL: every attribute on "/" of FILE, consistent, within WALL seconds.
sane() {
    _vals=
    for _a in $ATTRS; do
        _v=$(h5attr "$1" / "$_a") || return 1
        _vals="$_vals $_v"
    done
    echo "$_vals" | awk -v np="$2" -v wall="$3" -v f="$1" '
        function pair(mx, mean, what) {
            # the largest rank is at least the mean and at most the sum (slack for rounding)
            if (!(mx >= mean * (1 - 1e-9) && mean * np >= mx * (1 - 1e-9))) bad = bad " " what
        }
        {
            bad = ""
            for (i = 1; i <= 10; i++) if (!($i >= 0)) bad = bad " field" i "<0"
            pair($1, $2, "io"); pair($3, $4, "compute"); pair($5, $6, "mpi"); pair($7, $8, "bytes")
            if ($10 != np) bad = bad " ranks=" $10
            d = $9 - $8 * np
            if (d < 0) d = -d
            if (d > 1e-9 * $9 + 1e-6) bad = bad " total!=ranks*mean"
            if (np == 1 && ($7 != 0 || $9 != 0)) bad = bad " bytes-at-1-rank"
            if (!($1 > 0)) bad = bad " no-io-time"
            if (!($2 + $4 + $6 <= wall)) bad = bad " phases " $2 + $4 + $6 " > wall " wall
            if (bad != "") { print f ":" bad; exit 1 }
        }'
}

# sane_all NAME NP FILE...: sane on every output FILE of run NAME on NP ranks.
sane_all() {
    _name=$1
    _np=$2
    shift 2
    _w=$(cat "$WORK/$_name-np$_np.wall")
    for _f in "$@"; do
        sane "$_f" "$_np" "$_w" || return 1
    done
}

# no_attrs FILE...: no timings attribute at all
no_attrs() {
    for _f in "$@"; do
        for _a in $ATTRS; do
            if h5attr "$_f" / "$_a" >/dev/null 2>&1; then
                echo "$_f has $_a"
                return 1
            fi
        done
    done
}

# Every program's --help lists --timings (adkit-gauss: each command's).
check "--help of every program lists --timings" sh -c "
    for p in elbow gen kmeans knn metrics pca score subset threshold tsne 'gauss fit' \
             'gauss select' 'gauss score'; do
        set -- \$p
        '$BIN/adkit-'\$1 \${2:+\$2} --help | grep -q -- '^  --timings ' || { echo \"\$p\"; exit 1; }
    done"

# The reference outputs, without --timings, on R1 ranks.
r=$WORK/ref
mkdir -p "$r"
(
    set -e
    run_np "$R1" "$BIN/adkit-gen" blobs --quiet --n $N --d $D --centers $C --cluster-std 6 \
        --seed 3 --out "$r/g.h5"
    run_np "$R1" "$BIN/adkit-kmeans" --quiet --k $KM --n-init 1 --tol 0 --max-iter 30 --seed 1 \
        --out "$r/m.h5" --assign "$r/a.h5" "$r/g.h5"
    run_np "$R1" "$BIN/adkit-threshold" --quiet --model "$r/m.h5" --assign "$r/a.h5" \
        --per-cluster-percentile 95 --out "$r/mt.h5"
    run_np "$R1" "$BIN/adkit-knn" --quiet --k 5 --out "$r/k.h5" "$r/g.h5"
    run_np "$R1" "$BIN/adkit-gauss" fit --quiet "$r/g.h5" "$r/gm.h5"
    run_np "$R1" "$BIN/adkit-tsne" --quiet --max-iter 250 --out "$r/t.h5" "$FIX/tsne/small.h5"
) >/dev/null 2>"$WORK/e" && ok "reference runs without --timings" ||
    { notok "reference runs without --timings"; comment_file "$WORK/e"; }
check "without --timings: no timings attribute" \
    no_attrs "$r/g.h5" "$r/m.h5" "$r/a.h5" "$r/mt.h5" "$r/k.h5" "$r/gm.h5" "$r/t.h5"

for np in $(ranks); do
    d=$WORK/np$np
    mkdir -p "$d"
    timed gen "$np" adkit-gen blobs --n $N --d $D --centers $C --cluster-std 6 --seed 3 \
        --out "$d/g.h5"
    check "gen np=$np: attributes sane" sane_all gen "$np" "$d/g.h5"
    check "gen np=$np: the data the same bits as without --timings" \
        same_dsets "$d/g.h5" "$r/g.h5" /data /labels /centers /cluster_std

    timed kmeans "$np" adkit-kmeans --k $KM --n-init 1 --tol 0 --max-iter 30 --seed 1 \
        --out "$d/m.h5" --assign "$d/a.h5" "$d/g.h5"
    check "kmeans np=$np: attributes sane on both outputs" sane_all kmeans "$np" "$d/m.h5" "$d/a.h5"
    check "kmeans np=$np: the data the same bits as without --timings" sh -c "
        '$H5CMP' cmp '$d/m.h5' /centroids '$r/m.h5' /centroids &&
        '$H5CMP' cmp '$d/a.h5' /cluster '$r/a.h5' /cluster &&
        '$H5CMP' cmp '$d/a.h5' /distance '$r/a.h5' /distance"

    timed threshold "$np" adkit-threshold --model "$d/m.h5" --assign "$d/a.h5" \
        --per-cluster-percentile 95 --out "$d/mt.h5"
    check "threshold np=$np: attributes sane" sane_all threshold "$np" "$d/mt.h5"
    check "threshold np=$np: the data the same bits as without --timings" \
        same_dsets "$d/mt.h5" "$r/mt.h5" /centroids /thresholds

    timed knn "$np" adkit-knn --k 5 --out "$d/k.h5" "$d/g.h5"
    check "knn np=$np: attributes sane" sane_all knn "$np" "$d/k.h5"
    check "knn np=$np: the data the same bits as without --timings" \
        same_dsets "$d/k.h5" "$r/k.h5" /knn_index /knn_distance /score

    timed gauss "$np" adkit-gauss fit "$d/g.h5" "$d/gm.h5"
    check "gauss fit np=$np: attributes sane" sane_all gauss "$np" "$d/gm.h5"
    check "gauss fit np=$np: the data the same bits as without --timings" \
        same_dsets "$d/gm.h5" "$r/gm.h5" /mu /var

    timed tsne "$np" adkit-tsne --max-iter 250 --out "$d/t.h5" "$FIX/tsne/small.h5"
    check "tsne np=$np: attributes sane" sane_all tsne "$np" "$d/t.h5"
    check "tsne np=$np: the data the same bits as without --timings" \
        same_dsets "$d/t.h5" "$r/t.h5" /embedding

    if [ "$np" -gt 1 ]; then
        # the ring: every rank's block of rows x D doubles travels to the P - 1 other ranks
        check "knn np=$np: bytes sent >= the ring's (P - 1) N D 8" sh -c "
            t=\$('$H5CMP' attr '$d/k.h5' / bytes_sent_total) &&
            awk -v t=\"\$t\" 'BEGIN { exit !(t >= ($np - 1) * $N * $D * 8) }'"
        # one iteration more all-reduces at least the K x D centroid sums (doubles) on every rank
        timed kmeans1 "$np" adkit-kmeans --k $KM --n-init 1 --tol 0 --max-iter 1 --seed 1 \
            --out "$d/m1.h5" "$d/g.h5"
        check "kmeans np=$np: more iterations, at least P K D 8 bytes more each" sh -c "
            i1=\$('$H5CMP' attr '$d/m1.h5' / n_iter) && i=\$('$H5CMP' attr '$d/m.h5' / n_iter) &&
            b1=\$('$H5CMP' attr '$d/m1.h5' / bytes_sent_total) &&
            b=\$('$H5CMP' attr '$d/m.h5' / bytes_sent_total) &&
            echo \"iterations \$i1 and \$i, bytes \$b1 and \$b\" &&
            awk -v i1=\"\$i1\" -v i=\"\$i\" -v b1=\"\$b1\" -v b=\"\$b\" \
                'BEGIN { exit !(i > i1 && b - b1 >= $np * (i - i1) * $KM * $D * 8) }'"
    fi
done

# adkit run: each step given --timings prints its own line (and writes the attributes), in order;
# a step without it prints none.
np=$(ranks | awk '{print $NF}')
d=$WORK/steps
mkdir -p "$d"
cat >"$d/steps.txt" <<EOF
gen blobs --n 200 --d 3 --centers 3 --seed 5 --out g.h5 --timings
kmeans --k 3 --seed 2 --out m.h5 --timings g.h5
knn --k 3 --out k.h5 g.h5
EOF
if (cd "$d" && run_np "$np" "$BIN/adkit" run steps.txt >/dev/null 2>err.txt); then
    check "adkit run np=$np: one line per step with --timings, in order; attributes" sh -c "
        grep 'timings over' '$d/err.txt' | cut -d: -f1 | tr '\n' ' ' | grep -qx 'adkit-gen adkit-kmeans ' &&
        [ \"\$('$H5CMP' attr '$d/g.h5' / timings_ranks)\" = $np ] &&
        [ \"\$('$H5CMP' attr '$d/m.h5' / timings_ranks)\" = $np ] &&
        ! '$H5CMP' attr '$d/k.h5' / timings_ranks >/dev/null 2>&1"
else
    notok "adkit run np=$np: run failed"
    comment_file "$d/err.txt"
fi
finish
