#!/bin/sh
# Integration tests of adkit-tsne: the digits (1797 x 64) at every rank count, the same embedding
# bits at all of them, KL within 5 % of scikit-learn 1.2.1's TSNE(init="random") and
# trustworthiness (k = 5, scikit-learn's function on our embedding) at least scikit-learn's minus
# 0.01 (tests/fixtures/tsne/digits_sklearn.h5); the exact method with a PCA start and 3-D output
# on a small set, the same bits at every rank count; attributes, labels and progress; bad input
# (one message, the documented exit code, no output left, no hang).
. "$ADK_SRCDIR/tests/mpi/lib.sh"

T=$BIN/adkit-tsne
S=$FIX/tsne/small.h5
D=$FIX/knn/digits.h5
SK=$FIX/tsne/digits_sklearn.h5
SAN=${ADK_SANITIZED:-0} # make sets it: 1 in the sanitizer build

# same_run NAME NP ARGS...: run on NP ranks into $WORK/NAME-npNP.h5, and compare with $R1 ranks.
same_run() {
    _name=$1
    _np=$2
    shift 2
    _o=$WORK/$_name-np$_np.h5
    if ! run_np "$_np" "$T" --out "$_o" "$@" >"$WORK/$_name-np$_np.out" 2>"$WORK/$_name-np$_np.err"; then
        notok "$_name np=$_np: run failed"
        comment_file "$WORK/$_name-np$_np.err"
        return 1
    fi
    if [ "$_np" = "$R1" ]; then
        ok "$_name np=$_np: ran"
    else
        check "$_name np=$_np: the same embedding bits as on $R1 ranks" \
            sh -c "'$H5CMP' cmp '$_o' /embedding '$WORK/$_name-np$R1.h5' /embedding &&
                   [ \"\$('$H5CMP' attr '$_o' /embedding kl_divergence)\" = \
                     \"\$('$H5CMP' attr '$WORK/$_name-np$R1.h5' /embedding kl_divergence)\" ]"
    fi
}

if [ "$SAN" = 0 ]; then
    for np in $(ranks); do
        same_run digits "$np" --seed 0 --labels "$D:/labels" "$D"
    done
    o=$WORK/digits-np$R1.h5
    if "$ADK_PYTHON3" - "$o" "$D" "$SK" >"$WORK/py" 2>&1 <<'PYEOF'; then
import sys
import h5py, numpy as np
from sklearn.manifold import trustworthiness
f = h5py.File(sys.argv[1], "r")
x = h5py.File(sys.argv[2], "r")
sk = h5py.File(sys.argv[3], "r")["barnes_hut"]
y = f["embedding"][:]
kl = float(f["embedding"].attrs["kl_divergence"])
kl_sk = float(sk["kl"][0])
tw = trustworthiness(x["data"][:], y, n_neighbors=5)
tw_sk = float(sk["trustworthiness"][0])
print(f"KL {kl:.6f} (sklearn {kl_sk:.6f}), trustworthiness {tw:.6f} (sklearn {tw_sk:.6f})")
good = (abs(kl - kl_sk) <= 0.05 * kl_sk and tw >= tw_sk - 0.01
        and np.array_equal(f["labels"][:], x["labels"][:]) and y.shape == (1797, 2)
        and int(f["embedding"].attrs["n_iter"]) == int(sk["n_iter"][0]))
sys.exit(0 if good else 1)
PYEOF
        ok "digits: KL within 5 % of scikit-learn's, trustworthiness >= its - 0.01: $(cat "$WORK/py")"
    else
        notok "digits: KL or trustworthiness off scikit-learn's"
        comment_file "$WORK/py"
    fi
    check "digits: progress every 50 iterations and the summary" \
        sh -c "cat '$WORK/digits-np$R1.out' '$WORK/digits-np$R1.err' | grep -c 'iteration [0-9]*: KL' |
               grep -qx 20 && grep -q 'KL divergence' '$WORK/digits-np$R1.out'"
fi

# The exact method from a PCA start, and 3-D Barnes-Hut, on 60 rows.
for np in $(ranks); do
    same_run exact "$np" --quiet --method exact --init pca --perplexity 10 --max-iter 300 "$S"
    same_run three "$np" --quiet --n-components 3 --perplexity 10 --max-iter 300 --seed 7 "$S"
done
check "attributes: every parameter and the result" sh -c "
    o='$WORK/exact-np$R1.h5'
    [ \"\$('$H5CMP' attr \$o /embedding method)\" = exact ] &&
    [ \"\$('$H5CMP' attr \$o /embedding init)\" = pca ] &&
    [ \"\$('$H5CMP' attr \$o /embedding perplexity)\" = 10 ] &&
    [ \"\$('$H5CMP' attr \$o /embedding learning_rate)\" = 50 ] &&
    [ \"\$('$H5CMP' attr \$o /embedding n_iter)\" -le 299 ] &&
    [ \"\$('$H5CMP' shape '$WORK/three-np$R1.h5' /embedding)\" = '60 3' ]"

# Bad input.
o=$WORK/bad.h5
printf '1,2\n3,4\n5,6\n' >"$WORK/three.csv"
printf '1,2\n1,2\n1,2\n1,2\n1,2\n' >"$WORK/same.csv"
printf '1,2\n3,nan\n5,6\n7,8\n9,1\n' >"$WORK/nan.csv"
for np in $(ranks); do
    expect_fail "$np" 1 "--perplexity: 60 must be above 0 and below N = 60" "$o" -- \
        "$T" --perplexity 60 --out "$o" "$S"
    expect_fail "$np" 2 "identical" "$o" -- "$T" --perplexity 2 --out "$o" "$WORK/same.csv"
done
np=$(echo $(ranks) | awk '{print $NF}')
expect_fail "$np" 1 "at least 4 rows (got 3)" "$o" -- "$T" --perplexity 1 --out "$o" "$WORK/three.csv"
expect_fail "$np" 2 "row 1" "$o" -- "$T" --perplexity 2 --out "$o" "$WORK/nan.csv"
expect_fail "$np" 1 "--n-components: 0 is not 2 or 3" "$o" -- "$T" --n-components 0 --out "$o" "$S"
expect_fail "$np" 1 "--n-components: 4 is not 2 or 3" "$o" -- "$T" --n-components 4 --out "$o" "$S"
expect_fail "$np" 1 "--method: 'fast' is not barnes-hut or exact" "$o" -- "$T" --method fast --out "$o" "$S"
expect_fail "$np" 1 "--learning-rate: '-1' is not auto" "$o" -- "$T" --learning-rate -1 --out "$o" "$S"
expect_fail "$np" 1 "--max-iter: 100 is below 250" "$o" -- "$T" --max-iter 100 --out "$o" "$S"
expect_fail "$np" 1 "--out EMB.h5 is required" - -- "$T" "$S"
cp "$WORK/exact-np$R1.h5" "$o"
expect_fail "$np" 3 "exists" - -- "$T" --quiet --max-iter 250 --perplexity 5 --out "$o" "$S"
check "an existing output is left as it was without --force" \
    "$H5CMP" cmp "$o" /embedding "$WORK/exact-np$R1.h5" /embedding
finish
