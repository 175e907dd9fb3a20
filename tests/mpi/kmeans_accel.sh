#!/bin/sh
# adkit-kmeans --algorithm hamerly and yinyang are exact: with the same kernel they give the bits of
# --algorithm lloyd (centroids, labels, distances, inertia, n_iter, converged) at every rank count,
# on scikit-learn's fixtures, on overlapping blobs whose labels keep changing late, on rows whose
# labels the kernel's rounding decides (cancellation), on tie-heavy data (integer grids with every
# row repeated, points equidistant from two or four centres, random inits that pick duplicate rows:
# equal centres and empty clusters), with n_init > 1, and resumed
# from a checkpoint, and streamed window by window (--mem-limit). Every kernel this CPU runs (blas;
# avx512 and avx2 where the CPU has them). The cluster sums are updated incrementally (only the
# blocks whose rows change cluster are summed again) in every iteration but a run's first: each
# case checks that they were, and a streamed fit whose windows are smaller than a reproducibility
# block checks that it falls back to full sums (same bits). Each case runs at one or two rank
# counts, together all of them (the time budget); less under the sanitizers (ADK_SANITIZED=1).
. "$ADK_SRCDIR/tests/mpi/lib.sh"
KM=$BIN/adkit-kmeans
export OMPI_MCA_odls_base_sigkill_timeout=0

KERNELS=blas
grep -q avx2 /proc/cpuinfo 2>/dev/null && grep -q fma /proc/cpuinfo && KERNELS="$KERNELS avx2"
grep -q avx512f /proc/cpuinfo 2>/dev/null && KERNELS="$KERNELS avx512"

D=$WORK/data.h5
if ! "$ADK_PYTHON3" - "$D" <<'PY' >"$WORK/py.out" 2>&1; then
import sys, h5py, numpy as np
rng = np.random.default_rng(15)
with h5py.File(sys.argv[1], "w") as f:
    # overlapping blobs: labels still change after tens of iterations (tol 0 runs to the end)
    c = rng.uniform(-4, 4, size=(8, 5))
    f["late"] = np.concatenate([cc + 2.5 * rng.standard_normal((400, 5)) for cc in c])
    # a 2-D integer grid, every point three times; centres whose bisectors hold grid points
    # ((3, y) is as far from (1, .) as from (5, .); (3, 3) as far from all four)
    g = np.array([(x, y) for x in range(8) for y in range(8)], dtype=float)
    f["grid"] = np.repeat(g, 3, axis=0)
    f["grid_init"] = np.array([[1, 1], [1, 5], [5, 1], [5, 5]], dtype=float)
    # a 3-D grid twice over, centres on corners and the middle (many equidistant points)
    g3 = np.array([(x, y, z) for x in range(5) for y in range(5) for z in range(5)], dtype=float)
    f["grid3"] = np.concatenate([g3, g3[::-1]])
    f["grid3_init"] = np.array([[0, 0, 0], [4, 0, 0], [0, 4, 0], [0, 0, 4], [2, 2, 2],
                                [4, 4, 4]], dtype=float)
    # cancellation: two tight clusters far from the mean (||x - mean|| ~ 1e4, spreads ~ 1e-5), so
    # the kernel's ||c||^2 - 2 x.c is off by ~1e-8 >> the squared distances: its labels inside a
    # cluster are decided by rounding; only bounds with a margin for that rounding stay exact
    f["cancel"] = np.concatenate([s * 1e4 + 1e-5 * rng.standard_normal((300, 4))
                                  for s in (-1.0, 1.0)])
    # enough rows (140,000) for reproducibility blocks of 512 rows, twice a distance chunk
    c = rng.uniform(-3, 3, size=(6, 2))
    f["big"] = np.concatenate([cc + 1.5 * rng.standard_normal((140000 // 6 + 1, 2))
                               for cc in c])[:140000]
PY
    notok "making the test data"
    comment_file "$WORK/py.out"
    finish
fi

# same TAG KERN WHAT MODEL ASSIGN [REF]: bitwise the lloyd reference of TAG (or REF) with KERN
same() {
    _r=$WORK/${6:-$1}-$2-lloyd
    check "$1 $2 $3: centroids, labels and distances are lloyd's bits" \
        sh -c "'$H5CMP' cmp '$4' /centroids '$_r.h5' /centroids &&
               '$H5CMP' cmp '$5' /cluster '$_r-a.h5' /cluster &&
               '$H5CMP' cmp '$5' /distance '$_r-a.h5' /distance"
    check "$1 $2 $3: inertia, n_iter and converged are lloyd's" test \
        "$(h5attr "$4" / inertia) $(h5attr "$4" / n_iter) $(h5attr "$4" / converged)" = \
        "$(h5attr "$_r.h5" / inertia) $(h5attr "$_r.h5" / n_iter) $(h5attr "$_r.h5" / converged)"
}

# nth I...: the I-th rank count listed for each I (counting on from the first past the end), each
# once: the cases below share the rank counts out, so each runs at one or two and together they
# cover every one (the time budget)
nth() {
    _l=$(ranks)
    _c=$(echo $_l | wc -w)
    echo $(for _i in "$@"; do
        echo $_l | cut -d' ' -f$(((_i - 1) % _c + 1))
    done | awk '!s[$0]++')
}
set -- $(ranks)
first=$1
eval "last=\${$#}"
ALL=$(ranks)
SAN=${ADK_SANITIZED:-0} # make sets it: 1 in the sanitizer build
if [ "$SAN" = 1 ]; then # one kernel there: the widest (rows selected one by one with AVX-512)
    set -- $KERNELS
    eval "KERNELS=\${$#}"
fi

# The sums are incremental only after a pass that changed fewer than n/k labels (else a full pass
# is cheaper); these small fits change many, so the test hook makes every pass after a run's
# first incremental, as the cases below expect; the rule itself is tested at the end.
ADK_KMEANS_INCR_ALWAYS=1
export ADK_KMEANS_INCR_ALWAYS

# incremental WHAT OUT RUNS: the fit's output OUT says that all its iterations but the first of
# each of its RUNS runs updated the cluster sums incrementally (RUNS "none": that none did)
incremental() {
    _l=$(sed -n 's/.*incremental sums \([0-9]*\) of \([0-9]*\) iterations.*/\1 \2/p' "$2")
    if [ "$3" = none ]; then
        check "$1: no incremental sums (full sums every iteration)" test "${_l% *}" = 0
    else
        check "$1: incremental sums in all iterations but the first of each of $3 runs ($_l)" \
            test -n "$_l" -a "$((${_l#* } - ${_l% *}))" = "$3"
    fi
}

# [ALGS=...] [RUNS=...] acc TAG RANKS INPUT OPTS...: lloyd on $R1 ranks, then each of ALGS (hamerly)
# on each of RANKS, for every kernel; the skipped fractions are kept in $WORK/TAG-KERN.skip; RUNS:
# the number of runs (--n-init: 1)
acc() {
    _incr=${RUNS:-1}
    _t=$1
    _nps=$2
    _in=$3
    shift 3
    for _k in $KERNELS; do
        _r=$WORK/$_t-$_k-lloyd
        if ! run_np "$R1" "$KM" --quiet --algorithm lloyd --kernel "$_k" --out "$_r.h5" \
            --assign "$_r-a.h5" "$@" "$_in" >"$WORK/out" 2>&1; then
            notok "$_t $_k: the lloyd reference run failed"
            comment_file "$WORK/out"
            continue
        fi
        : >"$WORK/$_t-$_k.skip"
        for _a in ${ALGS:-hamerly}; do
            for np in $_nps; do
                _m=$WORK/$_t-$_k-$_a-$np
                if ! run_np "$np" "$KM" --quiet --algorithm "$_a" --kernel "$_k" --out "$_m.h5" \
                    --assign "$_m-a.h5" "$@" "$_in" >"$WORK/out" 2>&1; then
                    notok "$_t $_k $_a np=$np: adkit-kmeans failed"
                    comment_file "$WORK/out"
                    continue
                fi
                sed -n "s/.*algorithm $_a  distances skipped \([0-9.]*\).*/\1/p" "$WORK/out" \
                    >>"$WORK/$_t-$_k.skip"
                incremental "$_t $_k $_a np=$np" "$WORK/out" "$_incr"
                same "$_t" "$_k" "$_a np=$np" "$_m.h5" "$_m-a.h5"
            done
        done
    done
}

# skipped TAG MIN: the bounds skipped more than MIN of the distances (for every kernel and rank
# count), so the comparisons above tested skipping, not a disguised Lloyd
skipped() {
    for _k in $KERNELS; do
        check "$1 $_k: the bounds skipped more than $2 of the distances at every rank count" \
            awk -v m="$2" 'BEGIN { n = 0 } { n++; if (!($1 > m)) exit 1 } END { exit n == 0 }' \
            "$WORK/$1-$_k.skip"
    done
}

FK=$FIX/kmeans
[ "$SAN" = 1 ] || acc digits "$(nth 4)" "$FK/digits.h5:/data" --k 10 --init "$FK/digits.h5:/init"
[ "$SAN" = 1 ] || skipped digits 0.3
acc empty "$(nth 2)" "$FK/empty.h5:/data" --k "$(h5attr "$FK/empty.h5" / k)" --init "$FK/empty.h5:/init"
LATE="--k 12 --init random --n-init 2 --seed 4 --tol 0"
# the first kernel at the first and last rank counts, the others (avx512) at every one
KALL=$KERNELS
KERNELS=${KALL%% *}
RUNS=2 acc late "$(nth 1 4)" "$D:/late" $LATE
KERNELS=${KALL#"$KERNELS"}
[ -n "$KERNELS" ] && RUNS=2 acc late "$ALL" "$D:/late" $LATE
KERNELS=$KALL
skipped late 0.3
acc grid "$(nth 1)" "$D:/grid" --k 4 --init "$D:/grid_init" --tol 0
RUNS=4 acc grid-rand "$(nth 3)" "$D:/grid" --k 10 --init random --n-init 4 --seed 2 --tol 0
[ "$SAN" = 1 ] || acc grid3 "$(nth 2)" "$D:/grid3" --k 6 --init "$D:/grid3_init" --tol 0
# yinyang's groups need k >= 20: groups of 10 centres, one with ties and relocations (grid24: in
# iterations 2 and 3 of both runs, so relocation meets incremental sums)
[ "$SAN" = 1 ] || ALGS=yinyang acc late30 "$(nth 1 4)" "$D:/late" --k 30 --init random --n-init 1 --seed 5 --tol 0
[ "$SAN" = 1 ] || skipped late30 0.3
ALGS=yinyang RUNS=2 acc grid24 "$(nth 3)" "$D:/grid" --k 24 --init random --n-init 2 --seed 6 --tol 0
acc cancel "$(nth 1 4)" "$D:/cancel" --k 8 --init random --n-init 1 --seed 3 --tol 0 --max-iter 40

# Streamed (--mem-limit at the smallest window, one 256-row distance chunk: 5 to 13 windows per
# rank, the bounds moved and checked window by window) hamerly gives in-memory lloyd's bits.
for np in $(nth 2 4); do
    _lim=$(run_np "$np" "$KM" --algorithm hamerly --mem-limit 1 --out "$WORK/never.h5" \
        --assign "$WORK/never-a.h5" $LATE \
        "$D:/late" 2>&1 | sed -n 's/.*the fit needs \([0-9]*\) bytes per rank.*/\1/p' | head -n 1)
    for _k in $KERNELS; do
        _m=$WORK/late-stream-$_k-$np
        if run_np "$np" "$KM" --algorithm hamerly --kernel "$_k" --mem-limit "${_lim:-0}" \
            --out "$_m.h5" --assign "$_m-a.h5" $LATE "$D:/late" >"$WORK/out" 2>&1; then
            check "late streamed $_k np=$np: windows of one chunk" \
                grep -q "^streaming .*: windows of 256 rows" "$WORK/out"
            incremental "late streamed $_k np=$np" "$WORK/out" 2
            same late "$_k" "hamerly --mem-limit $_lim np=$np" "$_m.h5" "$_m-a.h5"
        else
            notok "late streamed $_k np=$np: adkit-kmeans failed"
            comment_file "$WORK/out"
        fi
    done
done

# Reproducibility blocks of 512 rows (140,000 rows): streamed in windows of one 256-row chunk (the
# smallest --mem-limit) a block spans two windows and the sums are full every iteration; 256 rows
# more make windows of one block, and the sums are incremental again (a memory limit between
# is rounded down to whole blocks). Both give in-memory lloyd's bits. The widest kernel, two rank
# counts; not under the sanitizers (the time budget).
set -- $KERNELS
eval "kw=\${$#}"
BIG="--k 6 --init random --n-init 1 --seed 3 --max-iter 25"
if [ "$SAN" = 1 ]; then
    :
elif run_np "$R1" "$KM" --quiet --algorithm lloyd --kernel "$kw" --out "$WORK/big-$kw-lloyd.h5" \
    --assign "$WORK/big-$kw-lloyd-a.h5" $BIG "$D:/big" >"$WORK/out" 2>&1; then
    for np in $(nth 2 3); do
        _lim=$(run_np "$np" "$KM" --algorithm hamerly --mem-limit 1 --out "$WORK/never.h5" \
            --assign "$WORK/never-a.h5" $BIG "$D:/big" 2>&1 | sed -n 's/.*the fit needs \([0-9]*\) bytes per rank.*/\1/p' |
            head -n 1)
        for _x in 0 256 512; do
            _m=$WORK/big-stream-$np-$_x
            if run_np "$np" "$KM" --algorithm hamerly --kernel "$kw" \
                --mem-limit "$((${_lim:-0} + _x * 16))" --out "$_m.h5" --assign "$_m-a.h5" \
                $BIG "$D:/big" >"$WORK/out" 2>&1; then
                _w=$((_x == 0 ? 256 : 512)) # 768 rows fit: whole blocks, 512
                check "big streamed np=$np +$_x rows: windows of $_w rows" \
                    grep -q "^streaming .*: windows of $_w rows" "$WORK/out"
                incremental "big streamed np=$np windows of $_w" "$WORK/out" \
                    "$([ "$_x" = 0 ] && echo none || echo 1)"
                same big "$kw" "hamerly streamed np=$np windows of $_w" "$_m.h5" "$_m-a.h5" big
            else
                notok "big streamed np=$np +$_x: adkit-kmeans failed"
                comment_file "$WORK/out"
            fi
        done
    done
else
    notok "big: the lloyd reference run failed"
    comment_file "$WORK/out"
fi

# A hamerly fit stopped at an iteration boundary and resumed on another rank count (the bounds are
# rebuilt by one full pass) ends with the uninterrupted lloyd run's bits. The widest kernel.
set -- $KERNELS
eval "kw=\${$#}"
for _k in $kw; do
    ck=$WORK/ck-$_k.h5
    ADK_CKPT_TEST_STOP_AT=2:7
    export ADK_CKPT_TEST_STOP_AT
    expect_fail "$first" 75 "stopped on request at run 2 of 2, iteration 7" "$WORK/ck.m.h5" -- \
        "$KM" --quiet --algorithm hamerly --kernel "$_k" --k 12 --init random --n-init 2 --seed 4 \
        --tol 0 --checkpoint "$ck" --out "$WORK/ck.m.h5" "$D:/late"
    unset ADK_CKPT_TEST_STOP_AT
    if run_np "$last" "$KM" --quiet --algorithm hamerly --kernel "$_k" --k 12 --init random \
        --n-init 2 --seed 4 --tol 0 --resume "$ck" --out "$WORK/ck.m.h5" \
        --assign "$WORK/ck.a.h5" "$D:/late" >"$WORK/out" 2>&1; then
        same "late resumed" "$_k" "hamerly np=$last" "$WORK/ck.m.h5" "$WORK/ck.a.h5" late
        # run 2 resumed after 7 of its iterations: a full pass rebuilds the labels and the sums
        _l=$(sed -n 's/.*incremental sums \([0-9]*\) of \([0-9]*\) iterations.*/\1 \2/p' "$WORK/out")
        check "late resumed $_k: incremental sums after the first resumed iteration ($_l)" \
            test -n "$_l" -a "${_l% *}" -gt 0 -a "$((${_l#* } - ${_l% *}))" = 1
        rm -f "$WORK/ck.m.h5" "$WORK/ck.a.h5"
    else
        notok "late $_k: the resumed hamerly fit failed"
        comment_file "$WORK/out"
    fi
done

# Without the hook: the iterations whose sums were incremental are exactly those after a pass that
# changed fewer than n/k labels (from the progress lines), the first of each run never; the bits
# are still lloyd's.
unset ADK_KMEANS_INCR_ALWAYS
for np in $(nth 1 3); do
    _m=$WORK/rule-$kw-$np
    if run_np "$np" "$KM" --algorithm hamerly --kernel "$kw" --out "$_m.h5" --assign "$_m-a.h5" \
        $LATE "$D:/late" >"$WORK/out" 2>&1; then
        _want=$(awk '/ rows x .* features, k = / { n = $2; k = $9 + 0 }
            $1 == "run" && $3 == "iter" {
                for (i = 4; i < NF; i++) if ($i == "changed") c[$2, $4 + 0] = $(i + 1)
                last[$2] = $4 + 0 }
            END { w = 0; full = 0
                for (r in last) for (t = 2; t <= last[r]; t++) {
                    if (c[r, t - 1] * k < n) w++; else full++ }
                print w, full }' "$WORK/out")
        _l=$(sed -n 's/.*incremental sums \([0-9]*\) of \([0-9]*\) iterations.*/\1/p' "$WORK/out")
        check "late $kw np=$np without the hook: incremental in the iterations the rule picks (want ${_want% *}, full after many changes ${_want#* }; got $_l)" \
            test -n "$_l" -a "$_l" = "${_want% *}" -a "${_want#* }" -gt 0
        same late "$kw" "hamerly np=$np, the full/incremental rule" "$_m.h5" "$_m-a.h5"
    else
        notok "late $kw np=$np: hamerly without the hook failed"
        comment_file "$WORK/out"
    fi
done

check "the model says which algorithm fitted it" \
    test "$(h5attr "$WORK/late-$kw-hamerly-$first.h5" / algorithm)" = hamerly
expect_fail 2 1 "--algorithm: 'elkan' is not auto, lloyd, hamerly or yinyang" "$WORK/never.h5" -- \
    "$KM" --algorithm elkan --out "$WORK/never.h5" "$D:/late"
finish
