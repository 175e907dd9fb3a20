#!/bin/sh
# Scale study of adkit-gen blobs: N x D rows generated on NP ranks and streamed to one HDF5 file.
# Reports, per N: wall time of the program (and its generate/write split), the time of the sync
# that follows (page cache written back), the output size, and per rank the peak resident memory
# (GNU time's %M, the VmHWM of the process) and the CPU time (user + system: unlike the wall time,
# it hardly depends on other load on the machine). Prints Markdown on stdout; files are deleted.
#
#   experiments/gen-scale/run.sh BUILD_DIR N [N...]
#   env: NP (2), D (32), K (8), DTYPE (float64), SLAB (65536), SEED (1),
#        OUTDIR (BUILD_DIR/gen-scale: needs N x D x 8 bytes free for float64)
#
# Example (the recorded runs):
#   experiments/gen-scale/run.sh build-gen 10000000 100000000 \
#       | tee experiments/results/gen-scale-$(date +%F).md
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_DIR N [N...]" >&2
    exit 1
fi
BUILD=$(cd "$1" && pwd)
shift
SRC=$(cd "$(dirname "$0")/../.." && pwd)
NP=${NP:-2}
D=${D:-32}
K=${K:-8}
DTYPE=${DTYPE:-float64}
SLAB=${SLAB:-65536}
SEED=${SEED:-1}
OUTDIR=${OUTDIR:-$BUILD/gen-scale}
GEN=$BUILD/apps/adkit-gen
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1

[ -x "$GEN" ] || { echo "$0: no $GEN (build first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "$0: needs GNU time (/usr/bin/time)" >&2; exit 1; }
mkdir -p "$OUTDIR"
out=$OUTDIR/blobs.h5
rss=$OUTDIR/rss
trap 'rm -rf "$out" "$out".tmp-* "$rss"' EXIT

echo "# adkit-gen blobs scale study ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo
dirty=$(cd "$SRC" && git status --porcelain -- src apps 2>/dev/null | wc -l)
echo "- commit: $(cd "$SRC" && git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(
    [ "$dirty" = 0 ] || echo " (plus $dirty uncommitted or untracked files in src/ and apps/)")"
echo "- build: $BUILD (\`$(sed -n 's/^  \$ //p' "$BUILD/config.log" 2>/dev/null | head -n 1)\`)"
echo "- command: \`mpiexec -n $NP adkit-gen blobs --n N --d $D --centers $K --seed $SEED --dtype $DTYPE --slab-rows $SLAB --out $out\`"
echo "- machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB memory, $(uname -sr)"
echo "- load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo '```'
lscpu | head -n 15
df -h "$OUTDIR" | sed 's/^/df: /'
echo '```'
echo
echo "| N | D | dtype | ranks | wall s | generate s | write s | sync s | file GiB | MB/s (incl. sync) | peak RSS per rank (MiB) | CPU s per rank (user+sys) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
rm -f "$OUTDIR/checks.txt"
for n in "$@"; do
    rm -rf "$out" "$rss"
    mkdir -p "$rss"
    sync
    t0=$(date +%s.%N)
    # each rank runs under GNU time, which records that rank's peak resident set size
    if ! mpiexec -n "$NP" sh -c 'exec /usr/bin/time -f "%M %U %S" -o "$0/rank$OMPI_COMM_WORLD_RANK" "$@"' \
        "$rss" "$GEN" blobs --n "$n" --d "$D" --centers "$K" --seed "$SEED" --dtype "$DTYPE" \
        --slab-rows "$SLAB" --out "$out" 2>"$rss/log"; then
        cat "$rss/log" >&2
        exit 1
    fi
    t1=$(date +%s.%N)
    sync
    t2=$(date +%s.%N)
    # the program's own line: "... in W s (generate G s, write I s)"
    gen_s=$(sed -n 's/.*(generate \([0-9.]*\) s, write \([0-9.]*\) s).*/\1/p' "$rss/log")
    io_s=$(sed -n 's/.*(generate \([0-9.]*\) s, write \([0-9.]*\) s).*/\2/p' "$rss/log")
    # streamed-file sanity (reads only /labels and three 100k-row windows): shape, make_blobs'
    # class sizes, no unwritten (all-zero) rows, window means near their centres
    "$PY" - "$out" "$n" "$D" "$K" >>"$OUTDIR/checks.txt" <<'PYEOF'
import sys
import h5py
import numpy as np
path, n, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with h5py.File(path, "r") as f:
    X, C = f["/data"], f["/centers"][...]
    assert X.shape == (n, d) and f["/labels"].shape == (n,) and C.shape == (k, d)
    sizes = np.bincount(f["/labels"][...], minlength=k)
    assert np.array_equal(sizes, [n // k + (c < n % k) for c in range(k)]), sizes
    worst = 0.0
    w = min(100000, n)
    for s in (0, (n - w) // 2, n - w):
        x, y = X[s:s + w].astype(np.float64), f["/labels"][s:s + w]
        assert np.all(np.any(x != 0, axis=1)), "all-zero row (unwritten?) near row %d" % s
        for c in range(k):
            worst = max(worst, np.abs(x[y == c].mean(axis=0) - C[c]).max() * np.sqrt((y == c).sum()))
    assert worst < 6.0, worst
print("N=%d: /data %s, class sizes %d..%d (exact), largest |window mean - centre| = %.2f std errors"
      % (n, X.shape, sizes.min(), sizes.max(), worst))
PYEOF
    bytes=$(stat -c %s "$out")
    peaks=""
    cpus=""
    r=0
    while [ "$r" -lt "$NP" ]; do
        line=$(tail -n 1 "$rss/rank$r")
        peaks="$peaks${peaks:+, }$(echo "$line" | awk '{printf "%.0f", $1 / 1024}')"
        cpus="$cpus${cpus:+, }$(echo "$line" | awk '{printf "%.1f+%.1f", $2, $3}')"
        r=$((r + 1))
    done
    awk -v n="$n" -v d="$D" -v dt="$DTYPE" -v np="$NP" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
        -v g="$gen_s" -v w="$io_s" -v b="$bytes" -v p="$peaks" -v c="$cpus" 'BEGIN {
        printf "| %d | %d | %s | %d | %.1f | %s | %s | %.1f | %.2f | %.0f | %s | %s |\n",
            n, d, dt, np, t1 - t0, g, w, t2 - t1, b / 2^30, b / 2^20 / (t2 - t0), p, c }'
    rm -f "$out"
done
echo
echo "Checks of each file (h5py: shape, exact class sizes, no unwritten rows, window means):"
echo
sed 's/^/    /' "$OUTDIR/checks.txt"
rm -f "$OUTDIR/checks.txt"
