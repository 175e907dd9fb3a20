#!/usr/bin/python3
"""The Python side of the select benchmark: the recipe's reference loop and a vectorised numpy
version of the same rule, timed on the same validation set adkit-gauss select swept.

    ref_select.py MODEL.h5 VAL.h5 SAMPLE

MODEL.h5 is the diag model written by adkit-gauss fit and updated by adkit-gauss select (its
/epsilon and /f1 are the adkit result to compare with). The densities p are computed with numpy
(not timed as part of the sweep; their time is printed separately). Then:
  vectorised  sort the anomalies' and the normals' p once, np.searchsorted for all 1000
              candidates: the counts of p < epsilon, then P/R/F1 and the first best F1, over all
              rows (the same rule as the loop, so the same epsilon and F1)
  reference   the recipe's select_threshold loop, verbatim, on the first SAMPLE rows (it makes
              ~4 full passes per candidate, 1000 candidates), and the vectorised version on the
              same sample as a check
Prints Markdown table rows: what, rows, seconds, epsilon, F1.
"""
import os
import sys
import time

import h5py
import numpy as np

# the recipe's reference loop, one copy: the one the test fixtures are made with
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/fixtures"))
from make_gauss_fixtures import select_threshold  # noqa: E402


def select_vectorised(yval, pval):
    """The same rule without the loop over rows: counts by binary search in sorted values."""
    eps = np.linspace(pval.min(), pval.max(), 1000)
    pos = np.sort(pval[yval == 1])
    neg = np.sort(pval[yval == 0])
    tp = np.searchsorted(pos, eps, side="left")  # number of anomalies with p < epsilon
    fp = np.searchsorted(neg, eps, side="left")
    fn = len(pos) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        rec = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    best_f1, best_eps = 0.0, 0.0
    for i in range(len(eps)):  # 1000 scalars: the reference's first-strictly-greater rule
        if f1[i] > best_f1:
            best_f1, best_eps = f1[i], eps[i]
    return float(best_eps), float(best_f1)


def main():
    model, val, sample = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with h5py.File(model, "r") as f:
        mu, var = f["/mu"][...], f["/var"][...]
        eps_adk, f1_adk = float(f["/epsilon"][0]), float(f["/f1"][0])
    t = time.perf_counter()
    with h5py.File(val, "r") as f:
        X, y = f["/data"][...], f["/labels"][...]
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    logp = -0.5 * np.sum(np.log(2 * np.pi * var)) - 0.5 * np.sum((X - mu) ** 2 / var, axis=1)
    p = np.exp(logp)
    t_dens = time.perf_counter() - t
    del X
    n = len(p)
    print("| numpy: read | %d | %.2f | | |" % (n, t_read))
    print("| numpy: density | %d | %.2f | | |" % (n, t_dens))
    t = time.perf_counter()
    e_v, f_v = select_vectorised(y, p)
    t_v = time.perf_counter() - t
    print("| numpy vectorised sweep | %d | %.2f | %.17g | %.17g |" % (n, t_v, e_v, f_v))
    ys, ps = y[:sample], p[:sample]
    t = time.perf_counter()
    e_r, f_r = select_threshold(ys, ps)
    t_r = time.perf_counter() - t
    print("| reference loop (sample) | %d | %.2f | %.17g | %.17g |" % (sample, t_r, e_r, f_r))
    e_s, f_s = select_vectorised(ys, ps)
    ok_sample = e_s == e_r and f_s == f_r
    ok_full = abs(e_v - eps_adk) <= 1e-12 * abs(e_v) and f_v == f1_adk
    print()
    print("- adkit result: epsilon %.17g, F1 %.17g" % (eps_adk, f1_adk))
    print("- vectorised = reference loop on the sample: %s" % ("yes" if ok_sample else "NO"))
    print("- vectorised (numpy densities) = adkit (epsilon within 1e-12, F1 equal) on all rows: %s"
          % ("yes" if ok_full else "NO"))
    print("- reference loop extrapolated to %d rows (linear in rows): %.0f s" %
          (n, t_r * n / sample))
    return 0 if ok_sample and ok_full else 1


if __name__ == "__main__":
    sys.exit(main())
