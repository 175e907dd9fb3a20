#!/bin/sh
# adkit-kmeans at every rank count: scikit-learn fixtures (same initial centroids: same labels and
# n_iter, centroids and inertia within 1e-10 relative), bitwise identity across rank counts
# (k-means++, random, n_init > 1, CSV input, more ranks than rows), every kernel (the AVX2 one
# equal to the AVX-512 one bit for bit; auto's choice with one rank's CPU features forced), and
# every bad input.
. "$ADK_SRCDIR/tests/mpi/lib.sh"
KM=$BIN/adkit-kmeans

# rel_close A B TOL: |A-B| <= TOL*|B|
rel_close() {
    awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b;
        exit !(d <= t * m) }'
}

# versus scikit-learn: fixture FILE, reference group G, extra options (TAG names the variant)
vs_sklearn() {
    fx=$1
    g=$2
    shift 2
    tag=${TAG:-$g}
    k=$(h5attr "$FIX/kmeans/$fx.h5" / k)
    tol=$(h5attr "$FIX/kmeans/$fx.h5" "/$g" tol)
    mi=$(h5attr "$FIX/kmeans/$fx.h5" "/$g" max_iter)
    for np in $(ranks); do
        m=$WORK/$fx-$tag-$np.h5
        a=$WORK/$fx-$tag-$np-a.h5
        if ! run_np "$np" "$KM" --quiet --k "$k" --tol "$tol" --max-iter "$mi" \
            --init "$FIX/kmeans/$fx.h5:/init" --out "$m" --assign "$a" "$@" \
            "$FIX/kmeans/$fx.h5:/data" >"$WORK/out" 2>&1; then
            notok "$fx/$tag np=$np: adkit-kmeans failed"
            comment_file "$WORK/out"
            continue
        fi
        check "$fx/$tag np=$np: labels equal scikit-learn's" \
            "$H5CMP" cmp "$a" /cluster "$FIX/kmeans/$fx.h5" "/$g/labels"
        check "$fx/$tag np=$np: centroids within 1e-10" \
            "$H5CMP" cmp --rtol 1e-10 --atol 1e-12 "$m" /centroids "$FIX/kmeans/$fx.h5" "/$g/centers"
        check "$fx/$tag np=$np: inertia within 1e-10" \
            rel_close "$(h5attr "$m" / inertia)" "$(h5attr "$FIX/kmeans/$fx.h5" "/$g" inertia)" 1e-10
        check "$fx/$tag np=$np: n_iter $(h5attr "$FIX/kmeans/$fx.h5" "/$g" n_iter)" \
            test "$(h5attr "$m" / n_iter)" = "$(h5attr "$FIX/kmeans/$fx.h5" "/$g" n_iter)"
        if [ "$np" != "$R1" ] && [ -f "$WORK/$fx-$tag-$R1.h5" ]; then
            check "$fx/$tag np=$np: bitwise equal to np=$R1" same_dsets "$m" "$WORK/$fx-$tag-$R1.h5" /centroids
            check "$fx/$tag np=$np: assignments bitwise equal to np=$R1" \
                same_dsets "$a" "$WORK/$fx-$tag-$R1-a.h5" /cluster /distance
            check "$fx/$tag np=$np: inertia bitwise equal to np=$R1" \
                test "$(h5attr "$m" / inertia)" = "$(h5attr "$WORK/$fx-$tag-$R1.h5" / inertia)"
        fi
    done
}

vs_sklearn iris ref
vs_sklearn digits ref
vs_sklearn blobs ref
vs_sklearn blobs tol0
vs_sklearn blobs maxiter3
vs_sklearn empty ref
# the portable CBLAS kernel as well as the default (the widest fused kernel the CPU has)
TAG=blas vs_sklearn digits ref --kernel blas
TAG=blas vs_sklearn blobs ref --kernel blas

# has_kernel K: whether this CPU runs --kernel K (what adkit-kmeans accepts, ADK_CPU_FEATURES too)
has_kernel() {
    run_np 1 "$KM" --quiet --kernel "$1" --k 2 --max-iter 1 --force --out "$WORK/has.h5" \
        "$FIX/kmeans/iris.h5:/data" >/dev/null 2>&1
}
# $ON1 RANK FEATURES CMD...: CMD with ADK_CPU_FEATURES=FEATURES on rank RANK only (the test hook)
ON1=$WORK/on1
cat >"$ON1" <<'EOF'
#!/bin/sh
if [ "${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-}}" = "$1" ]; then
    export ADK_CPU_FEATURES="$2"
fi
shift 2
exec "$@"
EOF
chmod +x "$ON1"
# The AVX2 kernel: scikit-learn's answers, bitwise equal at every rank count, the model says avx2;
# and the bits of the AVX-512 kernel (same dot-product and distance order) where both run.
if has_kernel avx2; then
    TAG=avx2 vs_sklearn digits ref --kernel avx2
    for np in $(ranks); do
        check "digits/avx2 np=$np: model kernel attribute avx2" \
            test "$(h5attr "$WORK/digits-avx2-$np.h5" / kernel)" = avx2
    done
    if has_kernel avx512; then
        check "digits: avx2 model and assignments bitwise equal to avx512's" sh -c \
            "'$H5CMP' cmp '$WORK/digits-avx2-$R1.h5' /centroids '$WORK/digits-ref-$R1.h5' /centroids &&
             '$H5CMP' cmp '$WORK/digits-avx2-$R1-a.h5' /cluster '$WORK/digits-ref-$R1-a.h5' /cluster &&
             '$H5CMP' cmp '$WORK/digits-avx2-$R1-a.h5' /distance '$WORK/digits-ref-$R1-a.h5' /distance &&
             test \"\$('$H5CMP' attr '$WORK/digits-avx2-$R1.h5' / inertia)\" = \"\$('$H5CMP' attr '$WORK/digits-ref-$R1.h5' / inertia)\""
        # --kernel auto with rank 1 made to lack AVX-512: every rank takes avx2, no rank avx512
        run_np 2 "$ON1" 1 avx2 "$KM" --quiet --k 3 --init "$FIX/kmeans/iris.h5:/init" \
            --out "$WORK/auto1.h5" "$FIX/kmeans/iris.h5:/data" >"$WORK/out" 2>&1
        check "auto with rank 1 lacking AVX-512: the avx2 kernel" \
            test "$(h5attr "$WORK/auto1.h5" / kernel)" = avx2
        expect_fail 2 1 "the avx512 kernel was asked for, but the CPU of rank 1 lacks AVX-512" \
            "$WORK/never1.h5" -- "$ON1" 1 avx2 "$KM" --kernel avx512 --k 3 --out "$WORK/never1.h5" \
            "$FIX/kmeans/iris.h5:/data"
    else
        ok "avx2 equals avx512 # SKIP this CPU lacks AVX-512"
    fi
    # rank 1 with neither: auto takes blas; avx2 is refused naming the rank
    run_np 2 "$ON1" 1 none "$KM" --quiet --k 3 --init "$FIX/kmeans/iris.h5:/init" \
        --out "$WORK/auto0.h5" "$FIX/kmeans/iris.h5:/data" >"$WORK/out" 2>&1
    check "auto with rank 1 lacking AVX2: the blas kernel" \
        test "$(h5attr "$WORK/auto0.h5" / kernel)" = blas
    expect_fail 2 1 "the avx2 kernel was asked for, but the CPU of rank 1 lacks AVX2 and FMA" \
        "$WORK/never2.h5" -- "$ON1" 1 none "$KM" --kernel avx2 --k 3 --out "$WORK/never2.h5" \
        "$FIX/kmeans/iris.h5:/data"
else
    ok "the AVX2 kernel # SKIP this CPU lacks AVX2 and FMA"
fi

# Rank-count invariance of our own initialisations (scikit-learn draws differently).
invariant() {
    tag=$1
    shift
    for np in $(ranks); do
        m=$WORK/inv-$tag-$np.h5
        a=$WORK/inv-$tag-$np-a.h5
        if ! run_np "$np" "$KM" --quiet --out "$m" --assign "$a" "$@" >"$WORK/out" 2>&1; then
            notok "$tag np=$np: adkit-kmeans failed"
            comment_file "$WORK/out"
            continue
        fi
        if [ "$np" = "$R1" ]; then
            ok "$tag np=$R1: reference run"
        else
            check "$tag np=$np: model and assignments bitwise equal to np=$R1" sh -c \
                "'$H5CMP' cmp '$m' /centroids '$WORK/inv-$tag-$R1.h5' /centroids &&
                 '$H5CMP' cmp '$a' /cluster '$WORK/inv-$tag-$R1-a.h5' /cluster &&
                 '$H5CMP' cmp '$a' /distance '$WORK/inv-$tag-$R1-a.h5' /distance &&
                 test \"\$('$H5CMP' attr '$m' / inertia)\" = \"\$('$H5CMP' attr '$WORK/inv-$tag-$R1.h5' / inertia)\""
        fi
    done
}

invariant kpp-digits --k 10 --seed 3 "$FIX/kmeans/digits.h5:/data"
invariant random-blobs --k 5 --init random --n-init 3 --seed 5 "$FIX/kmeans/blobs.h5:/data"
invariant kpp-ninit-iris --k 4 --n-init 4 --seed 9 "$FIX/kmeans/iris.h5:/data"

# k-means++ quality: as good as scikit-learn's best-of-10 within 1% on blobs
run_np 2 "$KM" --quiet --k 5 --seed 1 --n-init 10 --out "$WORK/q.h5" "$FIX/kmeans/blobs.h5:/data" >/dev/null 2>&1
sk=$(h5attr "$FIX/kmeans/blobs.h5" /ref inertia)
check "k-means++ n_init 10 inertia within 1% of scikit-learn's converged run" \
    awk -v a="$(h5attr "$WORK/q.h5" / inertia)" -v b="$sk" 'BEGIN { exit !(a <= 1.01 * b) }'

# CSV input gives the same answer as HDF5 input (same numbers, text round trip is exact at %.17g)
"$H5CMP" dump "$FIX/kmeans/iris.h5" /data | tr ' ' ',' >"$WORK/iris.csv"
{ echo "# iris as CSV"; echo "a,b,c,d"; cat "$WORK/iris.csv"; } >"$WORK/iris_h.csv"
for np in $(ranks); do
    run_np "$np" "$KM" --quiet --k 3 --init "$FIX/kmeans/iris.h5:/init" --out "$WORK/csv$np.h5" \
        "$WORK/iris_h.csv" >/dev/null 2>&1
    check "CSV input np=$np: same centroids as HDF5 input" \
        same_dsets "$WORK/csv$np.h5" "$WORK/iris-ref-$R1.h5" /centroids
done

# More ranks than rows (and than reproducibility blocks): 5 rows, 4 ranks.
head -n 5 "$WORK/iris.csv" >"$WORK/tiny.csv"
for np in $(ranks); do
    run_np "$np" "$KM" --quiet --k 2 --seed 1 --out "$WORK/tiny$np.h5" --assign "$WORK/tinya$np.h5" \
        "$WORK/tiny.csv" >/dev/null 2>&1
    check "5 rows on $np ranks: runs and matches np=$R1" \
        same_dsets "$WORK/tiny$np.h5" "$WORK/tiny$R1.h5" /centroids
done

# Bad input: exit code, one message, no output left, no hang.
printf '1,2\n3,x\n' >"$WORK/nonnum.csv"
printf '1,2\n3,4,5\n' >"$WORK/ragged.csv"
"$ADK_PYTHON3" - "$WORK" <<'EOF'
import sys, h5py, numpy as np
w = sys.argv[1]
with h5py.File(w + "/bad.h5", "w") as f:
    f["flat"] = np.arange(10.0)
    x = np.arange(20.0).reshape(10, 2); x[7, 1] = np.nan
    f["nan"] = x
    f["empty"] = np.zeros((0, 3))
    f["good"] = np.arange(20.0).reshape(10, 2)
    f["init3"] = np.zeros((3, 3))
    x = np.arange(20.0).reshape(10, 2); x[6, 0] = 1e160
    f["huge"] = x
EOF
B=$WORK/bad.h5
O=$WORK/never.h5
for np in 1 3; do
    expect_fail "$np" 3 "cannot open" "$O" -- "$KM" --out "$O" "$WORK/missing.h5:/data"
    expect_fail "$np" 2 "no dataset '/nope'" "$O" -- "$KM" --out "$O" "$B:/nope"
    expect_fail "$np" 2 "expected a 2-D" "$O" -- "$KM" --out "$O" "$B:/flat"
    expect_fail "$np" 2 "row 7: NaN in column 1" "$O" -- "$KM" --out "$O" --k 2 "$B:/nan"
    expect_fail "$np" 2 "empty data" "$O" -- "$KM" --out "$O" "$B:/empty"
    expect_fail "$np" 2 "non-numeric value 'x'" "$O" -- "$KM" --out "$O" "$WORK/nonnum.csv"
    expect_fail "$np" 2 "expected 2 (ragged row)" "$O" -- "$KM" --out "$O" "$WORK/ragged.csv"
    expect_fail "$np" 1 "k must be at least 1" "$O" -- "$KM" --k 0 --out "$O" "$B:/good"
    expect_fail "$np" 2 "exceeds the 10 rows" "$O" -- "$KM" --k 11 --out "$O" "$B:/good"
    expect_fail "$np" 2 "expected k x d = 3 x 2" "$O" -- "$KM" --k 3 --init "$B:/init3" --out "$O" "$B:/good"
    expect_fail "$np" 1 "unknown option '--kk'" "$O" -- "$KM" --kk 3 --out "$O" "$B:/good"
    expect_fail "$np" 1 "--out MODEL.h5 is required" - -- "$KM" --k 2 "$B:/good"
    expect_fail "$np" 1 "not an integer" "$O" -- "$KM" --k two --out "$O" "$B:/good"
    expect_fail "$np" 1 "--kernel: 'avx' is not auto, blas, avx2 or avx512" "$O" -- "$KM" \
        --kernel avx --out "$O" "$B:/good"
    expect_fail "$np" 2 "row 6: value 1e+160 in column 0 is too large" "$O" -- "$KM" --k 2 \
        --out "$O" "$B:/huge"
    expect_fail "$np" 1 "--n-init 1000000000: at most" "$O" -- "$KM" --k 2 --n-init 1000000000 \
        --out "$O" "$B:/good"
    # not converging where convergence is required: exit 4 and no model, no assignments
    expect_fail "$np" 4 "did not converge within --max-iter 1" "$O" -- "$KM" --k 3 --max-iter 1 \
        --tol 0 --init random --seed 3 --require-convergence --out "$O" --assign "$O.a.h5" "$B:/good"
    check "np=$np no assignments left after exit 4" test ! -e "$O.a.h5"
done
# never overwrite without --force
cp "$WORK/iris-ref-$R1.h5" "$WORK/keep.h5"
expect_fail 2 3 "exists; use --force" - -- "$KM" --k 3 --out "$WORK/keep.h5" "$FIX/kmeans/iris.h5:/data"
check "existing output untouched" same_dsets "$WORK/keep.h5" "$WORK/iris-ref-$R1.h5" /centroids
finish
