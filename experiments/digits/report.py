#!/usr/bin/python3
"""Write OUTDIR/REPORT.md of the digits study: tables, figures, commands, machine, versions, times.

  report.py WORKDIR OUTDIR NP SEED...

The tables are run.sh's WORKDIR/results.md (table.py); the commands are WORKDIR/commands.txt (every
adkit command run.sh ran, in order; paths shown relative to the source tree and OUTDIR).
"""
import os
import platform
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIGURES = [
    ("blobs.png", "Experiment 1: blobs, clusters, flagged points and the 99th-percentile circles"),
    ("centroids.png", "Experiment 2: the 8 centroids of the normal digits"),
    ("tsne_digits.png", "Experiment 3: t-SNE embedding coloured by digit"),
    ("tsne_circles.png", "Experiment 3: k-means on the embedding, flags and circles"),
    ("gauss_f1.png", "Experiment 4: validation F1 against epsilon"),
    ("elbow.png", "Choosing K: elbow curve with Kneedle's choice"),
    ("quality.png", "Silhouette and Davies-Bouldin over the seeds"),
]


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    lscpu = sh("lscpu")
    model = re.search(r"^Model name:\s*(.+)$", lscpu, re.M)
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2 / 1048576}' /proc/meminfo")
    return [f"CPU: {model.group(1) if model else platform.processor()}",
            f"CPUs: {os.cpu_count()}", f"memory: {mem}",
            f"OS: {platform.platform()}", "load average at report time: "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())]


def versions(build):
    import h5py
    import matplotlib
    import numpy
    out = [f"adkit: {sh(build + '/apps/adkit-kmeans --version')}",
           f"MPI: {sh('mpiexec --version 2>&1 | head -1')}",
           f"numpy {numpy.__version__}, h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version}),"
           f" matplotlib {matplotlib.__version__}"]
    try:
        import sklearn
        out.append(f"scikit-learn {sklearn.__version__}")
    except ImportError:
        out.append("scikit-learn: not installed")
    return out


def main(work, out, np_, seeds):
    build = os.environ.get("ADK_BUILD", os.path.join(ROOT, "build"))
    with open(os.path.join(work, "results.md")) as f:
        tables = f.read()
    with open(os.path.join(work, "commands.txt")) as f:
        cmds = [line.rstrip("\n") for line in f]
    def rel(c):
        return c.replace(work + "/", "$W/").replace(ROOT + "/", "")
    first = seeds[0]
    common = [rel(c) for c in cmds if "/seed" not in c]
    seed_cmds = [rel(c) for c in cmds if f"/seed{first}/" in c]
    sk = os.path.exists(os.path.join(work, "sklearn.json"))
    def show(k):
        v = os.environ[k]
        if k == "ADK_BUILD" and v.startswith(ROOT + "/"):
            v = os.path.relpath(v, ROOT)
        return f"{k}='{v}'" if " " in v else f"{k}={v}"
    env = " ".join(show(k) for k in ("NP", "SEEDS", "SKLEARN", "ADK_BUILD") if k in os.environ)
    lines = [
        "# The digits study: k-means anomaly detection rerun with adkit",
        "",
        f"Written {time.strftime('%Y-%m-%d %H:%M:%S %Z')} by `experiments/digits/report.py`. "
        f"adkit on **{np_} MPI ranks**, seeds {', '.join(map(str, seeds))}. The scikit-learn side "
        + ("ran (`experiments/digits/sklearn_side.py`)." if sk else "was **not run**."),
        "",
        "Reproduce (after `scripts/setup.sh`):",
        "",
        "```sh",
        (env + " " if env else "") + "experiments/digits/run.sh "
        + os.path.relpath(out, ROOT),
        "```",
        "",
        "Every number below comes from the C programs' JSON/HDF5/CSV outputs (adkit's columns) or "
        "from scikit-learn (its columns); Python only prints and draws them. The blobs are "
        "`experiments/data/blobs.h5` (the notebook's two `make_blobs` calls), the digits "
        "`experiments/data/digits.h5`; `experiments/digits/README.md` describes each experiment.",
        "",
        tables.replace("## ", "## Results: ", 1),
        "",
        "## Figures (adkit's outputs, seed " + str(first) + ")",
        "",
    ]
    for png, cap in FIGURES:
        if os.path.exists(os.path.join(out, png)):
            lines += [f"**{cap}**", "", f"![{cap}]({png})", ""]
    lines += [
        "## Machine and versions",
        "",
        *[f"- {x}" for x in machine()],
        f"- MPI ranks: {np_}",
        *[f"- {x}" for x in versions(build)],
        "",
        "## Exact commands",
        "",
        f"`$W` is `{os.path.relpath(work, ROOT)}`. The steps of each block (the seed-independent "
        "ones, then each seed's) are written to a steps file and run as one MPI job by "
        "`adkit run` (the `mpiexec` line that ends each block), which starts MPI once per block "
        "instead of once per step. Seed-independent steps:",
        "",
        "```sh",
        *common,
        "```",
        "",
        f"Per seed, shown for seed {first} (the other seeds change `--seed`, `--split-seed` and "
        "`seed<S>` only):",
        "",
        "```sh",
        *seed_cmds,
        "```",
    ]
    if sk:
        lines += ["", "scikit-learn side:", "", "```sh",
                  f"/usr/bin/python3 experiments/digits/sklearn_side.py $W sklearn.json "
                  f"{' '.join(map(str, seeds))}", "```"]
    with open(os.path.join(out, "REPORT.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3],
         [int(s) for s in sys.argv[4:]])
