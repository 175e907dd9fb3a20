#!/bin/sh
# Integration tests of adkit-pca at every rank count: components, explained variances (ratios),
# mean and projections (plain and whitened) within 1e-10 of numpy's SVD of the centred rows
# (tests/fixtures/make_pca_fixtures.py: tolerances stored with the references), eigenvalues only
# where eigenvectors are not unique (digits' zero-variance pixels), CSV = HDF5, bitwise identical
# outputs at every rank count (more ranks than rows included), degenerate data, --force, and bad
# input (exit code, one message line, no output left, no hang).
. "$ADK_SRCDIR/tests/mpi/lib.sh"

P="$BIN/adkit-pca --quiet"
FP=$FIX/pca
DSETS="/components /explained_variance /explained_variance_ratio /mean /projection"

# near OUT DSET REF REFDSET: within 1e-10 relative or the reference's own absolute tolerance
near() {
    _atol=$(h5attr "$3" "$4" atol) &&
        "$H5CMP" cmp --rtol 1e-10 --atol "$_atol" "$1" "$2" "$3" "$4"
}

# vs_numpy OUT REF [whiten]: every output dataset against the numpy reference
vs_numpy() {
    for _d in /components /explained_variance /explained_variance_ratio /mean; do
        near "$1" "$_d" "$2" "$_d" || return 1
    done
    near "$1" /projection "$2" "/projection${3:+_whiten}"
}

# eigenvalues_only OUT REF: all d variances and ratios (the components are not unique)
eigenvalues_only() {
    near "$1" /explained_variance "$2" /explained_variance_all &&
        near "$1" /explained_variance_ratio "$2" /explained_variance_ratio_all
}

# all_zero FILE DSET: every value of the dataset is exactly 0
all_zero() {
    "$H5CMP" dump "$1" "$2" | tr ' ' '\n' | grep -v '^$' | grep -qv '^0$' && return 1
    return 0
}

# The runs of one rank count; each output is compared with numpy, then bitwise with np=$R1.
OUTS="corr corr_w csv digits digits_all tiny tiny_all two"
for np in $(ranks); do
    d=$WORK/np$np
    mkdir -p "$d"
    check "np=$np corr (200 x 6), all components" \
        run_np "$np" $P --out "$d/corr.h5" "$FP/corr.h5"
    check "np=$np corr vs numpy" vs_numpy "$d/corr.h5" "$FP/corr.h5"
    check "np=$np corr --whiten --n-components 6" \
        run_np "$np" $P --whiten --n-components 6 --out "$d/corr_w.h5" "$FP/corr.h5"
    check "np=$np corr whitened vs numpy" vs_numpy "$d/corr_w.h5" "$FP/corr.h5" w
    check "np=$np corr.csv (label column left out)" \
        run_np "$np" $P --label-col label --out "$d/csv.h5" "$FP/corr.csv"
    check "np=$np CSV bitwise equal to HDF5" same_dsets "$d/csv.h5" "$d/corr.h5" $DSETS
    check "np=$np digits (1797 x 64 uint8) --n-components 10 --whiten" \
        run_np "$np" $P --n-components 10 --whiten --out "$d/digits.h5" "$FP/digits.h5"
    check "np=$np digits vs numpy" vs_numpy "$d/digits.h5" "$FP/digits.h5" w
    check "np=$np digits, all 64 components" \
        run_np "$np" $P --out "$d/digits_all.h5" "$FP/digits.h5:/data"
    check "np=$np digits: all 64 eigenvalues and ratios vs numpy" \
        eigenvalues_only "$d/digits_all.h5" "$FP/digits.h5"
    check "np=$np tiny (3 x 5) --n-components 2" \
        run_np "$np" $P --n-components 2 --out "$d/tiny.h5" "$FP/tiny.h5"
    check "np=$np tiny vs numpy" vs_numpy "$d/tiny.h5" "$FP/tiny.h5"
    check "np=$np tiny, all 5 components (rank 2)" \
        run_np "$np" $P --whiten --out "$d/tiny_all.h5" "$FP/tiny.h5"
    check "np=$np tiny: eigenvalues vs numpy" eigenvalues_only "$d/tiny_all.h5" "$FP/tiny.h5"
    check "np=$np two rows --n-components 1" \
        run_np "$np" $P --n-components 1 --out "$d/two.h5" "$FP/two.h5"
    check "np=$np two rows vs numpy" vs_numpy "$d/two.h5" "$FP/two.h5"
    if [ "$np" != "$R1" ]; then
        for o in $OUTS; do
            check "np=$np $o bitwise equal to np=$R1" \
                same_dsets "$WORK/np$R1/$o.h5" "$d/$o.h5" $DSETS
        done
    fi
done

# Attributes: the parameters and the provenance.
o=$WORK/np$R1/digits.h5
check "attributes n_components=10, whiten=1, n_rows, n_features" sh -c \
    "test \"\$('$H5CMP' attr '$o' / n_components) \$('$H5CMP' attr '$o' / whiten)\" = '10 1' &&
     test \"\$('$H5CMP' attr '$o' / n_rows) \$('$H5CMP' attr '$o' / n_features)\" = '1797 64'"
check "provenance: command line, ranks, input" sh -c \
    "'$H5CMP' attr '$o' / command_line | grep -q -- '--n-components 10' &&
     test \"\$('$H5CMP' attr '$o' / mpi_ranks)\" = '$R1' &&
     '$H5CMP' attr '$o' / inputs | grep -q digits.h5"

np=$(echo $(ranks) | awk '{print $NF}')

# Summary on stdout from rank 0 only (its ratios), nothing with --quiet.
o=$WORK/summary.h5
run_np "$np" "$BIN/adkit-pca" --out "$o" "$FP/corr.h5" >"$WORK/summary.out" 2>&1
check "np=$np summary printed once, with the explained variance ratios" sh -c \
    "test \$(grep -c '^adkit-pca: 200 rows x 6 features, 6 components' '$WORK/summary.out') = 1 &&
     grep -q '^ *1 .* 0.668535 ' '$WORK/summary.out'"
rm -f "$o"
run_np "$np" $P --out "$o" "$FP/corr.h5" >"$WORK/quiet.out" 2>&1
check "np=$np --quiet prints nothing" test ! -s "$WORK/quiet.out"

# Every row the same: variances, ratios and whitened projections 0 (no NaN), one warning.
o=$WORK/const.h5
run_np "$np" $P --whiten --out "$o" "$FP/edge.h5:/const" >"$WORK/const.out" 2>&1
check "np=$np constant rows: exit 0, one warning" sh -c \
    "test \$(grep -c '^adkit-pca: warning: every row of .* is the same' '$WORK/const.out') = 1"
for ds in /explained_variance /explained_variance_ratio /projection; do
    check "np=$np constant rows: $ds all 0" all_zero "$o" "$ds"
done

# --force: an existing output is kept without it, replaced with it.
o=$WORK/force.h5
cp "$WORK/np$R1/tiny.h5" "$o"
expect_fail "$np" 3 "force" "-" -- $P --out "$o" "$FP/corr.h5"
check "without --force the existing file is unchanged" cmp "$o" "$WORK/np$R1/tiny.h5"
check "np=$np --force replaces it" run_np "$np" $P --force --out "$o" "$FP/corr.h5"
check "the replacement is the new result" same_dsets "$o" "$WORK/np$R1/corr.h5" $DSETS

# Bad input at the largest rank count (more ranks than rows for edge.h5:/one).
o=$WORK/bad.h5
expect_fail "$np" 2 "row 17: NaN in column 2" "$o" -- $P --out "$o" "$FP/edge.h5:/nan"
expect_fail "$np" 2 "row 7: Inf in column 4" "$o" -- $P --out "$o" "$FP/edge.h5:/inf"
expect_fail "$np" 2 "at least 2 rows (got 1)" "$o" -- $P --out "$o" "$FP/edge.h5:/one"
expect_fail "$np" 1 "--n-components: '0'" "$o" -- $P --n-components 0 --out "$o" "$FP/corr.h5"
expect_fail "$np" 1 "--n-components: 'x2'" "$o" -- $P --n-components x2 --out "$o" "$FP/corr.h5"
expect_fail "$np" 1 "--n-components 7 exceeds the 6 features" "$o" -- \
    $P --n-components 7 --out "$o" "$FP/corr.h5"
expect_fail "$np" 1 "--out OUT.h5 is required" "$o" -- $P "$FP/corr.h5"
expect_fail "$np" 3 "missing.h5" "$o" -- $P --out "$o" "$WORK/missing.h5"
expect_fail 2 2 "row 17: NaN in column 2" "$o" -- $P --out "$o" "$FP/edge.h5:/nan"
finish
