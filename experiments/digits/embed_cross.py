#!/usr/bin/python3
"""Where does a t-SNE-first FN difference come from: the embedding or the k-means on it?

Runs scikit-learn's side of experiment 3 (KMeans(8, n_init=10), per-cluster 99th percentile; the
same function as sklearn_side.py) on adkit's own t-SNE embeddings from a study's work folder and
prints, per seed, adkit's FN, scikit-learn's k-means FN on adkit's embedding, and scikit-learn's
whole pipeline's FN (its own embedding; from WORK/sklearn.json). Equal first two columns put any
difference between the sides in the embeddings.

    experiments/digits/embed_cross.py WORK SEED...
"""
import json
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sklearn_side as S  # noqa: E402


def main(work, seeds):
    with h5py.File(os.path.join(HERE, "..", "data", "digits.h5"), "r") as f:
        lab = f["labels"][:]
    y = np.isin(lab, [0, 1])
    with open(os.path.join(work, "sklearn.json")) as f:
        sk = json.load(f)
    rows = []
    print("| seed | adkit FN | scikit-learn k-means on adkit's embedding, FN | "
          "scikit-learn pipeline FN |")
    print("|---|---|---|---|")
    for s in seeds:
        with h5py.File(os.path.join(work, f"seed{s}", "tsne", "emb.h5"), "r") as f:
            emb = f["embedding"][:]
        with open(os.path.join(work, f"seed{s}", "tsne", "score_model.json")) as f:
            a = json.load(f)["fn"]
        res, _ = S.kmeans_rules(emb[~y], emb, y, 8, s)
        b = res["p99"]["fn"]
        c = sk["seeds"][str(s)]["results"]["tsne_p99"]["fn"]
        rows.append((a, b, c))
        print(f"| {s} | {a} | {b} | {c} |")
    r = np.array(rows)
    same = int(np.sum(r[:, 0] == r[:, 1]))
    print(f"\nmedians: adkit {np.median(r[:, 0]):g}, scikit-learn k-means on adkit's embeddings "
          f"{np.median(r[:, 1]):g}, scikit-learn pipeline {np.median(r[:, 2]):g}; "
          f"k-means FN equal in {same} of {len(r)} seeds")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    main(sys.argv[1], [int(s) for s in sys.argv[2:]])
