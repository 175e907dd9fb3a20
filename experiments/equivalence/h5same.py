#!/usr/bin/python3
"""Bitwise comparison of two HDF5 files, for experiments/equivalence/run.sh.

    h5same.py [--commits OLD NEW] A.h5 B.h5      prints "same" or "DIFF: ..." lines; exit 0 / 1
    h5same.py [--commits OLD NEW] --list FILE   FILE: lines "ID<TAB>A.h5<TAB>B.h5"; prints one
                                                 line per pair, "ID<TAB>same[<TAB>note]" or
                                                 "ID<TAB>DIFF<TAB>what; what; ...", exit 1 if any
                                                 pair differs

Compared: the tree of links (groups, datasets, named types; soft and external links by target);
every dataset's shape, HDF5 datatype (H5Tequal), storage layout (chunks, filters, max shape, fill
value) and raw bytes (numpy .tobytes(): NaN payloads and signed zeros compared by bits;
variable-length values element by element); every attribute of every object: name, HDF5
datatype, dataspace shape and value (bytes, as above).

Provenance that legitimately differs between two builds, on any object:
  created_utc    value not compared (the wall-clock time); presence, type and shape are
  git_commit     compared after replacing OLD's commit by "<commit>" in A and NEW's in B
  adkit_version  compared after the same replacement; a remaining difference (a version bump)
                 is reported as a note, not as a difference
"""
import sys

import h5py
import numpy as np

TIME_ATTRS = {"created_utc"}
COMMIT_ATTRS = {"git_commit"}
VERSION_ATTRS = {"adkit_version"}
MAX_REPORTED = 6


def norm_value(v):
    """A value read by h5py as comparable bytes (exact, NaN-aware by bits)."""
    if isinstance(v, h5py.Empty):
        return b"<empty:" + str(v.dtype).encode() + b">"
    if isinstance(v, str):
        return b"str:" + v.encode("utf-8", "surrogateescape")
    if isinstance(v, bytes):
        return b"bytes:" + v
    a = np.asarray(v)
    if a.dtype.kind == "O" or (a.dtype.fields and any(a.dtype[f].kind == "O" for f in a.dtype.fields)):
        parts = [repr(a.shape).encode()]
        for x in a.reshape(-1):
            if isinstance(x, (np.void, tuple)) and a.dtype.fields:
                parts.append(b"(" + b",".join(norm_value(x[f]) for f in a.dtype.names) + b")")
            else:
                parts.append(norm_value(x))
        return b"obj:" + b"|".join(parts)
    return b"arr:" + a.dtype.str.encode() + repr(a.shape).encode() + b":" + a.tobytes()


def sub_commit(v, commit):
    """Replace the build's commit in a provenance string (str or bytes)."""
    if not commit:
        return v
    if isinstance(v, str):
        return v.replace(commit, "<commit>")
    if isinstance(v, bytes):
        return v.replace(commit.encode(), b"<commit>")
    if isinstance(v, np.ndarray) and v.dtype.kind in "OSU":
        return np.array([sub_commit(x, commit) for x in v.reshape(-1)], dtype=object).reshape(v.shape)
    return v


def short(v, n=60):
    s = repr(v)
    return s if len(s) <= n else s[: n - 3] + "..."


def layout(ds):
    dcpl = ds.id.get_create_plist()
    filters = tuple(dcpl.get_filter(i)[:3] for i in range(dcpl.get_nfilters()))
    try:
        fill = norm_value(ds.fillvalue)
    except Exception as e:  # odd types: compare the message
        fill = repr(e).encode()
    return (dcpl.get_layout(), ds.chunks, ds.maxshape, filters, fill)


class Cmp:
    def __init__(self, ca, cb):
        self.ca, self.cb = ca, cb
        self.diffs = []
        self.notes = []

    def diff(self, msg):
        self.diffs.append(msg)

    def attrs(self, oa, ob, path):
        na, nb = set(oa.attrs.keys()), set(ob.attrs.keys())
        for n in sorted(na - nb):
            self.diff("%s: attribute %s only in A" % (path, n))
        for n in sorted(nb - na):
            self.diff("%s: attribute %s only in B" % (path, n))
        for n in sorted(na & nb):
            where = "%s@%s" % (path, n)
            ia = h5py.h5a.open(oa.id, n.encode("utf-8"))
            ib = h5py.h5a.open(ob.id, n.encode("utf-8"))
            if not ia.get_type() == ib.get_type():
                self.diff("%s: HDF5 type differs (%s vs %s)" % (where, ia.dtype, ib.dtype))
                continue
            if ia.shape != ib.shape:
                self.diff("%s: shape %s vs %s" % (where, ia.shape, ib.shape))
                continue
            if n in TIME_ATTRS:
                continue
            va, vb = oa.attrs[n], ob.attrs[n]
            if n in COMMIT_ATTRS or n in VERSION_ATTRS:
                va, vb = sub_commit(va, self.ca), sub_commit(vb, self.cb)
            if norm_value(va) != norm_value(vb):
                if n in VERSION_ATTRS:
                    self.notes.append("%s %s vs %s ignored" % (where, short(va), short(vb)))
                else:
                    self.diff("%s: %s vs %s" % (where, short(va), short(vb)))

    def dataset(self, da, db, path):
        if not da.id.get_type() == db.id.get_type():
            self.diff("%s: HDF5 type differs (%s vs %s)" % (path, da.dtype, db.dtype))
            return
        if da.shape != db.shape:
            self.diff("%s: shape %s vs %s" % (path, da.shape, db.shape))
            return
        la, lb = layout(da), layout(db)
        if la != lb:
            self.diff("%s: storage layout differs (layout, chunks, maxshape, filters, fill)" % path)
        va, vb = da[()], db[()]
        if norm_value(va) == norm_value(vb):
            return
        what = "%s: data differ" % path
        a, b = np.asarray(va), np.asarray(vb)
        if a.dtype.kind in "biuf" and a.shape == b.shape and a.size:
            fa, fb = a.reshape(-1), b.reshape(-1)
            ne = fa.view(np.uint8).reshape(fa.size, -1) != fb.view(np.uint8).reshape(fb.size, -1)
            bad = np.nonzero(ne.any(axis=1))[0]
            i = int(bad[0])
            what += " (%d of %d elements; first at flat index %d: %r vs %r)" % (
                bad.size, fa.size, i, fa[i].item(), fb[i].item())
        self.diff(what)

    def group(self, ga, gb, path):
        self.attrs(ga, gb, path)
        na, nb = set(ga.keys()), set(gb.keys())
        for n in sorted(na - nb):
            self.diff("%s: only in A" % (path.rstrip("/") + "/" + n))
        for n in sorted(nb - na):
            self.diff("%s: only in B" % (path.rstrip("/") + "/" + n))
        for n in sorted(na & nb):
            p = path.rstrip("/") + "/" + n
            la, lb = ga.get(n, getlink=True), gb.get(n, getlink=True)
            if type(la) is not type(lb):
                self.diff("%s: link %s vs %s" % (p, type(la).__name__, type(lb).__name__))
                continue
            if isinstance(la, h5py.SoftLink):
                if la.path != lb.path:
                    self.diff("%s: soft link to %s vs %s" % (p, la.path, lb.path))
                continue
            if isinstance(la, h5py.ExternalLink):
                if (la.filename, la.path) != (lb.filename, lb.path):
                    self.diff("%s: external link differs" % p)
                continue
            oa, ob = ga[n], gb[n]
            if type(oa) is not type(ob):
                self.diff("%s: %s vs %s" % (p, type(oa).__name__, type(ob).__name__))
                continue
            if isinstance(oa, h5py.Group):
                self.group(oa, ob, p)
            elif isinstance(oa, h5py.Dataset):
                self.attrs(oa, ob, p)
                self.dataset(oa, ob, p)
            else:  # a named datatype
                self.attrs(oa, ob, p)
                if not oa.id == ob.id:
                    self.diff("%s: named datatype differs" % p)


def compare(a, b, ca, cb):
    """(differences, notes) between files a and b."""
    c = Cmp(ca, cb)
    try:
        fa = h5py.File(a, "r")
    except OSError:
        fa = None
    try:
        fb = h5py.File(b, "r")
    except OSError:
        fb = None
    if fa is None or fb is None:
        if fa is None and fb is None:  # neither is HDF5: compare the bytes
            with open(a, "rb") as x, open(b, "rb") as y:
                if x.read() != y.read():
                    c.diff("not HDF5 files, and their bytes differ")
        else:
            c.diff("only %s opens as HDF5" % ("A" if fa is not None else "B"))
        return c.diffs, c.notes
    with fa, fb:
        c.group(fa, fb, "/")
    return c.diffs, c.notes


def fmt(diffs):
    s = "; ".join(diffs[:MAX_REPORTED])
    if len(diffs) > MAX_REPORTED:
        s += "; ... (%d differences)" % len(diffs)
    return s


def main(argv):
    ca = cb = ""
    if argv[:1] == ["--commits"]:
        ca, cb = argv[1], argv[2]
        argv = argv[3:]
    if argv[:1] == ["--list"] and len(argv) == 2:
        ndiff = 0
        with open(argv[1]) as f:
            for line in f:
                ident, a, b = line.rstrip("\n").split("\t")
                try:
                    d, notes = compare(a, b, ca, cb)
                except Exception as e:  # a file h5py cannot walk: report, go on
                    d, notes = ["comparison failed: %r" % e], []
                if d:
                    ndiff += 1
                    print("%s\tDIFF\t%s" % (ident, fmt(d)))
                else:
                    print("%s\tsame%s" % (ident, "\t" + "; ".join(notes) if notes else ""))
        return 1 if ndiff else 0
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    d, notes = compare(argv[0], argv[1], ca, cb)
    for n in notes:
        print("note: " + n)
    if d:
        for x in d:
            print("DIFF: " + x)
        return 1
    print("same")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
