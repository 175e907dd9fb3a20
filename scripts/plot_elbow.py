#!/usr/bin/python3
"""Draw the K/inertia curve written by adkit-elbow and mark the elbow it chose.

    /usr/bin/python3 scripts/plot_elbow.py CURVE.csv OUT.png [OUT.pdf ...] [--title TEXT]

CURVE.csv: comment lines starting with '#' ("# elbow_k=K" or "# elbow_k=none",
"# sensitivity=S"), then the header "k,inertia,n_iter" and one row per K. Each OUT is written in
the format its extension names (png, pdf, svg). Uses matplotlib's Agg backend (no display).
"""

import argparse
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_curve(path):
    """Return (ks, inertia, elbow K or None, meta dict) from an adkit-elbow CSV."""
    ks, inertia, meta = [], [], {}
    header = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                body = line[1:].strip()
                if "=" in body:
                    key, _, val = body.partition("=")
                    meta[key.strip()] = val.strip()
                continue
            fields = line.split(",")
            if header is None:
                header = fields
                if fields[:2] != ["k", "inertia"]:
                    raise ValueError("%s: expected a 'k,inertia,...' header, got %r" % (path, line))
                continue
            ks.append(int(fields[0]))
            inertia.append(float(fields[1]))
    if not ks:
        raise ValueError("%s: no rows" % path)
    elbow = meta.get("elbow_k", "none")
    elbow = None if elbow == "none" else int(elbow)
    if elbow is not None and elbow not in ks:
        raise ValueError("%s: elbow_k=%d is not one of the K values" % (path, elbow))
    return ks, inertia, elbow, meta


def plot(ks, inertia, elbow, meta, outs, title=None):
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    ax.plot(ks, inertia, "o-", color="C0", lw=1.5, ms=4, label="inertia (WCSS)")
    if elbow is not None:
        y = inertia[ks.index(elbow)]
        ax.axvline(elbow, color="C3", ls="--", lw=1)
        ax.plot([elbow], [y], "o", color="C3", ms=9, mfc="none", mew=2,
                label="elbow (Kneedle): K = %d" % elbow)
    else:
        ax.plot([], [], " ", label="no elbow found (Kneedle)")
    ax.set_xlabel("number of clusters K")
    ax.set_ylabel("inertia")
    ax.set_xticks(ks if len(ks) <= 20 else ks[:: max(1, len(ks) // 10)])
    sens = meta.get("sensitivity")
    ax.set_title(title or ("k-means elbow" + (" (S = %s)" % sens if sens else "")))
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    for out in outs:
        fig.savefig(out, dpi=150)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv", help="curve written by adkit-elbow --out")
    ap.add_argument("out", nargs="+", help="output figure(s): .png, .pdf, .svg")
    ap.add_argument("--title", default=None)
    a = ap.parse_args(argv)
    try:
        ks, inertia, elbow, meta = read_curve(a.csv)
    except (OSError, ValueError) as e:
        print("plot_elbow.py: %s" % e, file=sys.stderr)
        return 2
    plot(ks, inertia, elbow, meta, a.out, a.title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
