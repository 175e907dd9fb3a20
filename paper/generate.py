#!/usr/bin/python3
"""paper/generate.py: transcribe experiments/results/ into LaTeX for paper/adkit.tex.

    generate.py [--results DIR] [--out DIR] [--paper-dir DIR]

Reads the recorded results (Markdown reports and CSV files written by the experiment scripts)
and writes OUT/results.tex (one \\newcommand per number the paper quotes) and OUT/tab-*.tex
(tables). Numbers are transcribed as the result files print them; the only changes are unit
formatting (digit grouping, a fraction shown as a percentage, a long float shown to fewer
digits). For a kind of result recorded on several dates (NAME-YYYY-MM-DD.md) the newest file is
read. When a file, a row, a field or a sentence the paper needs is missing or is not a number,
the script names the file and what it looked for on stderr and exits with status 1 without
writing anything: the paper never shows a placeholder.

Only the Python standard library is used (runs with /usr/bin/python3 on a bare Debian).
"""

import argparse
import csv
import glob
import os
import re
import sys
import tempfile

PROG = "paper/generate.py"


class Missing(Exception):
    """A result the paper needs is absent or unreadable."""


def fail(where, what):
    raise Missing("%s: %s" % (where, what))


# --- LaTeX formatting -----------------------------------------------------------------------


# Characters of result files that LaTeX needs written otherwise.
TEX_CHARS = {"\\": "\\textbackslash{}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}",
             "σ": "$\\sigma$", "≥": "$\\geq$", "≤": "$\\leq$", "–": "--", "×": "$\\times$"}
TEX_CHARS.update({ch: "\\" + ch for ch in "&%$#_{}"})


def tex_escape(s):
    """Plain text (from a result file) as LaTeX text."""
    s = "".join(TEX_CHARS.get(ch, ch) for ch in s)
    # inline code and bold markers of Markdown
    s = re.sub(r"`([^`]*)`", r"\\texttt{\1}", s)
    s = re.sub(r"\*\*([^*]*)\*\*", r"\\textbf{\1}", s)
    return s


def group(digits):
    """1234567 -> 1{,}234{,}567 (digit grouping only)."""
    neg = digits.startswith("-")
    if neg:
        digits = digits[1:]
    intpart, dot, frac = digits.partition(".")
    if len(intpart) > 4:
        parts = []
        while len(intpart) > 3:
            parts.insert(0, intpart[-3:])
            intpart = intpart[:-3]
        parts.insert(0, intpart)
        intpart = "{,}".join(parts)
    return ("-" if neg else "") + intpart + dot + frac


NUM_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")


def number(where, what, text):
    """A cell or match that must be a plain number: returned as written (stripped)."""
    t = text.strip().replace("**", "").replace(",", "")
    if not NUM_RE.match(t):
        fail(where, "%s: '%s' is not a number" % (what, text.strip()))
    return t


def sig(where, what, text, digits):
    """A number shown to DIGITS decimals (display only)."""
    t = number(where, what, text)
    return "%.*f" % (digits, float(t))


def sci(where, what, text):
    """1e+09 -> 10^{9}; 3.85e+07 -> 3.85\\times 10^{7} (display only)."""
    t = number(where, what, text)
    m = re.match(r"^([0-9.]+)[eE]\+?(-?)0*([0-9]+)$", t)
    if not m:
        return group(t)
    mant = m.group(1)
    exp = m.group(2) + m.group(3)
    if mant in ("1", "1.0"):
        return "\\ensuremath{10^{%s}}" % exp
    return "\\ensuremath{%s\\times 10^{%s}}" % (mant, exp)


# --- result files ---------------------------------------------------------------------------

DATED = re.compile(r"^(?P<kind>.*)-(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})\.(?P<ext>[a-z]+)$")


class Results:
    def __init__(self, root):
        self.root = root
        self.used = []

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def newest(self, kind, ext="md"):
        """experiments/results/KIND-YYYY-MM-DD.EXT with the latest date."""
        pat = os.path.join(self.root, "%s-*.%s" % (kind, ext))
        best = None
        for p in glob.glob(pat):
            m = DATED.match(os.path.basename(p))
            if not m or m.group("kind") != os.path.basename(kind):
                continue
            if best is None or m.group("date") > best[0]:
                best = (m.group("date"), p)
        if best is None:
            fail(os.path.join(self.label(), "%s-YYYY-MM-DD.%s" % (kind, ext)),
                 "no result file of this kind (the paper needs it)")
        self.used.append(best[1])
        return best[1], best[0]

    def label(self):
        return self.root

    def md(self, kind):
        path, date = self.newest(kind, "md")
        return Md(path, self.show(path), date)

    def fixed(self, relpath):
        path = os.path.join(self.root, relpath)
        if not os.path.isfile(path):
            fail(self.show(path), "file missing (the paper needs it)")
        self.used.append(path)
        return path

    def show(self, path):
        return os.path.normpath(path)


class Table:
    def __init__(self, src, header, rows, line):
        self.src = src
        self.header = header
        self.rows = rows
        self.line = line

    def col(self, name):
        for i, h in enumerate(self.header):
            if h.strip().replace("**", "") == name:
                return i
        fail(self.src.name, "table at line %d: no column '%s' (columns: %s)"
             % (self.line, name, ", ".join(self.header)))

    def find(self, key, cols=(0,), prefix=False):
        """The row whose first cells equal KEY (a string or a tuple for several columns)."""
        keys = key if isinstance(key, tuple) else (key,)
        for r in self.rows:
            cells = [r[c].strip().replace("**", "").lower() for c in cols]
            want = [k.lower() for k in keys]
            if prefix:
                hit = all(c.startswith(w) for c, w in zip(cells, want))
            else:
                hit = cells == want
            if hit:
                return r
        fail(self.src.name, "table at line %d: no row '%s'" % (self.line, " | ".join(keys)))

    def cell(self, key, colname, cols=(0,), prefix=False):
        r = self.find(key, cols, prefix)
        c = self.col(colname)
        if c >= len(r) or not r[c].strip():
            fail(self.src.name, "table at line %d, row '%s': field '%s' empty"
                 % (self.line, " | ".join(key if isinstance(key, tuple) else (key,)), colname))
        return r[c].strip()

    def num(self, key, colname, cols=(0,), prefix=False):
        where = "%s, table at line %d, row '%s'" % (
            self.src.name, self.line, " | ".join(key if isinstance(key, tuple) else (key,)))
        return number(where, "field '%s'" % colname, self.cell(key, colname, cols, prefix))


class Md:
    def __init__(self, path, name, date):
        self.path = path
        self.name = name
        self.date = date
        with open(path, encoding="utf-8") as f:
            self.text = f.read()
        self.lines = self.text.split("\n")

    def tables(self):
        out = []
        i = 0
        while i < len(self.lines):
            if self.lines[i].startswith("|") and i + 1 < len(self.lines) and \
                    re.match(r"^\|[-| :]+\|\s*$", self.lines[i + 1]):
                header = split_row(self.lines[i])
                rows = []
                j = i + 2
                while j < len(self.lines) and self.lines[j].startswith("|"):
                    rows.append(split_row(self.lines[j]))
                    j += 1
                out.append(Table(self, header, rows, i + 1))
                i = j
            else:
                i += 1
        return out

    def table(self, first_col, after=None, last=False, with_row=None):
        """A table whose first header cell is FIRST_COL (after the line matching AFTER)."""
        start = 0
        if after is not None:
            start = self.line_of(after)
        hits = [t for t in self.tables() if t.line > start
                and t.header[0].strip() == first_col
                and (with_row is None or any(r[0].strip().lower() == with_row.lower()
                                             for r in t.rows))]
        if not hits:
            fail(self.name, "no table with first column '%s'%s%s" % (
                first_col, "" if after is None else " after '%s'" % after,
                "" if with_row is None else " and a row '%s'" % with_row))
        return hits[-1] if last else hits[0]

    def line_of(self, pattern):
        rx = re.compile(pattern)
        for i, l in enumerate(self.lines):
            if rx.search(l):
                return i + 1
        fail(self.name, "no line matching '%s'" % pattern)

    def search(self, pattern, what, last=False):
        """Groups of PATTERN (a regex over the whole text, whitespace-tolerant)."""
        rx = re.compile(pattern, re.S)
        ms = list(rx.finditer(self.text))
        if not ms:
            fail(self.name, "%s: no text matching /%s/" % (what, pattern))
        return (ms[-1] if last else ms[0]).groups()


def split_row(line):
    cells = line.strip().split("|")
    return [c.strip() for c in cells[1:-1]]


# --- the paper's numbers --------------------------------------------------------------------


class Out:
    def __init__(self):
        self.macros = []
        self.names = set()
        self.tables = {}

    def m(self, name, value, src=None):
        if not re.match(r"^[A-Za-z]+$", name):
            raise SystemExit("%s: bad macro name %s" % (PROG, name))
        if name in self.names:
            raise SystemExit("%s: macro %s defined twice" % (PROG, name))
        self.names.add(name)
        self.macros.append((name, value, src))

    def ms(self, names, values, src=None):
        """One macro per name, the values in the same order (a search's groups)."""
        if len(names) != len(values):
            raise SystemExit("%s: %d macro names for %d values" % (PROG, len(names), len(values)))
        for name, value in zip(names, values):
            self.m(name, value, src)


def ws(s):
    """A regex fragment: spaces in PATTERN match any whitespace run (line breaks in prose)."""
    return s.replace(" ", r"\s+")


def lloyd(R, O):
    f = R.md("bench-lloyd")
    s = f.name
    O.m("LloydDate", f.date, s)
    (machine,) = f.search(r"\nMachine: ([^;\n]*)", "machine line")
    O.m("LloydMachine", tex_escape(machine), s)
    (units,) = f.search(r"\nVector units: ([^(\n]*)", "vector units line")
    O.m("LloydVectorUnits", tex_escape(units.strip()), s)
    n, d, k = f.search(r"N = ([0-9]+), D = ([0-9]+), K = ([0-9]+)", "problem size")
    O.m("LloydN", group(n), s)
    O.m("LloydD", d, s)
    O.m("LloydK", k, s)
    (ranks, threads) = f.search(ws(r"adkit on ([0-9]+) MPI ranks .*?with ([0-9]+) threads"),
                                "ranks and threads")
    O.m("LloydRanks", ranks, s)
    O.m("LloydThreads", threads, s)
    (skver,) = f.search(r"scikit-learn ([0-9.]+) with", "scikit-learn version")
    O.m("SklearnVersion", skver, s)
    (reps,) = f.search(r"\(REPS=([0-9]+), best of each\)", "REPS")
    O.m("LloydReps", reps, s)
    t = f.table("")
    rows = [("avx512", "adkit, avx512 kernel"), ("avxtwo", "adkit, avx2 kernel"),
            ("blas", "adkit, blas kernel"), ("sk", "scikit-learn kmeans(lloyd)")]
    cap = {"avx512": "Avx", "avxtwo": "AvxTwo", "blas": "Blas", "sk": "Sk"}
    body = []
    for key, label in rows:
        r = t.find(label, prefix=True)
        name = cap[key]
        sec = t.num(label, "s / iteration", prefix=True)
        gf = t.num(label, "GFLOP/s", prefix=True)
        pk = number(s, "row '%s' field '%% of dgemm peak'" % label,
                    t.cell(label, "% of dgemm peak", prefix=True).replace("%", ""))
        ratio = number(s, "row '%s' field 'vs scikit-learn'" % label,
                       t.cell(label, "vs scikit-learn", prefix=True).rstrip("x"))
        O.m("Lloyd%sSec" % name, sec, s)
        O.m("Lloyd%sGflops" % name, gf, s)
        O.m("Lloyd%sPeakPct" % name, pk, s)
        O.m("Lloyd%sRatio" % name, ratio, s)
        body.append("%s & %s & %s & %s\\,\\%% & %s$\\times$ \\\\" % (
            tex_escape(r[0]), sec, gf, pk, ratio))
    O.tables["tab-lloyd.tex"] = body
    peak, floor = f.search(ws(r"dgemm peak on [0-9]+ threads \(numpy, [0-9^]+\): ([0-9.]+) "
                              r"GFLOP/s; floor for exact float64 Lloyd: ([0-9.]+) s"),
                           "dgemm peak line")
    O.m("LloydDgemmPeak", peak, s)
    O.m("LloydFloor", floor, s)
    (core,) = f.search(r"OpenBLAS core used by numpy: ([A-Za-z0-9]+)", "OpenBLAS core")
    O.m("LloydOpenblasCore", core, s)
    O.ms(("LloydRssA", "LloydRssB", "LloydShard", "LloydOverhead", "LloydMemBudget"), f.search(ws(
        r"Peak resident memory per rank, avx512 \([0-9]+ iterations\): ([0-9]+) and ([0-9]+) "
        r"MiB; the shard of the data is ([0-9]+) MiB per rank, so the overhead is ([0-9]+) MiB "
        r"\(budget ([0-9]+) MiB\)"), "peak memory of the avx512 runs"), s)
    for name, kern in (("Avx", "avx512"), ("AvxTwo", "avx2")):
        tgt, met = f.search(ws(r"Target: adkit's %s kernel <= ([0-9.]+)x scikit-learn's seconds "
                               r"per iteration: (met|not met)") % kern, "%s target" % kern)
        O.m("Lloyd%sTarget" % name, tgt, s)
        O.m("Lloyd%sTargetMet" % name, met, s)
    (load,) = f.search(r"Load average at start: ([0-9.]+)", "load average")
    O.m("LloydLoad", load, s)


def kmeans_fit(R, O):
    f = R.md("bench-kmeans-fit")
    s = f.name
    O.m("FitDate", f.date, s)
    (reps,) = f.search(r"\(REPS=([0-9]+)", "REPS")
    (noise,) = f.search(ws(r"treat differences under ~([0-9]+) % as noise"), "noise level")
    O.m("FitNoise", noise, s)
    O.m("FitReps", reps, s)
    alg, kern, _, ratio, tgt, status = f.search(ws(
        r"adkit's best is ([A-Za-z-]+(?: \([a-z]+\))?) with the ([A-Za-z0-9-]+) kernel, ([0-9.]+) s = "
        r"\*\*([0-9.]+)x \(target ([0-9.]+)x: (not met|met)\)"), "summary: adkit's best fit")
    O.m("FitTarget", tgt, s)
    O.m("FitTargetStatus", status, s)
    O.m("FitBestAlg", tex_escape(alg), s)
    O.m("FitBestKernel", tex_escape(kern), s)
    O.m("FitBestRatio", ratio, s)
    ta = f.table("side", after=r"^### \(a\)")
    key = ("adkit, 2 ranks", alg.lower(), kern.lower().replace("-", ""))
    O.m("FitBestSec", ta.num(key, "fit s", cols=(0, 1, 2)), s)
    O.m("FitBestSkipped", "%.0f" % (100 * float(ta.num(key, "skipped", cols=(0, 1, 2)))), s)
    n, d, k = f.search(r"### \(a\) blobs ([0-9,]+) x ([0-9]+), K = ([0-9]+)", "case (a) size")
    O.m("FitAN", group(n.replace(",", "")), s)
    O.m("FitAD", d, s)
    O.m("FitAK", k, s)
    O.m("FitSkElkan", ta.num(("scikit-learn, 2 threads", "elkan"), "fit s", cols=(0, 1)), s)
    O.m("FitSkLloyd", ta.num(("scikit-learn, 2 threads", "lloyd"), "fit s", cols=(0, 1)), s)
    O.m("FitIters", ta.num(("scikit-learn, 2 threads", "elkan"), "iterations", cols=(0, 1)), s)
    body = []
    for r in ta.rows:
        key = (r[0], r[1], r[2])
        cells = [tex_escape(c) if c != "-" else "--" for c in (r[0], r[1], r[2])]
        for c in ("fit s", "iterations"):
            cells.append(ta.num(key, c, cols=(0, 1, 2)))
        sk = ta.cell(key, "skipped", cols=(0, 1, 2))
        if sk == "-":
            cells.append("--")
        else:
            cells.append("%.1f\\,\\%%" % (100 * float(number(s, "field 'skipped'", sk))))
        bits = ta.cell(key, "bits", cols=(0, 1, 2))
        cells.append("--" if bits == "-" else tex_escape(bits))
        cells.append(number(s, "field 'vs scikit-learn best'",
                            ta.cell(key, "vs scikit-learn best", cols=(0, 1, 2)).rstrip("x"))
                     + "$\\times$")
        body.append(" & ".join(cells) + " \\\\")
    O.tables["tab-fit.tex"] = body
    for alg, kern, name in (("lloyd", "avx512", "LloydAvx"), ("hamerly", "avx512", "HamerlyAvx"),
                            ("yinyang", "avx512", "YinyangAvx"), ("lloyd", "blas", "LloydBlas"),
                            ("hamerly", "blas", "HamerlyBlas"), ("lloyd", "avx2", "LloydAvxTwo"),
                            ("hamerly", "avx2", "HamerlyAvxTwo")):
        key = ("adkit, 2 ranks", alg, kern)
        O.m("Fit%s" % name, ta.num(key, "fit s", cols=(0, 1, 2)), s)
        O.m("Fit%sRatio" % name, number(s, "field 'vs scikit-learn best'", ta.cell(
            key, "vs scikit-learn best", cols=(0, 1, 2)).rstrip("x")), s)
        O.m("Fit%sVsLloyd" % name, number(s, "field 'vs lloyd'", ta.cell(
            key, "vs lloyd", cols=(0, 1, 2)).rstrip("x")), s)
        skp = ta.num(key, "skipped", cols=(0, 1, 2))
        O.m("Fit%sSkipped" % name, "%.0f" % (100 * float(skp)), s)
    tb = f.table("side", after=r"^### \(b\)")
    n, d, k = f.search(r"### \(b\) blobs ([0-9,]+) x ([0-9]+), K = ([0-9]+)", "case (b) size")
    O.m("FitBD", d, s)
    O.m("FitBK", k, s)
    O.m("FitBSkLloyd", tb.num(("scikit-learn, 2 threads", "lloyd"), "fit s", cols=(0, 1)), s)
    key = ("adkit, 2 ranks", "lloyd", "avx512")
    O.m("FitBLloydAvx", tb.num(key, "fit s", cols=(0, 1, 2)), s)
    O.m("FitBLloydAvxRatio", number(s, "field 'vs scikit-learn best'", tb.cell(
        key, "vs scikit-learn best", cols=(0, 1, 2)).rstrip("x")), s)
    key = ("adkit, 2 ranks", "hamerly", "avx512")
    O.m("FitBHamerlyVsLloyd", number(s, "field 'vs lloyd'", tb.cell(
        key, "vs lloyd", cols=(0, 1, 2)).rstrip("x")), s)
    tc = f.table("side", after=r"^### \(c\) digits [0-9,]+ x [0-9]+, K = 8$")
    key = ("adkit, 2 ranks", "lloyd", "avx512")
    O.m("FitCFit", tc.num(key, "fit s", cols=(0, 1, 2)), s)
    O.m("FitCWhole", tc.num(key, "whole s", cols=(0, 1, 2)), s)
    O.m("FitCSkElkan", tc.num(("scikit-learn, 2 threads", "elkan"), "fit s", cols=(0, 1)), s)


def tsne(R, O):
    f = R.md("bench-tsne")
    s = f.name
    O.m("TsneDate", f.date, s)
    # the digits case: the last table of that form in the file is the latest run
    t = f.table("configuration", last=True, with_row="adkit-tsne, 2 rank(s)")
    where = "%s, table at line %d" % (s, t.line)

    def first(key, col):
        c = t.cell(key, col)
        return number(where, "row '%s' field '%s'" % (key, col), c.split()[0])

    O.m("TsneDigitsAdkWall", first("adkit-tsne, 2 rank(s)", "wall s, median (min)"), s)
    O.m("TsneDigitsAdkOneWall", first("adkit-tsne, 1 rank(s)", "wall s, median (min)"), s)
    O.m("TsneDigitsSkWall", sig(where, "scikit-learn wall", first(
        "scikit-learn TSNE, 2 thread(s)", "wall s, median (min)"), 2), s)
    O.m("TsneDigitsSkOneWall", sig(where, "scikit-learn 1-thread wall", first(
        "scikit-learn TSNE, 1 thread(s)", "wall s, median (min)"), 2), s)
    O.m("TsneDigitsAdkKL", sig(where, "adkit KL", t.cell("adkit-tsne, 2 rank(s)", "KL"), 3), s)
    O.m("TsneDigitsSkKL", sig(where, "scikit-learn KL",
                              t.cell("scikit-learn TSNE, 2 thread(s)", "KL"), 3), s)
    O.m("TsneDigitsOpt", t.num("adkit-tsne, 2 rank(s)", "optimisation s"), s)
    ratio, tgt = f.search(ws(r"time ratio adkit \(2 ranks\) / scikit-learn \(2 threads\): "
                             r"([0-9.]+)x on medians, [0-9.]+x on minima \(target <= ([0-9.]+)x\)"),
                          "digits time ratio", last=True)
    O.m("TsneDigitsRatio", ratio, s)
    O.m("TsneDigitsTarget", tgt, s)
    (klr,) = f.search(r"KL ratio adkit / scikit-learn: ([0-9.]+)", "digits KL ratio", last=True)
    O.m("TsneDigitsKLRatio", klr, s)
    # the large case: rows from whichever run recorded them
    n, d = f.search(r"Synthetic blobs \(([0-9]+) x ([0-9]+), 10 centres\)", "large case size",
                    last=True)
    O.m("TsneLargeN", group(n), s)
    O.m("TsneLargeD", d, s)
    large = [x for x in f.tables() if x.header[0].strip() == "program"]

    def ran(row, col):
        for x in reversed(large):
            for r in x.rows:
                if r[0].strip() == row and not r[1].startswith("not run"):
                    return x.cell(row, col)
        fail(s, "no large-case table with a recorded row '%s'" % row)

    w = "%s, large case" % s
    O.m("TsneLargeAdkWall", sig(w, "adkit-tsne wall", ran("adkit-tsne, 2 ranks",
                                                           "wall s (whole process)"), 0), s)
    O.m("TsneLargeAdkKnn", sig(w, "adkit-tsne kNN s", ran("adkit-tsne, 2 ranks", "kNN s"), 0), s)
    O.m("TsneLargeAdkOpt", sig(w, "adkit-tsne optimisation s",
                               ran("adkit-tsne, 2 ranks", "optimisation s"), 0), s)
    O.m("TsneLargeAdkKL", sig(w, "adkit-tsne KL", ran("adkit-tsne, 2 ranks", "KL"), 3), s)
    rss = ran("adkit-tsne, 2 ranks", "peak RSS")
    m = re.match(r"([0-9]+) / ([0-9]+) MiB per rank", rss)
    if not m:
        fail(w, "adkit-tsne peak RSS '%s' not 'A / B MiB per rank'" % rss)
    O.m("TsneLargeAdkRss", m.group(1), s)
    skw = ran("scikit-learn TSNE, 2 threads", "wall s (whole process)")
    O.m("TsneLargeSkWall", sig(w, "scikit-learn TSNE wall", skw.split()[0], 0), s)
    O.m("TsneLargeSkKL", sig(w, "scikit-learn KL", ran("scikit-learn TSNE, 2 threads", "KL"), 3), s)
    rss = ran("scikit-learn TSNE, 2 threads", "peak RSS")
    O.m("TsneLargeSkRss", number(w, "scikit-learn peak RSS", rss.split()[0]), s)
    r, klr = f.search(ws(r"([0-9.]+)x the time at ([0-9.]+)x the KL"), "large-case ratios")
    O.m("TsneLargeRatio", r, s)
    O.m("TsneLargeKLRatio", klr, s)
    O.m("KnnLargeAdk", sig(w, "adkit-knn wall", ran("adkit-knn --k 91, 2 ranks",
                                                    "wall s (whole process)"), 0), s)
    sk = ran("scikit-learn NearestNeighbors(91), 2 threads", "kNN s")
    O.m("KnnLargeSk", sig(w, "NearestNeighbors kNN s", sk.split()[0], 0), s)
    (kr,) = f.search(ws(r"MiB: adkit ([0-9.]+)x the time"), "kNN ratio (NearestNeighbors beside adkit-knn)")
    O.m("KnnLargeRatio", kr, s)


def digits(R, O):
    path = R.fixed("digits/REPORT.md")
    f = Md(path, R.show(path), "")
    s = f.name
    (when,) = f.search(r"Written ([0-9-]{10})", "report date")
    O.m("DigitsDate", when, s)
    (ranks,) = f.search(r"adkit on \*\*([0-9]+) MPI ranks\*\*", "rank count")
    O.m("DigitsRanks", ranks, s)
    (nseeds,) = f.search(r"seeds 0-9 \(([0-9]+) seeds\)", "seed count")
    O.m("DigitsSeeds", nseeds, s)
    (nanom,) = f.search(r"the digits 0 and 1, ([0-9]+) rows", "anomaly count")
    O.m("DigitsAnomalies", nanom, s)
    t = f.table("experiment", with_row="1 blobs (2-D)")
    body = []
    for r in t.rows:
        if len(r) != 8:
            fail(s, "table at line %d: row '%s' has %d cells, expected 8" % (t.line, r[0], len(r)))
        body.append(" & ".join(tex_escape(c) for c in r) + " \\\\")
    O.tables["tab-digits.tex"] = body
    key = ("3 digits t-SNE 2-D", "k-means K=8, per-cluster 99th pct")
    O.m("DigitsTsneFNAdk", number(s, "t-SNE adkit FN",
                                  t.cell(key, "adkit FN", cols=(0, 1)).split()[0]), s)
    O.m("DigitsTsneFNSk", number(s, "t-SNE scikit-learn FN",
                                 t.cell(key, "scikit-learn FN", cols=(0, 1)).split()[0]), s)
    key = ("2 digits 64-D", "k-means K=8, per-cluster 99th pct")
    O.m("DigitsSixtyFourFN", number(s, "64-D adkit FN",
                                    t.cell(key, "adkit FN", cols=(0, 1)).split()[0]), s)
    m = re.match(r"([0-9.]+) \[([0-9.]+), ([0-9.]+)\]",
                 t.cell(("3 digits t-SNE 2-D", "k-means K=8, per-cluster 99th pct"), "adkit FN",
                        cols=(0, 1)))
    if not m:
        fail(s, "t-SNE row: adkit FN not 'median [min, max]'")
    O.m("DigitsTsneFNAdkMin", m.group(2), s)
    O.m("DigitsTsneFNAdkMax", m.group(3), s)
    fewer, more, equal, p, rp = f.search(ws(
        r"3 digits t-SNE 2-D: adkit's median FP [0-9.]+ / FN [0-9.]+ vs scikit-learn's [0-9.]+ / "
        r"[0-9.]+: [A-Za-z ]+ \(seed by seed, FN: adkit fewer in ([0-9]+), more in ([0-9]+), "
        r"equal in ([0-9]+); two-sided sign test p = ([0-9.]+); unpaired, FN: rank-sum p = "
        r"([0-9.]+)\)"), "t-SNE sign and rank-sum tests")
    O.m("DigitsTsneFewer", fewer, s)
    O.m("DigitsTsneMore", more, s)
    O.m("DigitsTsneSignP", p, s)
    O.m("DigitsTsneRankP", rp, s)
    # the 50-seed supplement: the same acceptance line, and where the difference lies
    p50 = R.fixed("digits-seeds50/REPORT.md")
    f50 = Md(p50, R.show(p50), "")
    O.ms(("DigitsFiftySeeds",), f50.search(r"seeds 0-[0-9]+ \(([0-9]+) seeds\)", "seed count"),
         f50.name)
    O.ms(("DigitsFiftyFNAdk", "DigitsFiftyFNSk", "DigitsFiftyRankP"), f50.search(ws(
        r"3 digits t-SNE 2-D: adkit's median FP [0-9.]+ / FN ([0-9.]+) vs scikit-learn's [0-9.]+ / "
        r"([0-9.]+): .*?rank-sum p = ([0-9.]+)\)"), "50-seed t-SNE line"), f50.name)
    O.ms(("DigitsFiftyKLAdk", "DigitsFiftyKLSk"), f50.search(ws(
        r"\| t-SNE KL divergence \| ([0-9.]+) \[[0-9., ]+\] \| ([0-9.]+) \["), "50-seed KL"),
        f50.name)
    n50 = R.fixed("digits-seeds50/NOTES.md")
    nf = Md(n50, R.show(n50), "")
    O.ms(("DigitsFiftyKmSame", "DigitsFiftyKmOf"), nf.search(
        r"k-means FN equal in ([0-9]+) of ([0-9]+) seeds", "k-means parity"), nf.name)
    q = f.table("experiment", with_row="1 blobs")
    body = []
    for r in q.rows:
        body.append(" & ".join(tex_escape(c) for c in r) + " \\\\")
    O.tables["tab-quality.tex"] = body
    k = f.table("quantity")
    body = [" & ".join(tex_escape(c) for c in r) + " \\\\" for r in k.rows]
    O.tables["tab-choosek.tex"] = body
    O.m("DigitsElbowAdk", k.num("elbow of the normal digits, K = 2..20 (Kneedle), seed 0", "adkit"),
        s)
    O.m("DigitsElbowSk", k.num("elbow of the normal digits, K = 2..20 (Kneedle), seed 0",
                               "scikit-learn"), s)
    st = f.table("step")
    O.m("DigitsAdkSeconds", st.num("adkit, everything above", "adkit (2 ranks)"), s)
    O.m("DigitsSkSeconds", st.num("scikit-learn side, everything", "scikit-learn"), s)
    key = "3 t-SNE embedding, k-means, threshold, score"
    O.m("DigitsTsneStepAdk", st.num(key, "adkit (2 ranks)"), s)
    O.m("DigitsTsneStepSk", st.num(key, "scikit-learn"), s)
    (cpu,) = f.search(r"\n- CPU: ([^\n]*)", "CPU line")
    (ncpu,) = f.search(r"\n- CPUs: ([0-9]+)", "CPUs line")
    O.m("DigitsMachine", "%s, %s CPUs" % (tex_escape(cpu), ncpu), s)
    for name in ("blobs", "centroids", "tsne_digits", "tsne_circles", "gauss_f1", "elbow",
                 "quality"):
        p = R.fixed("digits/%s.png" % name)
        O.m("Fig" + "".join(w.capitalize() for w in name.replace("f1", "fone").split("_")),
            figpath(p), s)


def figpath(p):
    """A figure's path for \\includegraphics, relative to paper/ (the build runs there)."""
    rel = os.path.relpath(p, PAPER_DIR)
    rel = rel.replace(os.sep, "/")
    if re.search(r"[^A-Za-z0-9_./-]", rel):
        raise Missing("%s: a figure path LaTeX cannot take" % rel)
    return rel


def scaling(R, O):
    notes = R.md("scaling/NOTES")
    model = R.md("scaling/model")
    spath, sdate = R.newest("scaling/strong", "csv")
    wpath, wdate = R.newest("scaling/weak", "csv")
    s = notes.name
    O.m("ScaleDate", notes.date, s)
    rows = read_csv(R.show(spath), spath)
    cores = set()
    for path in glob.glob(os.path.join(R.root, "scaling", "*.csv")):
        for r in read_csv(R.show(path), path):
            cores.add(int(number(R.show(path), "column 'cores'", r.get("cores", ""))))
    O.m("ScaleMaxCores", str(max(cores)), spath)
    r1 = csv_row(R.show(spath), rows, mode="strong", ranks="1", phase="kmeans")
    O.m("ScaleMachine", tex_escape(r1["machine"]), spath)
    O.m("ScaleN", group(number(spath, "n", r1["n"])), spath)
    O.m("ScaleD", r1["d"], spath)
    O.m("ScaleK", r1["k"], spath)
    O.m("ScaleReps", r1["reps"], spath)
    rt = csv_row(R.show(spath), rows, mode="strong", ranks="1", phase="tsne")
    O.m("ScaleTsneN", group(number(spath, "n", rt["n"])), spath)
    ranks = sorted({int(r["ranks"]) for r in rows})
    O.m("ScaleRanks", "--".join(str(x) for x in ranks) if len(ranks) > 1 else str(ranks[0]),
        spath)
    t = model.table("phase", after=r"^## Measured input")
    body = []
    names = {"kmeans": "k-means (s per iteration)", "threshold": "thresholds (s per run)",
             "f1": "F1 sweep (s per run)", "tsne": "t-SNE (s per iteration)"}
    for ph in ("kmeans", "threshold", "f1", "tsne"):
        c1 = t.num(ph, "1 rank s")
        c2 = t.num(ph, "2 ranks s")
        eff = number(model.name, "phase %s measured eff." % ph,
                     t.cell(ph, "measured eff.").replace("%", ""))
        meff = number(model.name, "phase %s model eff." % ph,
                      t.cell(ph, "model eff.").replace("%", ""))
        by = t.cell(ph, "bytes/rank measured")
        body.append("%s & %s & %s & %s\\,\\%% & %s\\,\\%% & %s \\\\" % (
            names[ph], c1, c2, eff, meff, tex_escape(by)))
        cap = {"kmeans": "Kmeans", "threshold": "Threshold", "f1": "Fone", "tsne": "Tsne"}[ph]
        O.m("Strong%sOne" % cap, c1, model.name)
        O.m("Strong%sTwo" % cap, c2, model.name)
        O.m("Strong%sEff" % cap, eff, model.name)
    O.tables["tab-strong.tex"] = body
    O.m("StrongKmeansBytes", tex_escape(t.cell("kmeans", "bytes/rank measured")), model.name)
    (tgt,) = notes.search(ws(r"at least ([0-9]+) % from 1 to 2 ranks"), "90 % target")
    O.m("ScaleTarget", tgt, s)
    # the k-means efficiency of each repetition (this machine's spread)
    rt = notes.table("repetition")
    effs, ones, waits = [], [], []
    for r in rt.rows:
        key = r[0].strip()
        effs.append(float(number(s, "repetition %s efficiency" % key,
                                 rt.cell(key, "efficiency").replace("%", "").strip())))
        ones.append(float(rt.num(key, "1 rank s")))
        waits.append(float(rt.num(key, "2 ranks: wait at the allreduce, s")))
    if len(effs) < 2:
        fail(s, "table at line %d: fewer than 2 repetitions" % rt.line)
    eff_sorted = sorted(effs)
    mid = len(eff_sorted) // 2
    med = eff_sorted[mid] if len(eff_sorted) % 2 else (eff_sorted[mid - 1] + eff_sorted[mid]) / 2
    O.m("ScaleRepCount", str(len(effs)), s)
    O.m("ScaleRepMin", "%.1f" % min(effs), s)
    O.m("ScaleRepMax", "%.1f" % max(effs), s)
    O.m("ScaleRepMedian", "%.1f" % med, s)
    O.m("ScaleOneMin", "%.3f" % min(ones), s)
    O.m("ScaleOneMax", "%.3f" % max(ones), s)
    O.m("ScaleWaitMin", "%.3f" % min(waits), s)
    O.m("ScaleWaitMax", "%.3f" % max(waits), s)
    km1, km2, kme, the, f1e, tse = notes.search(ws(
        r"Weak efficiency T\(1, n\) / T\(2, 2n\): k-means ([0-9.]+) / ([0-9.]+) s per iteration "
        r"\(([0-9]+) %.*?thresholds ([0-9]+) %, F1 sweep ([0-9]+) %.*?t-SNE ([0-9]+) %"),
        "weak-scaling efficiencies")
    O.m("WeakKmeansOne", km1, s)
    O.m("WeakKmeansTwo", km2, s)
    O.m("WeakKmeansEff", kme, s)
    O.m("WeakThresholdEff", the, s)
    O.m("WeakFoneEff", f1e, s)
    O.m("WeakTsneEff", tse, s)
    wrows = read_csv(R.show(wpath), wpath)
    w1 = csv_row(R.show(wpath), wrows, mode="weak", ranks="1", phase="kmeans")
    O.m("WeakNPerRank", group(number(wpath, "n", w1["n"])), wpath)
    # the model
    s = model.name
    n, d, k, pmax = model.search(r"# Scaling model: N = ([0-9.e+]+), D = ([0-9]+), K = ([0-9]+), "
                                 r"P = 1 \.\. ([0-9]+)", "model heading")
    O.m("ModelN", sci(s, "model N", n), s)
    O.m("ModelD", d, s)
    O.m("ModelK", k, s)
    O.m("ModelPmax", group(pmax), s)
    O.ms(("ModelAlpha", "ModelBandwidth", "ModelNodeAlpha", "ModelNodeBandwidth",
          "ModelRanksPerNode"), model.search(ws(
              r"between nodes: latency alpha = ([0-9.]+) us, link bandwidth ([0-9.]+) GB/s.*?"
              r"within a node: latency ([0-9.]+) us, copy bandwidth ([0-9.]+) GB/s per rank.*?"
              r"([0-9]+) ranks per node"), "model parameters"), s)
    (mem,) = model.search(r"memory ([0-9]+) GB per rank", "model memory per rank")
    O.m("ModelMemPerRank", mem, s)
    mt = model.table("phase", after=r"^## Where each phase stops scaling")
    body = []
    names = {"kmeans": "k-means iteration", "threshold": "thresholds", "f1": "F1 sweep",
             "tsne": "t-SNE iteration", "tsne_knn": "t-SNE's exact kNN"}
    for ph in ("kmeans", "threshold", "f1", "tsne", "tsne_knn"):
        cells = [names[ph]]
        for col in ("strong: efficiency at P = %s" % pmax, "strong: below 50 % at P",
                    "weak: efficiency at P = %s" % pmax, "weak: below 50 % at P"):
            v = mt.cell(ph, col)
            if v.startswith("beyond: "):
                v = "(%s)" % v[len("beyond: "):]
            v = v.replace("none by P = 10^12", "none")
            v = re.sub(r"([0-9]{5,})", lambda mm: group(mm.group(1)), v)
            cells.append(v.replace(" %", "%").replace("%", "\\,\\%"))
        body.append(" & ".join(cells) + " \\\\")
        cap = {"kmeans": "Kmeans", "threshold": "Threshold", "f1": "Fone", "tsne": "Tsne",
               "tsne_knn": "TsneKnn"}[ph]
        O.m("Model%sEff" % cap, number(s, "phase %s strong efficiency" % ph, mt.cell(
            ph, "strong: efficiency at P = %s" % pmax).replace("%", "")), s)
    O.m("ModelTsneBelowHalf", number(s, "tsne strong below 50 %", mt.cell(
        "tsne", "strong: below 50 % at P")), s)
    O.m("ModelTsneWhy", tex_escape(mt.cell("tsne", "why")), s)
    (rep,) = model.search(ws(r"t-SNE's share that every rank repeats[^:]*: s = ([0-9.]+) of its "
                             r"1-rank time"), "t-SNE repeated share")
    O.m("ModelTsneRepeated", rep, s)
    O.tables["tab-model.tex"] = body
    (kbytes,) = model.search(r"one allreduce of the adk_repro accumulator, [^=]*= ([0-9.]+) kB",
                             "k-means allreduce bytes")
    O.m("ModelKmeansKB", kbytes, s)
    perrow, fitn = model.search(ws(
        r"\(160 B each, 1 per row assumed: ([0-9]+) B per row\).*?the replicated part alone fits "
        r"up to N = ([0-9.e+]+)"), "t-SNE memory")
    O.m("ModelTsneBytesPerRow", perrow, s)
    O.m("ModelTsneMaxN", sci(s, "t-SNE max N", fitn), s)
    (comm,) = model.search(ws(r"Communication alone, at N = [0-9.e+]+ and P = [0-9]+: the "
                              r"repulsion sum ([0-9.]+) s"), "t-SNE repulsion seconds")
    O.m("ModelTsneRepulsion", comm, s)
    for name, p in (("FigStrong", spath), ("FigWeak", wpath)):
        png = p[:-4] + ".png"
        if not os.path.isfile(png):
            fail(R.show(png), "figure missing (drawn by experiments/scaling/plot.py)")
        O.m(name, figpath(png), s)


def read_csv(name, path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        fail(name, "no rows")
    return rows


def csv_row(name, rows, **want):
    for r in rows:
        if all(r.get(k) == v for k, v in want.items()):
            return r
    fail(name, "no row with %s" % ", ".join("%s=%s" % kv for kv in want.items()))


def others(R, O):
    f = R.md("bench-stream")
    s = f.name
    O.m("StreamDate", f.date, s)
    t = f.table("iterations timed")
    r = t.rows[0] if t.rows else fail(s, "stream table empty")
    O.m("StreamSecIter", sig(s, "seconds per iteration", r[t.col("seconds per iteration")], 1), s)
    O.m("StreamRate", number(s, "effective read", r[t.col("effective read")].replace(" GB/s", "")),
        s)
    O.m("StreamRatio", number(s, "ratio to the disk",
                              r[t.col("ratio to the disk")].replace("*", "").replace("%", "")), s)
    n, d = f.search(r"`adkit-kmeans --stream`, ([0-9]+) x ([0-9]+) on", "stream size")
    O.m("StreamN", group(n), s)
    O.m("StreamD", d, s)
    (gb,) = f.search(r"([0-9.]+) GB\)", "file size")
    O.m("StreamGB", gb, s)
    (disk,) = f.search(r"disk sequential read: \*\*([0-9.]+) GB/s\*\*", "disk read speed")
    O.m("StreamDisk", disk, s)
    (tgt,) = f.search(ws(r"target at least ([0-9]+) %"), "stream target")
    O.m("StreamTarget", tgt, s)
    (rss,) = f.search(ws(r"Peak memory ([0-9]+) MiB per rank"), "stream peak memory")
    O.m("StreamRss", rss, s)
    (mem,) = f.search(r"([0-9.]+) GiB memory", "machine memory")
    O.m("StreamMachineMem", mem, s)

    f = R.md("bench-percentile")
    s = f.name
    t = f.table("side")
    key = ("adkit-threshold", "2", "8")
    O.m("PctRounds", t.num(key, "allreduce rounds", cols=(0, 1, 2)), s)
    O.m("PctBytes", group(t.num(key, "selection bytes per rank", cols=(0, 1, 2))), s)
    O.m("PctAdk", t.num(key, "seconds (best of 3)", cols=(0, 1, 2)), s)
    O.m("PctEqual", tex_escape(t.cell(key, "equal to numpy", cols=(0, 1, 2))), s)
    O.m("PctNumpy", t.num("numpy, mask per cluster", "seconds (best of 3)"), s)
    n, k = f.search(r"data: N = ([0-9]+) distances .*?, K = ([0-9]+) clusters", "percentile size")
    O.m("PctN", group(n), s)
    O.m("PctK", k, s)

    f = R.md("bench-silhouette")
    s = f.name
    t = f.table("")
    O.m("SilAdk", t.num("adkit, exact ring pass, 2 ranks", "wall (s)"), s)
    O.m("SilSk", t.num("scikit-learn silhouette_score", "wall (s)"), s)
    (diff,) = f.search(r"Relative difference of the two scores: ([0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?)", "silhouette diff")
    O.m("SilDiff", diff, s)
    n, d = f.search(r"vs scikit-learn, ([0-9,]+) x ([0-9]+)", "silhouette size")
    O.m("SilN", group(n.replace(",", "")), s)
    O.m("SilD", d, s)

    f = R.md("bench-gauss-select")
    s = f.name
    t = f.table("what")
    ph = t.cell("adkit-gauss select: phases, MAX over ranks", "seconds")
    m = re.search(r"sweep ([0-9.]+) s", ph)
    if not m:
        fail(s, "row 'adkit-gauss select: phases': no 'sweep N s' in '%s'" % ph)
    O.m("SweepAdk", m.group(1), s)
    O.m("SweepNumpy", t.num("numpy vectorised sweep", "seconds"), s)
    O.m("SweepRows", group(t.num("numpy vectorised sweep", "rows")), s)
    (loop,) = f.search(r"reference loop extrapolated to [0-9]+ rows \(linear in rows\): ([0-9.]+) s",
                       "extrapolated loop")
    O.m("SweepLoop", loop, s)

    f = R.md("equivalence")
    s = f.name
    n, same, diff = f.search(r"\*\*Result: ([0-9]+) scenarios, ([0-9]+) same, ([0-9]+) different",
                             "equivalence result")
    O.m("EquivScenarios", n, s)
    O.m("EquivSame", same, s)
    O.m("EquivDiff", diff, s)

    f = R.md("fuzz")
    s = f.name
    execs, crashes = f.search(r"# Fuzzing the parsers: ([0-9.]+) million executions, ([0-9]+) "
                              r"open crashes", "fuzz result")
    O.m("FuzzMillions", execs, s)
    O.m("FuzzOpen", crashes, s)

    f = R.md("allocfail-full")
    s = f.name
    (n,) = f.search(r"## Result: ([0-9,]+) failed allocations, every one ended cleanly",
                    "allocation sweep result")
    O.m("AllocFailures", group(n.replace(",", "")), s)

    f = R.md("sanitizer-acceptance")
    s = f.name
    t = f.table("case")
    planted = [r for r in t.rows if r[0] != "pristine"]
    for r in planted:
        if "expected: fails" not in r[2] or not r[2].startswith("exit") or r[2].startswith("exit 0"):
            fail(s, "row '%s': the planted bug did not fail the sanitizer pass" % r[0])
    O.m("SanPlanted", str(len(planted)), s)

    f = R.md("gen-scale")
    s = f.name
    (rss,) = f.search(ws(r"rank\) is ([0-9]+) MiB for both"), "gen peak memory")
    O.m("GenRss", rss, s)


def write(out_dir, O, used):
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    lines = ["% Generated by paper/generate.py from experiments/results/: do not edit.",
             "% Sources read:"]
    for p in sorted(set(used)):
        lines.append("%%   %s" % os.path.relpath(p, PAPER_DIR).replace(os.sep, "/"))
    for name, value, src in O.macros:
        lines.append("\\newcommand{\\%s}{%s}" % (name, value))
    vals = dict((n, v) for n, v, _ in O.macros)
    # conditions the text follows (LaTeX \if...): a 16-core run recorded, the per-fit target met
    sixteen = int(vals["ScaleMaxCores"]) >= 16
    lines.append("\\newif\\ifSixteenCoreRun")
    lines.append("\\SixteenCoreRun%s" % ("true" if sixteen else "false"))
    lines.append("\\newif\\ifFitTargetMet")
    lines.append("\\FitTargetMet%s" % ("true" if vals["FitTargetStatus"] == "met" else "false"))
    files["results.tex"] = "\n".join(lines) + "\n"
    for name, body in O.tables.items():
        files[name] = "% Generated by paper/generate.py: do not edit.\n" + "\n".join(body) + "\n"
    # write everything to temporaries first, then rename: a failure leaves the old files
    tmp = []
    for name, text in files.items():
        fd, t = tempfile.mkstemp(prefix=".%s." % name, dir=out_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        tmp.append((t, os.path.join(out_dir, name)))
    for t, final in tmp:
        os.replace(t, final)


PAPER_DIR = os.path.dirname(os.path.abspath(__file__))


def main():
    global PAPER_DIR
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", default=os.path.join(PAPER_DIR, "..", "experiments", "results"))
    ap.add_argument("--out", default=os.path.join(PAPER_DIR, "generated"))
    ap.add_argument("--paper-dir", default=PAPER_DIR,
                    help="directory figure paths are made relative to (where LaTeX runs)")
    a = ap.parse_args()
    PAPER_DIR = os.path.abspath(a.paper_dir)
    if not os.path.isdir(a.results):
        sys.stderr.write("%s: error: %s: results directory missing\n" % (PROG, a.results))
        return 1
    R = Results(os.path.normpath(a.results))
    O = Out()
    try:
        for part in (lloyd, kmeans_fit, tsne, digits, scaling, others):
            part(R, O)
    except Missing as e:
        sys.stderr.write("%s: error: %s\n" % (PROG, e))
        sys.stderr.write("%s: nothing written; the paper needs this result (rerun the experiment "
                         "that records it)\n" % PROG)
        return 1
    write(a.out, O, R.used)
    print("%s: %d macros, %d tables from %d result files -> %s" % (
        PROG, len(O.macros), len(O.tables), len(set(R.used)), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
