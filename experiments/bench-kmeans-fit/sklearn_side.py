#!/usr/bin/python3
"""The scikit-learn side of experiments/bench-kmeans-fit/run.sh, and its report.

sklearn_side.py WORK REPS THREADS "CASES"  -> one TSV line per case and algorithm on stdout:
    case, algorithm, best fit seconds, n_iter (KMeans from WORK/init-CASE.h5, tol 1e-4, n_init 1)
sklearn_side.py --report ADKIT.tsv SK.tsv N  -> the Markdown tables (N rows in cases a and b)
"""
import sys
import time

import h5py
import numpy as np

DATA = {"a": ("a.h5", "data"), "b": ("b.h5", "data")}


def fits(work, reps, threads, cases):
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    for c in cases:
        if c in DATA:
            with h5py.File(f"{work}/{DATA[c][0]}", "r") as f:
                X = f[DATA[c][1]][:]
        else:
            with h5py.File(sys.path[0] + "/../../tests/fixtures/kmeans/digits.h5", "r") as f:
                X = f["data"][:]
        with h5py.File(f"{work}/init-{c}.h5", "r") as f:
            C0 = f["centroids"][:]
        for alg in ("lloyd", "elkan"):
            best, it = None, 0
            for _ in range(reps):
                km = KMeans(len(C0), init=C0, n_init=1, max_iter=300, tol=1e-4, algorithm=alg)
                with threadpool_limits(threads):
                    t = time.perf_counter()
                    km.fit(X)
                    t = time.perf_counter() - t
                best = t if best is None else min(best, t)
                it = km.n_iter_
            print(f"{c}\t{alg}\t{best:.4f}\t{it}", flush=True)


def report(adkit_tsv, sk_tsv, n):
    names = {"a": f"(a) blobs {n:,} x 32, K = 64", "b": f"(b) blobs {n:,} x 2, K = 16",
             "c8": "(c) digits 1,797 x 64, K = 8", "c64": "(c) digits 1,797 x 64, K = 64"}
    sk = {}
    for line in open(sk_tsv):
        c, alg, t, it = line.rstrip("\n").split("\t")
        sk.setdefault(c, {})[alg] = (float(t), int(it))
    rows = [line.rstrip("\n").split("\t") for line in open(adkit_tsv)]
    lloyd = {(r[0], r[1]): float(r[3]) for r in rows if r[2] == "lloyd"}
    print("Seconds are the best of REPS; adkit's fit seconds leave out start-up and reading (the")
    print("whole process is beside them); \"skipped\" is the fraction of row-centre distances the")
    print("bounds left out over the whole fit; \"bits\" says whether centroids, inertia, n_iter and")
    print("converged equal --algorithm lloyd's with the same kernel bit for bit. Ratios: fit seconds")
    print("over scikit-learn's better fit, and over adkit lloyd with the same kernel.\n")
    for c in dict.fromkeys(r[0] for r in rows):
        s = sk.get(c, {})
        ref = min((v[0] for v in s.values()), default=float("nan"))
        print(f"### {names.get(c, c)}\n")
        print("| side | algorithm | kernel | fit s | whole s | iterations | skipped | bits | "
              "vs scikit-learn best | vs lloyd |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for alg, (t, it) in s.items():
            print(f"| scikit-learn, 2 threads | {alg} | - | {t:.3f} | - | {it} | - | - | "
                  f"{t / ref:.2f}x | - |")
        for r in rows:
            if r[0] != c:
                continue
            _, kern, alg, fit, whole, it, used, skip, per, same = r
            name = alg if alg != "auto" else f"auto ({used})"
            print(f"| adkit, 2 ranks | {name} | {kern} | {float(fit):.3f} | {whole} | {it} | "
                  f"{skip} | {same} | {float(fit) / ref:.3f}x | "
                  f"{float(fit) / lloyd[(c, kern)]:.2f}x |")
        print()
        print("Skipped fraction per iteration (hamerly):\n")
        for r in rows:
            if r[0] == c and r[2] == "hamerly":
                print(f"- {r[1]}: {r[8]}")
        print()


if __name__ == "__main__":
    if sys.argv[1] == "--report":
        report(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        fits(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split())
