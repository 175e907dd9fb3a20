#!/usr/bin/python3
"""Small file helpers for experiments/bench-tsne/run.sh; they compute nothing that is reported,
they only copy numbers out of what the C programs wrote.

  helpers.py attrs EMB.h5            prints "kl n_iter seconds_neighbours seconds_p
                                     seconds_optimisation" from the attributes of /embedding
  helpers.py subset IN.h5 OUT.h5 L   rows of IN whose /labels are >= L, as OUT /data and /labels
  helpers.py row NAME FILE.json      one Markdown table row from adkit-knn / adkit-score JSON
"""
import json
import os
import sys

import h5py
import numpy as np


def attrs(path):
    with h5py.File(path, "r") as f:
        a = f["embedding"].attrs
        print(repr(float(a["kl_divergence"])), int(a["n_iter"]),
              *(f"{float(a[k]):.3f}" for k in ("seconds_neighbours", "seconds_p",
                                               "seconds_optimisation")))


def subset(src, dst, low):
    with h5py.File(src, "r") as f:
        x, y = f["data"][:], f["labels"][:]
    keep = y >= low
    tmp = dst + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.create_dataset("data", data=np.ascontiguousarray(x[keep]))
        f.create_dataset("labels", data=y[keep])
    os.replace(tmp, dst)
    print(int(keep.sum()))


def row(name, path):
    with open(path) as f:
        j = json.load(f)
    cells = [name] + [f"{j[k]:.4f}" for k in ("roc_auc", "average_precision", "precision",
                                               "recall", "f1")]
    cells.append(" / ".join(str(j[k]) for k in ("tp", "fp", "tn", "fn")))
    print("| " + " | ".join(cells) + " |")


def main():
    cmd = sys.argv[1]
    if cmd == "attrs":
        attrs(sys.argv[2])
    elif cmd == "subset":
        subset(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "row":
        row(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"{sys.argv[0]}: unknown command {cmd}")


if __name__ == "__main__":
    main()
