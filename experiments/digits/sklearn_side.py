#!/usr/bin/python3
"""scikit-learn side of the digits study: the same experiments with scikit-learn and numpy.

  sklearn_side.py WORKDIR OUT.json SEED...

WORKDIR is run.sh's work folder; from it this script reads only the row numbers (/rows) of
adkit-subset's seeded train / val / test split, so both sides judge the Gaussian detector on the
same rows. Everything else is computed here from experiments/data/{blobs,digits}.h5:

  blobs      KMeans(n_clusters=3, random_state=seed, n_init=10) on /normal; the notebook's rule:
             a row is anomalous when its distance to its centroid (transform/predict) exceeds
             np.percentile(99) of its cluster's training distances; FP = normal rows flagged,
             FN = anomalies not flagged, over the 600 rows of /test
  digits64   KMeans(8, random_state=seed, n_init=10) on the digits 2-9; rules: per-cluster 99th
             percentile, np.percentile(all training distances, 95), per-cluster mean + 3 np.std;
             counted over all 1797 rows (0 and 1 are the anomalies)
  tsne       TSNE(n_components=2, init="random", random_state=seed) of all 1797 rows, then as
             digits64 (per-cluster 99th) on the embedding
  pca        PCA(n_components=2) of all rows, then as tsne
  knn        NearestNeighbors fitted on the normal rows: each row's distance to its 5th nearest
             normal row (a normal row finds itself at 0, as adkit-knn --reference does); flags
             score > eps, eps the F1-best of np.linspace(min, max, 1000) (same rule as adkit-knn)
  gauss64    per-feature mean and np.var of the train rows, variances floored at 0.25; log density;
             eps the first F1-best of np.linspace(min, max, 1000) over the val log densities
             (prediction logp < eps); test precision, recall, F1
  gausstsne  the same on scikit-learn's t-SNE embedding of that seed, sweeping the density p
  quality    silhouette_score and davies_bouldin_score of each fitted model's training rows
  elbow      KMeans inertia for K = 2..20 on the normal digits (first seed, n_init 10) and its
             Kneedle knee (convex, decreasing, S = 1; kneed's offline rule, reimplemented)
"""
import json
import os
import sys
import time

import h5py
import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import davies_bouldin_score, silhouette_score
from sklearn.neighbors import NearestNeighbors

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def counts(flag, y):
    """The notebook's counts (anomaly = positive) and precision, recall, F1."""
    tp = int(np.sum(flag & y))
    fp = int(np.sum(flag & ~y))
    fn = int(np.sum(~flag & y))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": int(np.sum(~flag & ~y)), "precision": p,
            "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def sweep(score, y, below):
    """First F1-best epsilon of np.linspace(min, max, 1000) (the Gaussian recipe's sweep)."""
    best_eps, best_f1 = 0.0, 0.0
    for eps in np.linspace(score.min(), score.max(), 1000):
        f1 = counts(score < eps if below else score > eps, y)["f1"]
        if f1 > best_f1:
            best_eps, best_f1 = eps, f1
    return best_eps


def kmeans_rules(xtr, xte, yte, k, seed, rules=("p99",)):
    km = KMeans(n_clusters=k, random_state=seed, n_init=10).fit(xtr)
    ltr = km.predict(xtr)
    dtr = km.transform(xtr)[np.arange(len(xtr)), ltr]
    lte = km.predict(xte)
    dte = km.transform(xte)[np.arange(len(xte)), lte]
    res = {}
    for r in rules:
        if r == "p99":
            thr = np.array([np.percentile(dtr[ltr == c], 99) for c in range(k)])[lte]
        elif r == "g95":
            thr = np.percentile(dtr, 95)
        else:  # s3: each cluster's mean + 3 population sd
            thr = np.array([dtr[ltr == c].mean() + 3 * dtr[ltr == c].std() for c in range(k)])[lte]
        res[r] = counts(dte > thr, yte)
    quality = {"silhouette": float(silhouette_score(xtr, ltr)),
               "davies_bouldin": float(davies_bouldin_score(xtr, ltr)),
               "inertia": float(km.inertia_)}
    return res, quality


def gauss_logp(train, x, min_var):
    mu = train.mean(axis=0)
    var = np.maximum(train.var(axis=0), min_var)
    return np.sum(-0.5 * np.log(2 * np.pi * var) - (x - mu) ** 2 / (2 * var), axis=1)


def gauss(x, y, rows, min_var, log):
    tr, va, te = (x[rows[p]] for p in ("train", "val", "test"))
    lv, lt = gauss_logp(tr, va, min_var), gauss_logp(tr, te, min_var)
    sv, st = (lv, lt) if log else (np.exp(lv), np.exp(lt))
    eps = sweep(sv, y[rows["val"]], below=True)
    out = counts(st < eps, y[rows["test"]])
    out["epsilon"] = float(eps)
    return out


def kneedle(x, y, s=1.0):
    """Knee of a convex decreasing curve (Satopaa et al. 2011; kneed's offline rule)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    xn = (x - x.min()) / (x.max() - x.min())
    yn = (y - y.min()) / (y.max() - y.min())
    d = (yn.max() - yn) - xn
    n = len(d)
    maxima = [i for i in range(n) if d[i] >= d[max(i - 1, 0)] and d[i] >= d[min(i + 1, n - 1)]]
    minima = [i for i in range(n) if d[i] <= d[max(i - 1, 0)] and d[i] <= d[min(i + 1, n - 1)]]
    step = s * np.abs(np.diff(xn).mean())
    thr, ti = None, None
    for j in range(n - 1):
        if j in maxima:
            thr, ti = d[j] - step, j
        elif j in minima and thr is not None:
            thr = 0.0
        if thr is not None and d[j + 1] < thr:
            return int(x[ti])
    return None


def main(work, path, seeds):
    seeds = [int(s) for s in seeds]
    with h5py.File(os.path.join(ROOT, "experiments/data/blobs.h5"), "r") as f:
        bn, bt, bl = f["normal"][:], f["test"][:], f["test_labels"][:] == 1
    with h5py.File(os.path.join(ROOT, "experiments/data/digits.h5"), "r") as f:
        x, digit = f["data"][:], f["labels"][:]
    y = digit <= 1
    xn = x[~y]
    secs = {}

    def timed(name, fn, *a, **kw):
        t0 = time.perf_counter()
        r = fn(*a, **kw)
        secs[name] = secs.get(name, 0.0) + time.perf_counter() - t0
        return r

    t0 = time.perf_counter()
    proj = PCA(n_components=2).fit_transform(x)
    # fitted on the normal rows; a normal row finds itself among them (distance 0), as in adkit
    nn = NearestNeighbors(n_neighbors=5).fit(xn)
    knn_score = nn.kneighbors(x)[0][:, 4]
    knn = counts(knn_score > sweep(knn_score, y, below=False), y)
    secs["pca+knn"] = time.perf_counter() - t0
    out = {"sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
           "knn": knn, "seeds": {}}
    for s in seeds:
        r, q = {}, {}
        res, q["blobs"] = timed("blobs", kmeans_rules, bn, bt, bl, 3, s)
        r["blobs_p99"] = res["p99"]
        res, q["digits64"] = timed("digits64", kmeans_rules, xn, x, y, 8, s, ("p99", "g95", "s3"))
        for k, v in res.items():
            r["digits64_" + k] = v
        ts = TSNE(n_components=2, init="random", random_state=s)
        emb = timed("tsne", ts.fit_transform, x)
        kl = float(ts.kl_divergence_)
        res, q["tsne"] = timed("tsne", kmeans_rules, emb[~y], emb, y, 8, s)
        r["tsne_p99"] = res["p99"]
        res, q["pca"] = timed("pca", kmeans_rules, proj[~y], proj, y, 8, s)
        r["pca_p99"] = res["p99"]
        r["knn"] = knn
        rows = {}
        for p in ("train", "val", "test"):
            with h5py.File(os.path.join(work, f"seed{s}/gauss64/{p}.h5"), "r") as f:
                rows[p] = f["rows"][:]
        r["gauss64"] = timed("gauss64", gauss, x, y, rows, 0.25, True)
        r["gausstsne"] = timed("gausstsne", gauss, emb, y, rows, 0.0, False)
        out["seeds"][str(s)] = {"results": r, "quality": q, "tsne_kl": kl}
        print(f"  scikit-learn seed {s} done", file=sys.stderr)
    t0 = time.perf_counter()
    ks = list(range(2, 21))
    inert = [float(KMeans(n_clusters=k, random_state=seeds[0], n_init=10).fit(xn).inertia_)
             for k in ks]
    secs["elbow"] = time.perf_counter() - t0
    out["elbow"] = {"k": ks, "inertia": inert, "knee": kneedle(ks, inert)}
    out["seconds"] = secs
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
