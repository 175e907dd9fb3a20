#!/usr/bin/python3
"""The scikit-learn side of experiments/bench-tsne/run.sh.

  sklearn_side.py tsne DATA.h5 THREADS   one TSNE fit; prints "wall cpu kl n_iter rss_load rss_peak"
  sklearn_side.py knn DATA.h5 THREADS K  NearestNeighbors(K).fit(X).kneighbors() alone; prints
                                         "wall cpu rss_load rss_peak"

DATA.h5 holds /data. The data are read before the clock starts: wall and cpu (seconds; cpu is
user + system of all threads of this process) cover only the fit. rss_load is the resident size
in KiB after reading the data, rss_peak the process's peak (ru_maxrss, KiB). THREADS bounds
OpenMP and BLAS through threadpoolctl, and is passed as n_jobs too (TSNE's neighbour search).
"""
import resource
import sys
import time

import h5py
from threadpoolctl import threadpool_limits


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    what, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with h5py.File(path, "r") as f:
        X = f["data"][:]
    load = rss_kib()
    with threadpool_limits(limits=threads):
        if what == "tsne":
            from sklearn.manifold import TSNE

            model = TSNE(n_components=2, init="random", random_state=0, learning_rate="auto",
                         perplexity=30, n_jobs=threads)
            c0, t0 = time.process_time(), time.perf_counter()
            model.fit_transform(X)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            extra = f"{model.kl_divergence_!r} {model.n_iter_}"
        elif what == "knn":
            from sklearn.neighbors import NearestNeighbors

            k = int(sys.argv[4])
            c0, t0 = time.process_time(), time.perf_counter()
            NearestNeighbors(n_neighbors=k, n_jobs=threads).fit(X).kneighbors()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            extra = ""
        else:
            sys.exit(f"{sys.argv[0]}: unknown command {what}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{wall:.3f} {cpu:.3f} {extra} {load} {peak}".replace("  ", " "))


if __name__ == "__main__":
    main()
