#!/bin/sh
# Integration tests of adkit-gen blobs: the same file bitwise at every rank count (uneven blocks,
# more ranks than rows, any slab size), float32 = rounded float64, centres from a file, checks
# with numpy/h5py and scikit-learn's make_blobs class sizes, and every bad input (exit code, one
# message, no output left, no hang).
. "$ADK_SRCDIR/tests/mpi/lib.sh"

# A failing job otherwise waits a second between SIGTERM and SIGKILL of ranks that have already
# agreed to stop (MPI_Finalize has run, so no message is lost): halves the bad-input cases' time.
OMPI_MCA_odls_base_sigkill_timeout=0
export OMPI_MCA_odls_base_sigkill_timeout

GEN=$BIN/adkit-gen
# Debian's Python (numpy, h5py, sklearn), even when configure recorded a bare "python3"
PY=$ADK_PYTHON3
if ! "$PY" -c 'import h5py, numpy, sklearn' >/dev/null 2>&1; then
    PY=/usr/bin/python3
fi
first=$(echo $(ranks) | cut -d' ' -f1)
last=$(echo $(ranks) | awk '{print $NF}')
# the smallest and the largest rank count, once each when they are the same
ends=$first
[ "$last" = "$first" ] || ends="$first $last"

# pycheck SCRIPT ARGS...: run one of the Python checks below (non-zero exit on failure)
pycheck() {
    _script=$1
    shift
    "$PY" "$WORK/$_script" "$@"
}

cat >"$WORK/blobs.py" <<'EOF'
# Independent checks of a blobs file: shapes, types, attributes, make_blobs' class sizes (from
# scikit-learn itself), centres in the box, per-class moments.
import sys
import h5py
import numpy as np
from sklearn.datasets import make_blobs

path, n, d, k, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
std = np.array([float(s) for s in sys.argv[6].split(",")])
lo, hi = (float(s) for s in sys.argv[7].split(","))
std = np.full(k, std[0]) if std.size == 1 else std
with h5py.File(path, "r") as f:
    X, y, C = f["/data"][...], f["/labels"][...], f["/centers"][...]
    a = dict(f.attrs)
    assert f["/data"].dtype == np.float64 and y.dtype == np.int32 and C.dtype == np.float64
    assert np.array_equal(f["/cluster_std"][...], std), "cluster_std dataset"
assert X.shape == (n, d) and y.shape == (n,) and C.shape == (k, d), (X.shape, y.shape, C.shape)
assert a["generator"] == "blobs" and a["n"] == n and a["d"] == d and a["centers"] == k, a
assert a["seed"] == seed and np.array_equal(a["cluster_std"], std), a
assert np.array_equal(a["center_box"], [lo, hi]), a["center_box"]
assert np.all(np.isfinite(X))
_, ysk = make_blobs(n_samples=n, n_features=d, centers=k, random_state=0)
assert np.array_equal(np.bincount(y, minlength=k), np.bincount(ysk, minlength=k)), \
    (np.bincount(y, minlength=k), np.bincount(ysk, minlength=k))
assert np.all((C >= lo) & (C <= hi)), C
assert np.any(np.diff(y) != 0) and not np.all(np.diff(y) >= 0), "labels not shuffled"
for c in range(k):
    Z = X[y == c] - C[c]
    m = len(Z)
    assert np.all(np.abs(Z.mean(axis=0)) < 5 * std[c] / np.sqrt(m)), (c, Z.mean(axis=0))
    assert np.all(np.abs(Z.std(axis=0) - std[c]) < 5 * std[c] / np.sqrt(2 * m)), (c, Z.std(axis=0))
EOF

cat >"$WORK/f32.py" <<'EOF'
# float32 /data is the float64 data rounded once; everything else is unchanged.
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as f64, h5py.File(sys.argv[2], "r") as f32:
    assert f32["/data"].dtype == np.float32, f32["/data"].dtype
    assert f32.attrs["dtype"] == "float32"
    assert np.array_equal(f32["/data"][...], f64["/data"][...].astype(np.float32))
    for name in ("/labels", "/centers"):
        assert np.array_equal(f32[name][...], f64[name][...]), name
EOF

cat >"$WORK/mkcenters.py" <<'EOF'
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f["/c"] = np.array([[0.0, 1.0, 2.0, 3.0], [10.0, -10.0, 5.5, 0.25], [-4.0, 4.0, -4.0, 4.0]])
    f["/flat"] = np.arange(5.0)
    f["/cube"] = np.zeros((2, 2, 2))
    f["/nan"] = np.array([[0.0, np.nan], [1.0, 2.0]])
    f["/inf"] = np.array([[0.0, 1.0], [np.inf, 2.0]])
EOF

cat >"$WORK/centers.py" <<'EOF'
# With given centres, /centers is the file's matrix bit for bit and the data sit around it.
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as g, h5py.File(sys.argv[2], "r") as f:
    C0 = g["/c"][...]
    X, y, C = f["/data"][...], f["/labels"][...], f["/centers"][...]
    assert np.array_equal(C, C0)
    assert f.attrs["d"] == 4 and f.attrs["centers"] == 3 and X.shape == (500, 4)
    assert "center_box" not in f.attrs and f.attrs["centers_file"].endswith("cen.h5:/c")
    assert np.array_equal(np.bincount(y), [167, 167, 166])
    for c in range(3):
        assert np.all(np.abs(X[y == c].mean(axis=0) - C0[c]) < 5 * 0.1 / np.sqrt(166))
EOF

# --- the same file at every rank count ----------------------------------------------------
args="blobs --n 1001 --d 5 --centers 4 --cluster-std 0.5,1,1.5,2 --center-box -3,7 --seed 7 --quiet"
for np in $(ranks); do
    check "np=$np: blobs 1001 x 5, slab 64" run_np "$np" "$GEN" $args --slab-rows 64 \
        --out "$WORK/b$np.h5"
    if [ "$np" != "$first" ]; then
        check "np=$np = np=$first bitwise (/data /labels /centers /cluster_std)" \
            same_dsets "$WORK/b$first.h5" "$WORK/b$np.h5" /data /labels /centers /cluster_std
    fi
done
check "np=$last, one slab: same file as slab 64" run_np "$last" "$GEN" $args \
    --out "$WORK/bslab.h5"
check "slab size does not change the data" \
    same_dsets "$WORK/b$first.h5" "$WORK/bslab.h5" /data /labels /centers
check "numpy/sklearn: shapes, attributes, make_blobs class sizes, moments" \
    pycheck blobs.py "$WORK/b$first.h5" 1001 5 4 7 0.5,1,1.5,2 -3,7

# --- more ranks than rows -------------------------------------------------------------------
for np in $ends; do
    check "np=$np: n=3 (ranks without rows)" run_np "$np" "$GEN" blobs --n 3 --d 2 --centers 2 \
        --seed 5 --quiet --out "$WORK/t$np.h5"
    if [ "$np" != "$first" ]; then
        check "n=3: np=$np = np=$first bitwise" \
            same_dsets "$WORK/t$first.h5" "$WORK/t$np.h5" /data /labels /centers
    fi
done
check "n=3 defaults: numpy/sklearn checks" pycheck blobs.py "$WORK/t$first.h5" 3 2 2 5 1 -10,10

# --- float32 --------------------------------------------------------------------------------
for np in $ends; do
    check "np=$np: --dtype float32" run_np "$np" "$GEN" $args --dtype float32 --slab-rows 100 \
        --out "$WORK/f$np.h5"
done
check "float32: np=$last = np=$first bitwise" same_dsets "$WORK/f$first.h5" "$WORK/f$last.h5" \
    /data /labels /centers
check "float32 /data = float64 /data rounded once" pycheck f32.py "$WORK/b$first.h5" \
    "$WORK/f$first.h5"

# --- centres from a file --------------------------------------------------------------------
"$PY" "$WORK/mkcenters.py" "$WORK/cen.h5"
for np in $ends; do
    check "np=$np: --centers-file" run_np "$np" "$GEN" blobs --centers-file "$WORK/cen.h5:/c" \
        --n 500 --cluster-std 0.1 --quiet --out "$WORK/c$np.h5"
done
check "--centers-file: np=$last = np=$first bitwise" same_dsets "$WORK/c$first.h5" \
    "$WORK/c$last.h5" /data /labels /centers
check "--centers-file: centres copied, data around them" pycheck centers.py "$WORK/cen.h5" \
    "$WORK/c$first.h5"

# --- existing output ------------------------------------------------------------------------
cp "$WORK/b$first.h5" "$WORK/keep.h5"
expect_fail "$last" 3 "exists; use --force" - -- "$GEN" $args --out "$WORK/b$first.h5"
check "refused overwrite left the file intact" \
    same_dsets "$WORK/keep.h5" "$WORK/b$first.h5" /data /labels
check "--force replaces the file" run_np "$last" "$GEN" $args --seed 8 --force \
    --out "$WORK/b$first.h5"
check "--force: the new file has the new seed" test "$(h5attr "$WORK/b$first.h5" / seed)" = 8
if same_dsets "$WORK/keep.h5" "$WORK/b$first.h5" /data >/dev/null 2>&1; then
    notok "another seed gives other data"
else
    ok "another seed gives other data"
fi

# --- bad input: exit code, one message from rank 0, no output, no hang ------------------------
# Each case runs at one rank count, cycling through them.
set -- $(ranks)
nranks=$#
bad_i=0
bad() {
    _code=$1
    _pat=$2
    shift 2
    bad_i=$((bad_i + 1))
    _np=$(echo $(ranks) | cut -d' ' -f$(((bad_i - 1) % nranks + 1)))
    expect_fail "$_np" "$_code" "$_pat" "$WORK/bad.h5" -- "$GEN" "$@"
}
bad 1 "unknown generator 'moons'" moons --out "$WORK/bad.h5"
bad 1 "--out FILE.h5 is required" blobs --n 10
bad 1 "--n: need at least 1 row" blobs --n 0 --out "$WORK/bad.h5"
bad 1 "--d: need at least 1 feature" blobs --d 0 --out "$WORK/bad.h5"
bad 1 "--centers: need at least 1 centre" blobs --centers 0 --out "$WORK/bad.h5"
bad 1 "--cluster-std: 2 values for 3 centres" blobs --cluster-std 1,2 --out "$WORK/bad.h5"
bad 1 "must be finite and >= 0" blobs --cluster-std 1,-1,1 --out "$WORK/bad.h5"
bad 1 "not a comma-separated list" blobs --cluster-std 1,,2 --out "$WORK/bad.h5"
bad 1 "--center-box: need finite LO < HI" blobs --center-box 5,5 --out "$WORK/bad.h5"
bad 1 "--center-box: expected LO,HI" blobs --center-box 1 --out "$WORK/bad.h5"
bad 1 "--dtype: 'int8'" blobs --dtype int8 --out "$WORK/bad.h5"
bad 1 "drop --centers and --d" blobs --centers-file "$WORK/cen.h5:/c" --d 4 --out "$WORK/bad.h5"
bad 3 "cannot open" blobs --centers-file "$WORK/none.h5:/c" --out "$WORK/bad.h5"
bad 2 "K x D (2-D) dataset, not 1-D" blobs --centers-file "$WORK/cen.h5:/flat" \
    --out "$WORK/bad.h5"
bad 2 "NaN" blobs --centers-file "$WORK/cen.h5:/nan" --out "$WORK/bad.h5"
bad 2 "row 1: centre column 0 is inf" blobs --centers-file "$WORK/cen.h5:/inf" --out "$WORK/bad.h5"
bad 1 "--cluster-std: 2 values for 3 centres" blobs --centers-file "$WORK/cen.h5:/c" \
    --cluster-std 1,2 --out "$WORK/bad.h5"
# the output directory does not exist: adk_out_create fails after the up-front check
bad_i=$((bad_i + 1))
expect_fail "$last" 3 "cannot create" "$WORK/no-dir/x.h5" -- "$GEN" blobs \
    --out "$WORK/no-dir/x.h5"

check "--help exits 0 and lists --center-box" sh -c "timeout 60 '$ADK_MPIEXEC' -n 1 '$GEN' --help | grep -q -- --center-box"

finish
