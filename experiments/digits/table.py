#!/usr/bin/python3
"""Print the digits study's results tables (Markdown) from adkit's outputs and sklearn.json.

  table.py WORKDIR NP SEED...

Reads run.sh's WORKDIR: the JSON, HDF5 and CSV files the C programs wrote (seed<S>/, common/),
times.tsv and, when the scikit-learn side ran, sklearn.json. Prints; computes nothing but medians,
minima and maxima over the seeds.
"""
import csv
import json
import math
import os
import sys

import h5py
import numpy as np

# (experiment, method, adkit JSON under work/seed<S>/ (or work/common/), scikit-learn key)
ROWS = [
    ("1 blobs (2-D)", "k-means K=3, per-cluster 99th pct", "blobs/score_model.json", "blobs_p99"),
    ("2 digits 64-D", "k-means K=8, per-cluster 99th pct", "digits/score_model.json",
     "digits64_p99"),
    ("2 digits 64-D", "k-means K=8, global 95th pct", "digits/score_model_g95.json",
     "digits64_g95"),
    ("2 digits 64-D", "k-means K=8, per-cluster mean + 3σ", "digits/score_model_s3.json",
     "digits64_s3"),
    ("3 digits t-SNE 2-D", "k-means K=8, per-cluster 99th pct", "tsne/score_model.json",
     "tsne_p99"),
    ("3 digits PCA 2-D", "k-means K=8, per-cluster 99th pct", "pca/score_model.json", "pca_p99"),
    ("3 digits 64-D", "kNN distance to the normal rows (k=5), F1-best eps (optimistic)", "common:knn.json", "knn"),
    ("4 Gaussian 64-D", "per-feature, var ≥ 0.25, eps by val F1; test rows",
     "gauss64/score.json", "gauss64"),
    ("4 Gaussian t-SNE 2-D", "per-feature, eps by val F1; test rows", "gausstsne/score.json",
     "gausstsne"),
]
# the acceptance rows: adkit's medians no worse than scikit-learn's
ACCEPT = ("blobs_p99", "digits64_p99", "tsne_p99")
QUALITY = [("1 blobs", "blobs", "blobs"), ("2 digits 64-D", "digits", "digits64"),
           ("3 digits t-SNE", "tsne", "tsne"), ("3 digits PCA", "pca", "pca")]


def load(path):
    with open(path) as f:
        return json.load(f)


def cell(vals, fmt):
    v = np.asarray(vals, dtype=float)
    med = np.median(v)
    if np.all(v == v[0]):
        return fmt.format(med)
    return (fmt + " [" + fmt + ", " + fmt + "]").format(med, v.min(), v.max())


def adkit_file(work, s, rel):
    if rel.startswith("common:"):
        return os.path.join(work, "common", rel[7:])
    return os.path.join(work, f"seed{s}", rel)


def elbow_choice(path):
    """Kneedle's K from adkit-elbow's CSV (its comment line '# elbow_k=K')."""
    with open(path) as f:
        for line in f:
            if line.startswith("# elbow_k="):
                v = line.split("=", 1)[1].strip()
                return int(v) if v.lstrip("-").isdigit() else v
    return None


def ranksum_p(a, b):
    """Two-sided Mann-Whitney rank-sum p-value (normal approximation with tie and continuity
    corrections): the two sides' seeds are independent draws (different random streams), so an
    unpaired test is the one that fits."""
    x = sorted((v, i) for i, v in enumerate(list(a) + list(b)))
    n1, n2 = len(a), len(b)
    n = n1 + n2
    rank = [0.0] * n
    tie = 0.0
    i = 0
    while i < n:
        j = i
        while j + 1 < n and x[j + 1][0] == x[i][0]:
            j += 1
        for k in range(i, j + 1):
            rank[x[k][1]] = (i + j) / 2 + 1
        t = j - i + 1
        tie += t ** 3 - t
        i = j + 1
    u = sum(rank[:n1]) - n1 * (n1 + 1) / 2
    var = n1 * n2 / 12 * ((n + 1) - tie / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = max(0.0, abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(z / math.sqrt(2)))


def main(work, np_, seeds):
    skp = os.path.join(work, "sklearn.json")
    sk = load(skp) if os.path.exists(skp) else None
    n = len(seeds)
    print(f"## Anomaly detection on the blobs and the 8x8 digits: adkit on {np_} MPI ranks "
          f"beside scikit-learn, seeds {seeds[0]}-{seeds[-1]} ({n} seeds)\n")
    print("Median [min, max] over the seeds. FP: normal rows flagged; FN: anomalies missed "
          "(anomalies: the blobs' 300 test points; the digits 0 and 1, 360 rows). "
          "A single value: the same for every seed.\n")
    print("| experiment | method | adkit FP | adkit FN | adkit F1 | scikit-learn FP | "
          "scikit-learn FN | scikit-learn F1 |")
    print("|---|---|---|---|---|---|---|---|")
    verdict = []
    for exp, method, rel, key in ROWS:
        a = [load(adkit_file(work, s, rel)) for s in seeds]
        fa = [r["fp"] for r in a]
        na = [r["fn"] for r in a]
        row = [exp, method, cell(fa, "{:g}"), cell(na, "{:g}"),
               cell([r["f1"] for r in a], "{:.3f}")]
        if sk is None:
            row += ["not run"] * 3
        else:
            b = [sk["seeds"][str(s)]["results"][key] for s in seeds]
            fb = [r["fp"] for r in b]
            nb = [r["fn"] for r in b]
            row += [cell(fb, "{:g}"), cell(nb, "{:g}"), cell([r["f1"] for r in b], "{:.3f}")]
            if key in ACCEPT:
                ok = np.median(fa) <= np.median(fb) and np.median(na) <= np.median(nb)
                # seed by seed: where the two sides' embeddings or initialisations differ, a
                # median gap can be chance; the sign test says how likely such a split is
                fewer = sum(x < y for x, y in zip(na, nb))
                more = sum(x > y for x, y in zip(na, nb))
                m = fewer + more
                p = min(1.0, 2 * sum(math.comb(m, i) for i in range(min(fewer, more) + 1))
                        / 2 ** m) if m else 1.0
                verdict.append(f"{exp}: adkit's median FP {np.median(fa):g} / FN {np.median(na):g}"
                               f" vs scikit-learn's {np.median(fb):g} / {np.median(nb):g}: "
                               + ("no worse" if ok else "WORSE")
                               + f" (seed by seed, FN: adkit fewer in {fewer}, more in {more}, "
                               f"equal in {len(na) - m}; two-sided sign test p = {p:.2f}; "
                               f"unpaired, FN: rank-sum p = {ranksum_p(na, nb):.2f})")
        print("| " + " | ".join(row) + " |")
    if verdict:
        print("\nAcceptance (per-cluster 99th percentile, medians over the seeds; \"no worse\": "
              "FP and FN medians both at most scikit-learn's):\n")
        for v in verdict:
            print("- " + v)

    print("\n### Cluster quality of the fitted models (training rows)\n")
    print("| experiment | adkit silhouette | adkit Davies–Bouldin | scikit-learn silhouette | "
          "scikit-learn Davies–Bouldin |")
    print("|---|---|---|---|---|")
    for exp, d, key in QUALITY:
        m = [load(os.path.join(work, f"seed{s}", d, "metrics.json")) for s in seeds]
        row = [exp, cell([x["silhouette"] for x in m], "{:.3f}"),
               cell([x["davies_bouldin"] for x in m], "{:.3f}")]
        if sk is None:
            row += ["not run"] * 2
        else:
            q = [sk["seeds"][str(s)]["quality"][key] for s in seeds]
            row += [cell([x["silhouette"] for x in q], "{:.3f}"),
                    cell([x["davies_bouldin"] for x in q], "{:.3f}")]
        print("| " + " | ".join(row) + " |")

    kl = []
    for s in seeds:
        with h5py.File(os.path.join(work, f"seed{s}", "tsne", "emb.h5"), "r") as f:
            kl.append(float(f["embedding"].attrs["kl_divergence"]))
    knee = elbow_choice(os.path.join(work, "common", "elbow.csv"))
    print("\n### Choosing K and the t-SNE fit\n")
    print("| quantity | adkit | scikit-learn |")
    print("|---|---|---|")
    sk_knee = "not run" if sk is None else str(sk["elbow"]["knee"])
    print(f"| elbow of the normal digits, K = 2..20 (Kneedle), seed {seeds[0]} | {knee} | "
          f"{sk_knee} |")
    sk_kl = "not run" if sk is None else cell([sk["seeds"][str(s)]["tsne_kl"] for s in seeds],
                                               "{:.3f}")
    print(f"| t-SNE KL divergence | {cell(kl, '{:.3f}')} | {sk_kl} |")

    print("\n### Seconds per step (wall clock, all seeds)\n")
    tot = {}
    with open(os.path.join(work, "times.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            tot[r["step"]] = tot.get(r["step"], 0.0) + float(r["seconds"])
    sks = {} if sk is None else sk["seconds"]
    names = {"prepare": "normal rows (adkit-subset)", "blobs": "1 blobs: k-means, thresholds, score",
             "digits64": "2 digits 64-D: k-means, 3 rules, scores",
             "tsne": "3 t-SNE embedding, k-means, threshold, score",
             "pca": "3 PCA and its k-means, threshold, score", "knn": "3 kNN score",
             "gauss64": "4 Gaussian 64-D: split, fit, select, score",
             "gausstsne": "4 Gaussian t-SNE: split, fit, select, score",
             "elbow": "elbow K = 2..20", "metrics": "silhouette, Davies–Bouldin",
             "start": "MPI job starts and ends (one `adkit run` per seed, one for the rest)",
             "adkit total": "**adkit, everything above**",
             "scikit-learn total": "**scikit-learn side, everything**"}
    print(f"| step | adkit ({np_} ranks) | scikit-learn |")
    print("|---|---|---|")
    skmap = {"blobs": "blobs", "digits64": "digits64", "tsne": "tsne", "pca": "pca",
             "knn": "pca+knn", "gauss64": "gauss64", "gausstsne": "gausstsne", "elbow": "elbow"}
    for k in names:
        if k == "scikit-learn total":
            if k in tot:
                print(f"| {names[k]} | | {tot[k]:.1f} |")
            continue
        if k not in tot:
            continue
        sv = sks.get(skmap.get(k, ""), None)
        svs = "" if sv is None else f"{sv:.1f}"
        if k == "knn" and sv is not None:
            svs += " (with PCA)"
        print(f"| {names[k]} | {tot[k]:.1f} | {svs} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]])
