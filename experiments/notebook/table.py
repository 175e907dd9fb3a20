#!/usr/bin/python3
"""Print the notebook results table from adkit's JSON outputs and the scikit-learn side's.

  table.py OUTDIR NP
"""
import json
import sys

import h5py


def main(out, np_):
    sk = json.load(open(f"{out}/sklearn.json"))
    print(f"## k-means anomaly detection, the notebook's two examples (adkit on {np_} MPI ranks "
          "beside scikit-learn)\n")
    print("| example | rule | who | FP | FN | precision | recall | F1 | ROC AUC | AP |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in ("blobs", "digits"):
        for rule, model, key in (("per-cluster 99th pct", "model", "per_cluster_p99"),
                                 ("global 95th pct", "model_g95", "global_p95")):
            a = json.load(open(f"{out}/{name}/score_{model}.json"))
            s = sk[name][key]
            print(f"| {name} | {rule} | adkit | {a['fp']} | {a['fn']} | {a['precision']:.4f} | "
                  f"{a['recall']:.4f} | {a['f1']:.4f} | {a['roc_auc']:.4f} | "
                  f"{a['average_precision']:.4f} |")
            if key == "per_cluster_p99":
                a = json.load(open(f"{out}/{name}/score_model_sk.json"))
                print(f"| {name} | {rule} | adkit from sklearn's centroids | {a['fp']} | "
                      f"{a['fn']} | {a['precision']:.4f} | {a['recall']:.4f} | {a['f1']:.4f} | "
                      f"{a['roc_auc']:.4f} | {a['average_precision']:.4f} |")
            print(f"| {name} | {rule} | scikit-learn | {s['fp']} | {s['fn']} | "
                  f"{s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | "
                  f"{sk[name]['roc_auc']:.4f} | {sk[name]['average_precision']:.4f} |")
    print("\n| example | who | k | inertia | iterations | silhouette | Davies-Bouldin |")
    print("|---|---|---|---|---|---|---|")
    for name in ("blobs", "digits"):
        with h5py.File(f"{out}/{name}/model.h5", "r") as f:
            a = dict(f.attrs)
        m = json.load(open(f"{out}/{name}/metrics.json"))
        print(f"| {name} | adkit | {a['k']} | {a['inertia']:.6g} | {a['n_iter']} | "
              f"{m['silhouette']:.4f} | {m['davies_bouldin']:.4f} |")
        s = sk[name]
        print(f"| {name} | scikit-learn | {s['k']} | {s['inertia']:.6g} | {s['n_iter']} | "
              f"{s['silhouette']:.4f} | {s['davies_bouldin']:.4f} |")
    print("\nFP: normal rows flagged; FN: anomalies missed. Both sides seed their own k-means++ "
          "(n_init 10), so their clusterings may differ (on the digits they reach different local "
          "optima); 'adkit from sklearn's centroids' runs Lloyd from scikit-learn's final "
          "centroids, a like-for-like check. adkit's numbers are identical at any rank count.")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
