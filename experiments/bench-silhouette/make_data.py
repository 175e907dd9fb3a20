#!/usr/bin/python3
"""Benchmark input for the silhouette: N x D Gaussian blobs (numpy), K clusters.

    /usr/bin/python3 experiments/bench-silhouette/make_data.py OUT.h5 [N D K SEED]

OUT.h5 holds /data (N x D float64), /cluster (int32 labels: the generating blob) and
/centroids (K x D: the mean of each cluster's rows) with the attributes of an adkit-kmeans model,
so one file serves as data, model and assignment for adkit-metrics.
"""
import sys

import h5py
import numpy as np


def main(argv):
    out = argv[1]
    n, d, k, seed = (int(v) for v in (argv[2:6] if len(argv) >= 6 else (20000, 32, 8, 1)))
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-6.0, 6.0, (k, d))
    lab = rng.integers(0, k, n).astype(np.int32)
    x = centers[lab] + rng.normal(0.0, 2.0, (n, d))
    cen = np.stack([x[lab == c].mean(axis=0) for c in range(k)])
    with h5py.File(out, "w") as f:
        f.create_dataset("data", data=x)
        f.create_dataset("cluster", data=lab)
        f.create_dataset("centroids", data=cen)
        f.attrs["k"] = np.int64(k)
        f.attrs["inertia"] = float(((x - cen[lab]) ** 2).sum())
        f.attrs["n_iter"] = np.int64(0)
        f.attrs["converged"] = np.int64(1)
        f.attrs["seed"] = np.uint64(seed)
        f.attrs["init"] = "generating blobs"
    print("wrote %s: %d x %d, k = %d, seed %d" % (out, n, d, k, seed))


if __name__ == "__main__":
    main(sys.argv)
