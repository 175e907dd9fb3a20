#!/usr/bin/python3
"""Write experiments/data/digits.h5: the 8x8 handwritten digits that scikit-learn ships.

Run with Debian's Python (python3-sklearn provides the data, python3-h5py writes the file):

    /usr/bin/python3 experiments/data/make_digits.py

Source: sklearn.datasets.load_digits(), which reads the copy of the *test* set
(optdigits.tes, 1797 rows) of the UCI "Optical Recognition of Handwritten Digits" data set
(E. Alpaydin and C. Kaynak, 1998) that scikit-learn keeps in sklearn/datasets/data/digits.csv.gz.

Output (rows in the order scikit-learn ships them, nothing shuffled or scaled):
  /data    float64, 1797 x 64   pixel counts 0..16 (an 8x8 image per row, row-major)
  /labels  int64,   1797        the digit 0..9
  root attributes, always in this order: title, source, creators, reference, licence, url,
  sklearn_loader, sklearn_version, source_file, source_file_sha256, n_rows, n_features,
  data_sha256 (sha256 of /data as little-endian float64, row-major bytes),
  labels_sha256 (same for /labels as little-endian int64), generator.

The file is reproducible byte for byte: datasets are written contiguous with
track_times=False, attributes in a fixed order, and nothing else varies between runs. It is
written under a temporary name in the same folder and renamed into place.
"""
import hashlib
import os
import sys

import h5py
import numpy as np
import sklearn
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "digits.h5")


def sha256_hex(b):
    return hashlib.sha256(b).hexdigest()


def main():
    d = load_digits()
    X = np.ascontiguousarray(d.data, dtype="<f8")
    y = np.ascontiguousarray(d.target, dtype="<i8")
    if X.shape != (1797, 64) or y.shape != (1797,):
        sys.exit("make_digits: unexpected shape %s / %s" % (X.shape, y.shape))
    if not (np.all(X == np.round(X)) and X.min() == 0 and X.max() == 16):
        sys.exit("make_digits: pixels are not integers in 0..16")
    if sorted(set(y.tolist())) != list(range(10)):
        sys.exit("make_digits: labels are not 0..9")

    src = os.path.join(os.path.dirname(sklearn.datasets.__file__), "data", "digits.csv.gz")
    with open(src, "rb") as f:
        src_sha = sha256_hex(f.read())

    attrs = [
        ("title", "Optical Recognition of Handwritten Digits (test set, optdigits.tes)"),
        ("source", "UCI Machine Learning Repository, via scikit-learn's load_digits"),
        ("creators", "E. Alpaydin, C. Kaynak (Bogazici University), July 1998"),
        ("reference", "E. Alpaydin, C. Kaynak (1998) Cascading Classifiers, Kybernetika"),
        ("licence", "CC BY 4.0 as listed by the UCI repository; scikit-learn's DESCR "
                    "for load_digits states no licence"),
        ("url", "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits"),
        ("sklearn_loader", "sklearn.datasets.load_digits()"),
        ("sklearn_version", sklearn.__version__),
        ("source_file", "sklearn/datasets/data/digits.csv.gz"),
        ("source_file_sha256", src_sha),
        ("n_rows", np.int64(X.shape[0])),
        ("n_features", np.int64(X.shape[1])),
        ("data_sha256", sha256_hex(X.tobytes())),
        ("labels_sha256", sha256_hex(y.tobytes())),
        ("generator", "experiments/data/make_digits.py"),
    ]

    tmp = OUT + ".tmp%d" % os.getpid()
    try:
        with h5py.File(tmp, "w", libver="earliest", track_order=False) as f:
            f.create_dataset("data", data=X, track_times=False)
            f.create_dataset("labels", data=y, track_times=False)
            for k, v in attrs:
                f.attrs[k] = v
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, OUT)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    with open(OUT, "rb") as f:
        file_sha = sha256_hex(f.read())
    print("wrote %s: data %s, labels %s" % (OUT, X.shape, y.shape))
    print("data_sha256   %s" % dict(attrs)["data_sha256"])
    print("labels_sha256 %s" % dict(attrs)["labels_sha256"])
    print("file sha256   %s" % file_sha)


if __name__ == "__main__":
    main()
