#!/usr/bin/python3
"""Data of the teaching notebook's two k-means examples, as HDF5 files for adkit.

  prepare.py OUTDIR

Example 1 (blobs): 300 normal rows (make_blobs, 3 centres, std 0.40, random_state 0) to train on;
test = those 300 rows followed by 300 anomalies (make_blobs, 2 centres, std 0.40, random_state 1),
/labels 1 for an anomaly. Example 2 (digits): load_digits; digits 2-9 are normal (train), the
test set is the normal rows followed by the digits 0 and 1, in the notebook's order.
Files: blobs_train.h5, blobs_test.h5, digits_train.h5, digits_test.h5 (/data, /labels; the test
files also carry /digit for the digits).
"""
import os
import sys

import h5py
import numpy as np
from sklearn.datasets import load_digits, make_blobs


def write(path, data, labels=None, **extra):
    with h5py.File(path, "w") as f:
        f["data"] = np.asarray(data, dtype=np.float64)
        if labels is not None:
            f["labels"] = np.asarray(labels, dtype=np.int32)
        for k, v in extra.items():
            f[k] = v


def main(out):
    os.makedirs(out, exist_ok=True)
    xt, _ = make_blobs(n_samples=300, centers=3, cluster_std=0.40, random_state=0)
    xa, _ = make_blobs(n_samples=300, centers=2, cluster_std=0.40, random_state=1)
    write(os.path.join(out, "blobs_train.h5"), xt, np.zeros(300))
    write(os.path.join(out, "blobs_test.h5"), np.vstack([xt, xa]),
          np.r_[np.zeros(300), np.ones(300)])

    digits = load_digits()
    normal = digits.target >= 2  # the notebook: 10 - num_clusters = 2
    xn, xb = digits.data[normal], digits.data[~normal]
    write(os.path.join(out, "digits_train.h5"), xn, np.zeros(len(xn)))
    write(os.path.join(out, "digits_test.h5"), np.vstack([xn, xb]),
          np.r_[np.zeros(len(xn)), np.ones(len(xb))],
          digit=np.r_[digits.target[normal], digits.target[~normal]].astype(np.int32))


if __name__ == "__main__":
    main(sys.argv[1])
