#!/bin/sh
# Benchmark of adkit-gauss select: the F1 sweep over N validation rows on NP ranks, beside the
# recipe's Python loop (on a SAMPLE of the rows, which it can finish) and a vectorised numpy
# version of the same rule, on the same machine, one run each. Prints Markdown on stdout: machine,
# commands, and per program the wall seconds (adkit also its own read/density/sweep split, MAX over
# ranks) and the CPU seconds (user + system, which depend less on other load than the wall time).
#
#   experiments/bench-gauss-select/run.sh BUILD_DIR [N]
#   env: NP (2), D (4), SAMPLE (1000000), OUTDIR (BUILD_DIR/bench-gauss-select: N x D x 8 bytes)
#
# Example (the recorded run):
#   experiments/bench-gauss-select/run.sh build-gauss 10000000 \
#       | tee experiments/results/bench-gauss-select-$(date +%F).md
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [N]" >&2
    exit 1
fi
BUILD=$(cd "$1" && pwd)
N=${2:-10000000}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
NP=${NP:-2}
D=${D:-4}
SAMPLE=${SAMPLE:-1000000}
OUTDIR=${OUTDIR:-$BUILD/bench-gauss-select}
G=$BUILD/apps/adkit-gauss
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1

[ -x "$G" ] || { echo "$0: no $G (build first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "$0: needs GNU time (/usr/bin/time)" >&2; exit 1; }
mkdir -p "$OUTDIR"

load() {
    cut -d' ' -f1-3 /proc/loadavg
}

echo "# adkit-gauss select: F1 sweep over $N validation rows"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- commit: $(cd "$SRC" && git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
    "(working tree with the gauss module uncommitted)"
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs" \
    "($(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core)," \
    "$(free -g | awk '/^Mem:/{print $2}') GiB memory, $(uname -sr)"
echo "- data: $N x $D validation rows (float64, ~1% anomalies), model fitted on 200000 rows"
echo "- ranks: $NP (mpiexec), OPENBLAS_NUM_THREADS=1; Python: numpy $($PY -c 'import numpy; print(numpy.__version__)'), one process"
echo "- load average (1/5/15 min) before: $(load)"
echo

"$PY" "$HERE/make_data.py" "$OUTDIR" "$N" "$D" >/dev/null
mpiexec -n "$NP" "$G" fit --quiet --force "$OUTDIR/train.h5" "$OUTDIR/model.h5"

sel="mpiexec -n $NP $G select --force --labels $OUTDIR/val.h5:/labels $OUTDIR/model.h5 $OUTDIR/val.h5"
/usr/bin/time -f "%e %U %S" -o "$OUTDIR/time.adk" $sel >"$OUTDIR/adk.out" 2>"$OUTDIR/adk.err"
read -r wall user sys <"$OUTDIR/time.adk"
phases=$(sed -n 's/^select: .*max over ranks: //p' "$OUTDIR/adk.err")
eps=$(sed -n 's/^epsilon \([^ ]*\).*/\1/p' "$OUTDIR/adk.out")
f1=$("$BUILD/tests/tools/adk-h5cmp" dump "$OUTDIR/model.h5" /f1 2>/dev/null || echo '?')

pycmd="$PY $HERE/ref_select.py $OUTDIR/model.h5 $OUTDIR/val.h5 $SAMPLE"
/usr/bin/time -f "%e %U %S" -o "$OUTDIR/time.py" $pycmd >"$OUTDIR/py.out" 2>&1 || true
read -r pwall puser psys <"$OUTDIR/time.py"

echo "## Commands"
echo
echo '```'
echo "$sel"
echo "$pycmd"
echo '```'
echo
echo "## Results (one run each)"
echo
echo "| what | rows | seconds | epsilon | F1 |"
echo "|---|---|---|---|---|"
echo "| adkit-gauss select, $NP ranks: whole program (wall) | $N | $wall | $eps | $f1 |"
echo "| adkit-gauss select: CPU (user + system, all ranks) | $N | $(echo "$user $sys" | awk '{print $1 + $2}') | | |"
echo "| adkit-gauss select: phases, MAX over ranks | $N | $phases | | |"
grep '^|' "$OUTDIR/py.out" || true
echo "| Python script, whole (wall; CPU $(echo "$puser $psys" | awk '{print $1 + $2}')) | | $pwall | | |"
echo
grep '^- ' "$OUTDIR/py.out" || cat "$OUTDIR/py.out"
echo "- load average after: $(load)"
rm -f "$OUTDIR/val.h5" "$OUTDIR/train.h5"
