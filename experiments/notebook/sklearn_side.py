#!/usr/bin/python3
"""scikit-learn side of the notebook examples: the notebook's recipe, seeded.

  sklearn_side.py DATADIR OUT.json

For each example: KMeans fitted on the normal rows (the notebook leaves example 1 unseeded; here
random_state=0 for both, n_init=10 as scikit-learn 1.2's default), per-cluster 99th-percentile
distance thresholds (np.percentile), then counts on the test set as the notebook does: a row is
anomalous when its distance is greater than its cluster's threshold; false positives are normal
rows flagged, false negatives anomalies missed. Also the one-threshold variant (95th percentile of
all training distances) and the ROC AUC / average precision of the distance.
"""
import json
import sys

import h5py
import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import (average_precision_score, davies_bouldin_score, roc_auc_score,
                             silhouette_score)


def load(path):
    with h5py.File(path, "r") as f:
        return f["data"][:], f["labels"][:]


def study(data, name, k):
    xtr, _ = load(f"{data}/{name}_train.h5")
    xte, yte = load(f"{data}/{name}_test.h5")
    km = KMeans(n_clusters=k, random_state=0, n_init=10).fit(xtr)
    with h5py.File(f"{data}/{name}_sk_centroids.h5", "w") as f:  # for adkit's like-for-like run
        f["centroids"] = km.cluster_centers_
    dtr = km.transform(xtr)[np.arange(len(xtr)), km.predict(xtr)]
    ltr = km.predict(xtr)
    thr = np.array([np.percentile(dtr[ltr == c], 99) for c in range(k)])
    lte = km.predict(xte)
    dte = km.transform(xte)[np.arange(len(xte)), lte]
    out = {"k": k, "inertia": float(km.inertia_), "n_iter": int(km.n_iter_),
           "silhouette": float(silhouette_score(xtr, ltr)),
           "davies_bouldin": float(davies_bouldin_score(xtr, ltr))}
    for tag, flag in (("per_cluster_p99", dte > thr[lte]),
                      ("global_p95", dte > np.percentile(dtr, 95))):
        tp = int(np.sum(flag & (yte == 1)))
        fp = int(np.sum(flag & (yte == 0)))
        fn = int(np.sum(~flag & (yte == 1)))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out[tag] = {"tp": tp, "fp": fp, "fn": fn, "tn": int(np.sum(~flag & (yte == 0))),
                    "precision": p, "recall": r,
                    "f1": 2 * p * r / (p + r) if p + r else 0.0}
    out["roc_auc"] = float(roc_auc_score(yte, dte))
    out["average_precision"] = float(average_precision_score(yte, dte))
    return out


def main(data, path):
    res = {"blobs": study(data, "blobs", 3), "digits": study(data, "digits", 8)}
    with open(path, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
