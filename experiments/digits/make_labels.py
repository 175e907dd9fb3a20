#!/usr/bin/python3
"""Write experiments/digits/digits_anomaly.h5: the study's 0/1 labels of the 1797 digits.

    /usr/bin/python3 experiments/digits/make_labels.py

/labels (int64, 1797): 1 where experiments/data/digits.h5:/labels is 0 or 1 (the anomalies),
0 for the digits 2-9 (normal), in the same row order. adkit-gauss takes 0/1 labels only, so the
Gaussian experiment splits the rows with these labels (adkit-subset --labels ...:/labels
--anomaly-labels 1): the same split as with the digits and --anomaly-labels 0,1. Root attributes:
source, rule, generator. Reproducible byte for byte (track_times=False, fixed attribute order).
"""
import hashlib
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "data", "digits.h5")
OUT = os.path.join(HERE, "digits_anomaly.h5")


def main():
    with h5py.File(SRC, "r") as f:
        digit = f["labels"][:]
    lab = np.ascontiguousarray((digit <= 1).astype("<i8"))
    tmp = OUT + ".tmp%d" % os.getpid()
    try:
        with h5py.File(tmp, "w", libver="earliest", track_order=False) as f:
            f.create_dataset("labels", data=lab, track_times=False)
            f.attrs["source"] = "experiments/data/digits.h5:/labels"
            f.attrs["rule"] = "1 for the digits 0 and 1 (anomalies), 0 for 2-9 (normal)"
            f.attrs["generator"] = "experiments/digits/make_labels.py"
        os.replace(tmp, OUT)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    with open(OUT, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    print("wrote %s: %d anomalies of %d rows, sha256 %s" % (OUT, lab.sum(), len(lab), sha))


if __name__ == "__main__":
    main()
