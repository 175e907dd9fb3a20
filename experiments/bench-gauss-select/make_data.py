#!/usr/bin/python3
"""Benchmark data for adkit-gauss select: a normal training set and a labelled validation set.

    make_data.py OUTDIR [N_VAL [D [SEED]]]

Writes OUTDIR/train.h5 (/data: 200,000 x D normal rows) and OUTDIR/val.h5 (/data: N_VAL x D,
/labels: 1 for the ~1% anomalies, drawn from a wider, shifted normal). Written in slabs, so memory
stays at a few hundred MB whatever N_VAL. Defaults: N_VAL = 10,000,000, D = 4, SEED = 1.
"""
import os
import sys

import h5py
import numpy as np

SLAB = 1_000_000


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 1
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
    d = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    scale = 1.0 + rng.random(d)
    shift = 10.0 * rng.random(d)
    with h5py.File(os.path.join(out, "train.h5"), "w") as f:
        f.create_dataset("data", data=rng.standard_normal((200_000, d)) * scale + shift)
    with h5py.File(os.path.join(out, "val.h5"), "w") as f:
        x = f.create_dataset("data", (n, d), dtype=np.float64)
        y = f.create_dataset("labels", (n,), dtype=np.int8)
        for a in range(0, n, SLAB):
            b = min(n, a + SLAB)
            lab = (rng.random(b - a) < 0.01).astype(np.int8)
            z = rng.standard_normal((b - a, d))
            z[lab == 1] = z[lab == 1] * 2.5 + 1.5
            x[a:b] = z * scale + shift
            y[a:b] = lab
    print("make_data: %s: train 200000 x %d, validation %d x %d" % (out, d, n, d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
