#!/usr/bin/python3
"""Draw the digits study's figures (PNG) from adkit's outputs of one seed.

  figures.py WORKDIR OUTDIR SEED

Reads only files the C programs wrote under run.sh's WORKDIR (HDF5 models, assignments, scores,
embeddings, the elbow CSV and the metrics JSON) and the committed data the programs read
(experiments/data/blobs.h5 and digits.h5 for the points and labels). Writes into OUTDIR:

  blobs.png          experiment 1: test points coloured by cluster, flagged points marked,
                     one translucent circle per cluster of radius its 99th-percentile threshold
  centroids.png      experiment 2: the 8 centroids of the normal digits as 8x8 images
  tsne_digits.png    experiment 3: the t-SNE embedding coloured by digit
  tsne_circles.png   experiment 3: the embedding coloured by cluster, flags and circles as in 1
  gauss_f1.png       experiment 4: validation F1 against epsilon (64-D: log p; t-SNE: p)
  elbow.png          inertia against K = 2..20 with Kneedle's choice marked
  quality.png        silhouette and Davies-Bouldin of the fitted models over the seeds
"""
import glob
import json
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def h5(path, *names):
    with h5py.File(path, "r") as f:
        return [f[n][()] for n in names]


def circles_plot(ax, x, d, title):
    """Points coloured by cluster, flagged ones as red crosses, a circle per threshold."""
    cent, thr = h5(os.path.join(d, "model.h5"), "centroids", "thresholds")
    cl, flag = h5(os.path.join(d, "score_model.h5"), "cluster", "anomaly")
    flag = flag.astype(bool)
    ax.scatter(x[~flag, 0], x[~flag, 1], c=cl[~flag], cmap="viridis", s=12,
               vmin=0, vmax=len(cent) - 1)
    ax.scatter(x[flag, 0], x[flag, 1], marker="x", c="red", s=18, linewidths=0.8,
               label=f"flagged ({flag.sum()})")
    for c, r in zip(cent, thr):
        ax.add_patch(plt.Circle((c[0], c[1]), r, color="black", alpha=0.12))
    ax.scatter(cent[:, 0], cent[:, 1], c="black", s=40, marker="+")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)


def main(w, out, seed):
    s = os.path.join(w, f"seed{seed}")
    blobs = os.path.join(ROOT, "experiments/data/blobs.h5")

    test, = h5(blobs, "test")
    fig, ax = plt.subplots(figsize=(6, 5))
    circles_plot(ax, test, os.path.join(s, "blobs"),
                 f"1 blobs: K=3, per-cluster 99th percentile (seed {seed})")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "blobs.png"), dpi=110)
    plt.close(fig)

    cent, = h5(os.path.join(s, "digits", "model.h5"), "centroids")
    fig, axs = plt.subplots(2, 4, figsize=(8, 4))
    for i, (a, c) in enumerate(zip(axs.flat, cent)):
        a.imshow(c.reshape(8, 8), interpolation="nearest", cmap=plt.cm.binary)
        a.set(xticks=[], yticks=[], title=f"cluster {i}")
    fig.suptitle(f"2 digits 64-D: the 8 centroids of k-means on the digits 2-9 (seed {seed})")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "centroids.png"), dpi=110)
    plt.close(fig)

    emb, lab = h5(os.path.join(s, "tsne", "emb.h5"), "embedding", "labels")
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    sc = ax.scatter(emb[:, 0], emb[:, 1], c=lab, cmap="tab10", s=8, vmin=-0.5, vmax=9.5)
    fig.colorbar(sc, ax=ax, ticks=range(10), label="digit")
    ax.set_title(f"3 t-SNE of the 1797 digits (random init, seed {seed})")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "tsne_digits.png"), dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    circles_plot(ax, emb, os.path.join(s, "tsne"),
                 f"3 t-SNE first: K=8 on 2-9, per-cluster 99th pct (seed {seed})")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "tsne_circles.png"), dpi=110)
    plt.close(fig)

    fig, axs = plt.subplots(1, 2, figsize=(10, 4))
    for a, d, xl in ((axs[0], "gauss64", "epsilon (log p)"), (axs[1], "gausstsne", "epsilon (p)")):
        with h5py.File(os.path.join(s, d, "model.h5"), "r") as f:
            curve, eps, f1 = f["curve"][()], f["epsilon"][0], f["f1"][0]
        a.plot(curve[:, 0], curve[:, 3], lw=1)
        a.axvline(eps, color="red", lw=0.8, ls="--", label=f"chosen eps, F1 {f1:.3f}")
        a.set(xlabel=xl, ylabel="validation F1",
              title=f"4 Gaussian {'64-D' if d == 'gauss64' else 't-SNE 2-D'} (seed {seed})")
        a.legend(fontsize=8)
        # densities of the embedding are ~1e-4: one power-of-ten factor, not overlapping labels
        a.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    fig.tight_layout()
    fig.savefig(os.path.join(out, "gauss_f1.png"), dpi=110)
    plt.close(fig)

    ks, inert, knee = [], [], None
    with open(os.path.join(w, "common", "elbow.csv")) as f:
        for line in f:
            if line.startswith("# elbow_k="):
                v = line.split("=", 1)[1].strip()
                knee = int(v) if v.isdigit() else None
            elif line[:1].isdigit():
                p = line.split(",")
                ks.append(int(p[0]))
                inert.append(float(p[1]))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ks, inert, "o-", ms=4)
    if knee in ks:
        ax.plot([knee], [inert[ks.index(knee)]], "o", ms=12, mfc="none", mec="red",
                label=f"Kneedle: K = {knee}")
        ax.legend()
    ax.set(xlabel="K", ylabel="inertia", xticks=ks,
           title="Elbow of k-means on the normal digits (adkit-elbow)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "elbow.png"), dpi=110)
    plt.close(fig)

    exps = [("blobs", "blobs"), ("digits", "digits 64-D"), ("tsne", "t-SNE"), ("pca", "PCA")]
    fig, axs = plt.subplots(1, 2, figsize=(9, 3.6))
    for a, key, name in ((axs[0], "silhouette", "silhouette (higher is better)"),
                         (axs[1], "davies_bouldin", "Davies-Bouldin (lower is better)")):
        vals = []
        for d, _ in exps:
            files = sorted(glob.glob(os.path.join(w, "seed*", d, "metrics.json")))
            vals.append([json.load(open(p))[key] for p in files])
        a.boxplot(vals, labels=[n for _, n in exps])
        a.set_title(name + f", {len(vals[0])} seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "quality.png"), dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
