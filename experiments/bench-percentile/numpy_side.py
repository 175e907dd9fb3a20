#!/usr/bin/python3
"""The numpy side of the per-cluster percentile benchmark (experiments/bench-percentile/run.sh).

  numpy_side.py make DIR N K SEED   write DIR/assign.h5 (/cluster int32, /distance float64: N
                                    training distances in K clusters of unequal sizes) and
                                    DIR/model.h5 (/centroids K x 2; only K matters with --assign)
  numpy_side.py time DIR Q REPS     np.percentile(d[lab == k], Q) per cluster on one process, as
                                    the reference notebook does (a boolean mask per cluster), and
                                    with one stable argsort + slices; best of REPS; writes
                                    DIR/ref.h5:/thresholds and prints "masks S" and "sorted S"
  numpy_side.py same DIR MODEL      count clusters whose MODEL:/thresholds equal ref.h5 bitwise
"""
import sys
import time

import h5py
import numpy as np


def make(d, n, k, seed):
    rng = np.random.default_rng(seed)
    sizes = rng.multinomial(n, rng.dirichlet(np.full(k, 2.0)))
    scale = rng.uniform(0.5, 2.0, k)
    lab = np.repeat(np.arange(k, dtype=np.int32), sizes)
    # distance of a Gaussian point to its centre in 8 dimensions: a scaled chi(8) variable
    dist = scale[lab] * np.sqrt(rng.chisquare(8, n))
    perm = rng.permutation(n)
    with h5py.File(f"{d}/assign.h5", "w") as f:
        f["cluster"] = lab[perm]
        f["distance"] = dist[perm]
    with h5py.File(f"{d}/model.h5", "w") as f:
        f["centroids"] = rng.normal(0.0, 10.0, (k, 2))
    print(f"sizes min {sizes.min()} max {sizes.max()}")


def timed(reps, fn):
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def time_numpy(d, q, reps):
    with h5py.File(f"{d}/assign.h5", "r") as f:
        lab = f["cluster"][:]
        dist = f["distance"][:]
    k = int(lab.max()) + 1

    def masks():
        return np.array([np.percentile(dist[lab == c], q) for c in range(k)])

    def grouped():
        order = np.argsort(lab, kind="stable")
        bounds = np.searchsorted(lab[order], np.arange(k + 1))
        ds = dist[order]
        return np.array([np.percentile(ds[bounds[c]:bounds[c + 1]], q) for c in range(k)])

    t_masks, ref = timed(reps, masks)
    t_sorted, ref2 = timed(reps, grouped)
    assert ref.tobytes() == ref2.tobytes()
    with h5py.File(f"{d}/ref.h5", "w") as f:
        f["thresholds"] = ref
    print(f"masks {t_masks:.4f}")
    print(f"sorted {t_sorted:.4f}")


def same(d, model):
    with h5py.File(f"{d}/ref.h5", "r") as f:
        ref = f["thresholds"][:]
    with h5py.File(model, "r") as f:
        got = f["thresholds"][:]
    print(int(np.sum(ref.view(np.uint64) == got.view(np.uint64))), len(ref))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "time":
        time_numpy(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    else:
        same(sys.argv[2], sys.argv[3])
