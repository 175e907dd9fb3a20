#!/usr/bin/python3
"""Draw the scaling study's CSVs (experiments/scaling/run.sh): strong scaling speed-up and
parallel efficiency per phase, weak scaling efficiency per phase. Hollow markers are
oversubscribed runs (more ranks than cores): they show correctness, not speed.

    /usr/bin/python3 experiments/scaling/plot.py OUTDIR DATE

reads OUTDIR/{strong,weak}-DATE.csv (whichever exist), writes OUTDIR/{strong,weak}-DATE.png.
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    """{phase: [(ranks, seconds, oversubscribed)]} sorted by ranks."""
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["phase"], []).append(
                (int(row["ranks"]), float(row["seconds"]), row["oversubscribed"] == "1"))
    return {p: sorted(v) for p, v in out.items()}


def ranks_axis(ax, data):
    """Rank counts as ticks; powers of two spread evenly when they reach 8 and more."""
    ranks = sorted({p[0] for pts in data.values() for p in pts})
    if ranks and ranks[-1] >= 8:
        ax.set_xscale("log", base=2)
    ax.set_xticks(ranks)
    ax.set_xticklabels([str(r) for r in ranks])


def series(ax, phase, pts, y):
    xs = [p[0] for p in pts]
    ys = [y(p) for p in pts]
    line, = ax.plot(xs, ys, "-", label=phase)
    for (r, _, over), v in zip(pts, ys):
        ax.plot([r], [v], "o", color=line.get_color(),
                markerfacecolor="none" if over else line.get_color())


def main():
    outdir, date = sys.argv[1], sys.argv[2]
    strong = os.path.join(outdir, f"strong-{date}.csv")
    weak = os.path.join(outdir, f"weak-{date}.csv")
    if os.path.exists(strong):
        data = load(strong)
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        pmax = 1
        for phase, pts in data.items():
            base = next((p for p in pts if p[0] == 1), None)
            if base is None or base[1] <= 0:
                continue
            series(a1, phase, pts, lambda p: base[1] / p[1])
            series(a2, phase, pts, lambda p: base[1] / p[1] / p[0])
            pmax = max(pmax, max(p[0] for p in pts))
        a1.plot([1, pmax], [1, pmax], "k:", label="ideal")
        a1.set(xlabel="MPI ranks", ylabel="speed-up T(1) / T(P)", title="strong scaling")
        a2.axhline(1.0, color="k", ls=":")
        a2.axhline(0.9, color="grey", ls="--", lw=0.8)
        a2.set(xlabel="MPI ranks", ylabel="efficiency T(1) / (P T(P))", ylim=(0, 1.2),
               title="strong scaling efficiency")
        ranks_axis(a1, data)
        ranks_axis(a2, data)
        a1.legend(fontsize=8)
        fig.suptitle(f"adkit scaling {date} (hollow: oversubscribed)", fontsize=9)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, f"strong-{date}.png"), dpi=120)
    if os.path.exists(weak):
        data = load(weak)
        fig, ax = plt.subplots(figsize=(5, 4))
        for phase, pts in data.items():
            base = next((p for p in pts if p[0] == 1), None)
            if base is None or base[1] <= 0:
                continue
            series(ax, phase, pts, lambda p: base[1] / p[1])
        ax.axhline(1.0, color="k", ls=":")
        ranks_axis(ax, data)
        ax.set(xlabel="MPI ranks", ylabel="efficiency T(1, n) / T(P, P n)", ylim=(0, 1.2),
               title=f"weak scaling {date} (hollow: oversubscribed)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, f"weak-{date}.png"), dpi=120)


if __name__ == "__main__":
    main()
