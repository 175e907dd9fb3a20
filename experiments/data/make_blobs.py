#!/usr/bin/python3
"""Write experiments/data/blobs.h5: the two blob sets of the k-means teaching notebook.

Run with Debian's Python (python3-sklearn's make_blobs draws the points, python3-h5py writes):

    /usr/bin/python3 experiments/data/make_blobs.py

The notebook's calls, unchanged:
  normal   make_blobs(n_samples=300, centers=3, cluster_std=0.40, random_state=0)
  anomaly  make_blobs(n_samples=300, centers=2, cluster_std=0.40, random_state=1)

Output:
  /normal         float64, 300 x 2   the normal points (k-means is fitted to these)
  /normal_labels  int64,   300       make_blobs' centre index (0..2) of each normal point
  /anomaly        float64, 300 x 2   the anomalies
  /test           float64, 600 x 2   /normal followed by /anomaly (the notebook's combined list)
  /test_labels    int64,   600       0 for the first 300 rows (normal), 1 for the rest (anomaly)
  root attributes, in this order: title, normal_call, anomaly_call, sklearn_version,
  test_sha256 (sha256 of /test as little-endian float64, row-major bytes), generator.

The file is reproducible byte for byte (contiguous datasets, track_times=False, attributes in a
fixed order), written under a temporary name in the same folder and renamed into place.
"""
import hashlib
import os
import sys

import h5py
import numpy as np
import sklearn
from sklearn.datasets import make_blobs

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "blobs.h5")
NORMAL = dict(n_samples=300, centers=3, cluster_std=0.40, random_state=0)
ANOMALY = dict(n_samples=300, centers=2, cluster_std=0.40, random_state=1)


def call(kw):
    return "make_blobs(" + ", ".join("%s=%r" % kv for kv in kw.items()) + ")"


def main():
    xn, yn = make_blobs(**NORMAL)
    xa, _ = make_blobs(**ANOMALY)
    xn = np.ascontiguousarray(xn, dtype="<f8")
    xa = np.ascontiguousarray(xa, dtype="<f8")
    test = np.ascontiguousarray(np.vstack([xn, xa]), dtype="<f8")
    tl = np.r_[np.zeros(len(xn)), np.ones(len(xa))].astype("<i8")
    if xn.shape != (300, 2) or xa.shape != (300, 2):
        sys.exit("make_blobs: unexpected shapes %s / %s" % (xn.shape, xa.shape))
    attrs = [
        ("title", "Blobs of the k-means anomaly detection notebook: 3 normal, 2 anomalous centres"),
        ("normal_call", call(NORMAL)),
        ("anomaly_call", call(ANOMALY)),
        ("sklearn_version", sklearn.__version__),
        ("test_sha256", hashlib.sha256(test.tobytes()).hexdigest()),
        ("generator", "experiments/data/make_blobs.py"),
    ]
    tmp = OUT + ".tmp%d" % os.getpid()
    try:
        with h5py.File(tmp, "w", libver="earliest", track_order=False) as f:
            f.create_dataset("normal", data=xn, track_times=False)
            f.create_dataset("normal_labels", data=yn.astype("<i8"), track_times=False)
            f.create_dataset("anomaly", data=xa, track_times=False)
            f.create_dataset("test", data=test, track_times=False)
            f.create_dataset("test_labels", data=tl, track_times=False)
            for k, v in attrs:
                f.attrs[k] = v
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, OUT)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    with open(OUT, "rb") as f:
        print("wrote %s, sha256 %s" % (OUT, hashlib.sha256(f.read()).hexdigest()))
    print("test_sha256 %s" % dict(attrs)["test_sha256"])


if __name__ == "__main__":
    main()
