#!/usr/bin/python3
"""Write the seed corpus of the libFuzzer harnesses (tests/fuzz/corpus/{csv,spec,cli,h5}).

Small, valid and nearly valid inputs of every parser: CSV files with headers, comments, CRLF,
labels, ragged and quoted rows and non-finite values; input specs; argument lists (one argument
per line, or NUL-separated); HDF5 files made with h5py (Debian's python3-h5py) in both superblock
versions, with the datasets and attributes the harness reads, plus truncated copies.
Deterministic: rerunning it rewrites the same bytes (no timestamps in the HDF5 files).

    /usr/bin/python3 tests/fuzz/make_corpus.py [OUTDIR]     (default: tests/fuzz/corpus)
    /usr/bin/python3 tests/fuzz/make_corpus.py --regress [OUTDIR]   (tests/fuzz/regress/h5)

--regress writes the crafted HDF5 reproducers of tests/fuzz/regress/h5 instead (see make_regress).
"""
import os
import sys

import h5py
import numpy as np

CSV = {
    "header.csv": "a,b,c\n1,2,3\n4,5,6\n7,8,9\n",
    "noheader.csv": "1.5,2.5\n-3,4e-3\n0,1e300\n",
    "comments.csv": "# generated\n\nx,y\n# mid comment\n1,2\n\n  \t\n3,4\n# end\n",
    "crlf.csv": "x,y,label\r\n1,2,0\r\n3,4,1\r\n5,6,1\r\n",
    "labels.csv": "f1,label,f2\n0.5,1,2.5\n1.5,0,3.5\n2.5,-2,4.5\n",
    "labels_float.csv": "f1,label\n0.5,1.5\n",
    "labels_big.csv": "f1,label\n1,9007199254740993\n2,-1e16\n",
    "ragged.csv": "1,2,3\n4,5\n6,7,8\n",
    "quoted.csv": '"a","b"\n"1",2\n3,"4"\n',
    "quoted_header.csv": '"x","y,z"\n1,2\n',
    "nan.csv": "a,b\n1,nan\n2,3\n",
    "inf.csv": "a,b\n1,2\n-inf,3\n",
    "spaces.csv": "  a , b \n 1 ,\t2\n3\t,  4  \n",
    "only_header.csv": "a,b,c\n",
    "only_comments.csv": "# nothing\n#\n",
    "empty.csv": "",
    "numbers.csv": "0x1p3,1e-320,-0,+7,.5,5.\n1,2,3,4,5,6\n",
    "no_newline.csv": "1,2\n3,4",
    "text.csv": "a,b\n1,two\n",
    "one.csv": "42\n",
    "many_cols.csv": ",".join(str(i) for i in range(40)) + "\n" + ",".join("1" for _ in range(40)) + "\n",
    "empty_field.csv": "1,,3\n4,5,6\n",
    "nul.csv": "1,2\n3\x004\n",
}

SPEC = {
    "h5_dset": "data.h5:/data",
    "h5_nested": "run/out.h5:/group/sub/set",
    "h5_plain": "model.h5",
    "hdf5_upper": "X.HDF5",
    "he5": "a.he5",
    "csv": "table.csv",
    "txt_upper": "dir/T.TXT",
    "no_file": ":/data",
    "empty": "",
    "colon_only": "file:/",
    "no_ext": "noext",
    "two_seps": "a.h5:/b:/c",
    "csv_with_dset": "x.csv:/data",
    "short": ".h5",
    "dir_colon": "c:/dir/f.h5",
}

CLI = {
    "plain": ["in.h5"],
    "all_types": ["--flag", "--int", "5", "--i64=-9223372036854775808", "--seed",
                  "18446744073709551615", "--x=2.5e-3", "--name", "n", "in", "out"],
    "list": ["--list", "1,2.5,-3e2", "in"],
    "list_bad": ["--list=1,,2", "in"],
    "help": ["--help"],
    "help_short": ["-h", "in"],
    "version": ["--version"],
    "version_short": ["-V"],
    "dashdash": ["--", "--flag", "-"],
    "neg_seed": ["--seed", "-1", "in"],
    "flag_value": ["--flag=1", "in"],
    "int_overflow": ["--int", "2147483648", "in"],
    "double_inf": ["--x", "inf", "in"],
    "missing_value": ["in", "--int"],
    "unknown": ["--nope", "in"],
    "short_unknown": ["-k", "in"],
    "too_many": ["a", "b", "c"],
    "none": [],
    "quiet": ["--quiet", "in", "--name="],
    "eq_empty": ["--int=", "in"],
    "help_eq": ["--help=1"],
}


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def new_file(path, libver="earliest"):
    """An HDF5 file whose bytes depend on its contents only: the root group records no times
    (h5py's File() keeps them, and the newer object headers store them)."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    low = h5py.h5f.LIBVER_LATEST if libver == "latest" else h5py.h5f.LIBVER_EARLIEST
    fapl.set_libver_bounds(low, h5py.h5f.LIBVER_LATEST)
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
    return h5py.File(fid)


def model_attrs(f, c):
    """The attributes adk_kmeans_model_read (and the harness) reads."""
    f.create_dataset("centroids", data=c, track_times=False)
    t = f.create_dataset("thresholds", data=np.ones(len(c)), track_times=False)
    t.attrs["method"] = "sigma"  # variable-length UTF-8 string
    f.attrs["inertia"] = np.float64(3.25)
    f.attrs["n_iter"] = np.int64(7)
    f.attrs["seed"] = np.uint64(12345)
    f.attrs["init"] = "k-means++"


def make_h5(outdir):
    rng = np.random.default_rng(20261203)
    x = np.round(rng.normal(size=(6, 3)), 3)
    lab = np.array([0, 1, 1, 0, 2, 2], dtype=np.int64)
    kw = {"track_times": False}

    def new(name, libver="earliest"):
        return new_file(os.path.join(outdir, name), libver)

    with new("f64_labels.h5") as f:
        f.create_dataset("data", data=x, **kw)
        f.create_dataset("labels", data=lab, **kw)
        model_attrs(f, x[:2])
    with new("latest.h5", "latest") as f:
        f.create_dataset("data", data=x.astype(np.float32), **kw)
        f.create_dataset("labels", data=lab.astype(np.int32), **kw)
        f.attrs["init"] = np.bytes_("random")  # fixed-length ASCII string
        f.attrs["inertia"] = np.int32(2)  # an integer read as a double
        f.attrs["seed"] = np.float32(1.5)
    with new("chunked_gzip.h5") as f:
        f.create_dataset("data", data=x, chunks=(2, 3), compression="gzip", shuffle=True, **kw)
        f.create_dataset("labels", data=lab.astype(np.uint8), chunks=(3,), **kw)
    with new("vector.h5") as f:
        f.create_dataset("data", data=x[:, 0], **kw)
    with new("nan.h5") as f:
        y = x.copy()
        y[2, 1] = np.nan
        f.create_dataset("data", data=y, **kw)
        f.create_dataset("labels", data=np.array([0.5] * 6), **kw)
    with new("strings.h5") as f:
        f.create_dataset("data", data=np.array([b"a", b"b"]), **kw)
        f.attrs["seed"] = "not a number"
    with new("empty.h5") as f:
        f.create_dataset("data", shape=(0, 3), dtype="f8", **kw)
    with new("scalar.h5") as f:
        f.create_dataset("data", data=np.float64(1.0), **kw)
    with new("group.h5") as f:
        f.create_group("data")
        f.create_dataset("g/data", data=x, **kw)
    with new("labels_short.h5") as f:
        f.create_dataset("data", data=x, **kw)
        f.create_dataset("labels", data=lab[:4], **kw)
    with new("fill_unwritten.h5") as f:  # chunked, never written: reads give the fill value
        f.create_dataset("data", shape=(64, 4), chunks=(16, 4), dtype="f8", fillvalue=1.5, **kw)
    # truncated copies: the superblock or object headers end early
    src = open(os.path.join(outdir, "f64_labels.h5"), "rb").read()
    for n in (0, 8, 96, 512, 1400):
        write(os.path.join(outdir, "trunc_%d.h5" % n), src[:n])
    src = open(os.path.join(outdir, "latest.h5"), "rb").read()
    write(os.path.join(outdir, "trunc_latest_300.h5"), src[:300])


def make_regress(outdir):
    """Reproducers of the HDF5 reader's crashes (experiments/results/fuzz-2026-12-03.md): every
    file is a valid HDF5 file that a reader must refuse with a message. Written here rather than
    kept only as bytes so that what each one declares can be read."""
    x = np.arange(6.0).reshape(3, 2)
    kw = {"track_times": False}

    def model(name):
        f = new_file(os.path.join(outdir, name))
        f.create_dataset("data", data=x, **kw)
        f.create_dataset("centroids", data=x[:2], **kw)
        return f

    # adk_h5_attr read an array attribute into room for one value (stack/heap overflow)
    with model("attr_array_f64.h5") as f:
        f.attrs["inertia"] = np.arange(64.0)
    with model("attr_array_u64.h5") as f:
        f.attrs["seed"] = np.arange(64, dtype=np.uint64)
    with model("attr_array_vlstr.h5") as f:
        f.attrs["init"] = ["k-means++"] * 32
    with model("attr_array_fixstr.h5") as f:
        f.attrs["init"] = np.array([b"random"] * 32)
    # declared extents whose byte counts overflow size_t: chunked and never written, so the files
    # are tiny; adk_h5_read_rows allocated the wrapped (small) size and H5Dread wrote past it,
    # adk_h5_read_small's rows*cols overflowed (2^32 x 2^32 passed its limit as 0)
    for name, shape in (("rows_wrap_2p33x2p31.h5", (2**33, 2**31)),
                        ("rows_wrap_2p62p1x4.h5", (2**62 + 1, 4)),
                        ("small_wrap_2p32x2p32.h5", (2**32, 2**32))):
        with new_file(os.path.join(outdir, name)) as f:
            f.create_dataset("data", shape=shape, chunks=(1, 1), dtype="f8", **kw)
            f.create_dataset("centroids", shape=shape, chunks=(1, 1), dtype="f8", **kw)
    with model("centroids_wrap_2p32x2p32.h5") as f:  # only adk_h5_read_small's overflow
        del f["centroids"]
        f.create_dataset("centroids", shape=(2**32, 2**32), chunks=(1, 1), dtype="f8", **kw)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.argv[1:2] == ["--regress"]:
        out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "regress", "h5")
        os.makedirs(out, exist_ok=True)
        make_regress(out)
        return
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    for sub in ("csv", "spec", "cli", "h5"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    for name, text in CSV.items():
        write(os.path.join(out, "csv", name), text.encode())
    for name, text in SPEC.items():
        write(os.path.join(out, "spec", name), text.encode())
    for name, args in CLI.items():
        write(os.path.join(out, "cli", name), "\n".join(args).encode())
    write(os.path.join(out, "cli", "nul_separated"), b"--int\x007\x00in\x00--x\x001e-3")
    make_h5(os.path.join(out, "h5"))


if __name__ == "__main__":
    main()
