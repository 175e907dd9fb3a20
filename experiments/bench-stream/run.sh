#!/bin/bash
# Out-of-core k-means: seconds per Lloyd iteration of `adkit-kmeans --stream` on 2 ranks over an
# N x 32 float64 data set (default 100,000,000 rows: 25.6 GB, more than this 24 GiB machine
# holds), against the disk's sequential read speed of the same file.
#
#   experiments/bench-stream/run.sh [DIR]      (from the repository root, after a build)
#
#   DIR      where the data file goes (default /tmp/bench-stream); it must have room for it
#   N=rows   rows to generate (default 100000000); N=2000000 checks the script quickly
#   BUILD=   the build tree (default ./build); KEEP=1 keeps the data file afterwards
#   ITERS=   Lloyd iterations (default 3), tol 0, from the first K=8 rows as the initial centres
#
# The disk speed: the page cache is dropped (`sync; echo 3 > /proc/sys/vm/drop_caches`, root
# only), then `dd bs=64M` reads the whole file. Without the right to drop the cache, dd reads
# with iflag=direct (O_DIRECT, no page cache) and the report says so; when that fails too, the
# plain dd figure is reported as "page cache possibly involved". The cache is dropped again
# before the k-means run when possible: with a file smaller than memory (a small N), the
# iterations after the first may still be served from the cache, and the report says so.
#
# Seconds per iteration: the mean of the per-iteration times adkit-kmeans prints (--verbose
# lines "run 1 iter N ... S s"); effective read speed = file bytes / seconds per iteration.
# Writes experiments/results/bench-stream-<date>.md.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
DIR=${1:-/tmp/bench-stream}
N=${N:-100000000}
D=32
K=8
NP=2
ITERS=${ITERS:-3}
. "$ROOT/scripts/adk-env.sh" 2>/dev/null || true
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1

mkdir -p "$DIR"
DATA=$DIR/stream-$N.h5
bytes=$((N * D * 8))
# the data, the labels adkit-gen writes (4 bytes a row), HDF5 metadata and 5 % to spare
want=$(((N * D * 8 + N * 4) / 100 * 105 + (64 << 20)))
if [ ! -f "$DATA" ]; then
    avail=$(df -B1 --output=avail "$DIR" | tail -n 1 | tr -d ' ')
    if [ "$avail" -lt "$want" ]; then
        echo "bench-stream: $DIR has $((avail >> 20)) MiB free, the data needs $((want >> 20)) MiB;" \
            "give another DIR or a smaller N" >&2
        exit 1
    fi
    echo "generating $N x $D into $DATA ..." >&2
    mpiexec -n $NP "$BUILD/apps/adkit-gen" blobs --quiet --n "$N" --d $D --centers 16 \
        --cluster-std 6 --seed 1 --out "$DATA"
fi
if [ -z "${KEEP:-}" ]; then
    trap 'rm -f "$DATA" "$DIR/init.h5" "$DIR/model.h5" "$DIR/rss".*' EXIT
fi
/usr/bin/python3 - "$DATA" "$DIR/init.h5" $K <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    c = f["data"][: int(sys.argv[3]), :]
with h5py.File(sys.argv[2], "w") as f:
    f["centroids"] = c
PYEOF

drop_caches() { # 0 when the page cache was dropped
    sync
    [ "$(id -u)" = 0 ] && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null
}
dd_secs() { # dd's elapsed seconds reading the data file with extra flags $@
    LC_ALL=C dd if="$DATA" of=/dev/null bs=64M "$@" 2>&1 |
        sed -n 's/.* copied, \([0-9.e+-]*\) s,.*/\1/p'
}
if drop_caches; then
    how="page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches), dd bs=64M"
    ddt=$(dd_secs)
elif ddt=$(dd_secs iflag=direct) && [ -n "$ddt" ]; then
    how="no right to drop the page cache: dd bs=64M iflag=direct (O_DIRECT)"
else
    how="no right to drop the page cache and O_DIRECT failed: plain dd bs=64M, page cache possibly involved"
    ddt=$(dd_secs)
fi
disk1=$(awk -v b=$bytes -v t="$ddt" 'BEGIN { printf "%.3f", b / t / 1e9 }')
echo "disk, one reader: $disk1 GB/s ($how)" >&2
# The run reads with NP ranks at once, each its own contiguous part: a virtual or striped disk
# can serve several streams faster than one, so time NP dd readers of equal parts as well and
# compare with the faster of the two figures.
blocks=$(((bytes + (64 << 20) - 1) >> 26))
per=$(((blocks + NP - 1) / NP))
drop_caches || true
t0=$(date +%s.%N)
for r in $(seq 0 $((NP - 1))); do
    dd if="$DATA" of=/dev/null bs=64M skip=$((r * per)) count=$per 2>/dev/null &
done
wait
t1=$(date +%s.%N)
diskp=$(awk -v b=$bytes -v a="$t0" -v z="$t1" 'BEGIN { printf "%.3f", b / (z - a) / 1e9 }')
echo "disk, $NP readers: $diskp GB/s" >&2
disk=$(awk -v a="$disk1" -v b="$diskp" 'BEGIN { print (a > b) ? a : b }')
# sectors read from the data's block device during the run (page-cache hits never reach it)
dev=$(basename "$(df --output=source "$DIR" | tail -n 1)")
devstat=/sys/class/block/$dev/stat
dev_read() { [ -r "$devstat" ] && awk '{ print $3 * 512 }' "$devstat" || echo ""; }

cache_note="page cache dropped before the run"
drop_caches || cache_note="page cache NOT dropped before the run (not root)"
fits=0
if [ $((bytes >> 30)) -lt "$(awk '/MemTotal/ { print int($2 / 1048576) }' /proc/meminfo)" ]; then
    fits=1
    cache_note="$cache_note; the file ($((bytes >> 20)) MiB) fits in memory, so iterations may be served from the page cache"
fi
cmd="mpiexec -n $NP adkit-kmeans --stream --k $K --init init.h5 --tol 0 --max-iter $ITERS --timings --force --out model.h5 $(basename "$DATA"):/data"
echo "running: $cmd" >&2
load=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$DIR"/rss.*
rd0=$(dev_read)
out=$(mpiexec -n $NP sh -c 'exec /usr/bin/time -f "%M" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' \
    "$DIR/rss" "$BUILD/apps/adkit-kmeans" --stream --k $K --init "$DIR/init.h5" --tol 0 \
    --max-iter "$ITERS" --timings --force --out "$DIR/model.h5" "$DATA:/data" 2>&1)
rd1=$(dev_read)
devnote="not available ($devstat unreadable)"
if [ -n "$rd0" ] && [ -n "$rd1" ]; then
    devnote=$(awk -v a="$rd0" -v z="$rd1" -v b=$bytes \
        'BEGIN { printf "%.2f GB, %.2f times the file", (z - a) / 1e9, (z - a) / b }')
fi
echo "$out" >&2
its=$(echo "$out" | sed -n 's/^run 1 iter *[0-9]* .* \([0-9.]*\) s$/\1/p')
nit=$(echo "$its" | grep -c .)
spi=$(echo "$its" | awk '{ s += $1 } END { if (NR) printf "%.3f", s / NR }')
eff=$(awk -v b=$bytes -v t="$spi" 'BEGIN { printf "%.3f", b / t / 1e9 }')
ratio=$(awk -v e="$eff" -v d="$disk" 'BEGIN { printf "%.0f", 100 * e / d }')
rss=$(cat "$DIR"/rss.* | sort -n | tr '\n' ' ')

date=$(date -u +%Y-%m-%d)
res="$ROOT/experiments/results/bench-stream-$date.md"
{
    echo "# bench-stream, $date: \`adkit-kmeans --stream\`, $N x $D on $NP ranks"
    echo
    if [ "$fits" = 1 ]; then
        echo "**A check of the driver, not the benchmark:** the file fits in memory, so after the"
        echo "set-up passes the iterations read mostly from the page cache and the ratio says little."
        echo
    fi
    echo "Driver: \`N=$N experiments/bench-stream/run.sh $DIR\` ($(date -u +%Y-%m-%dT%H:%M:%SZ))."
    echo
    echo "- commit: $(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
    echo "- command: \`$cmd\` (init: the first $K rows)"
    echo "- data: $N x $D float64, $bytes bytes ($(awk -v b=$bytes 'BEGIN { printf "%.2f", b / 1e9 }') GB), \`adkit-gen blobs --centers 16 --cluster-std 6 --seed 1\`, in $DIR"
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(uname -sr), load average before the run: $load"
    echo "- filesystem: $(df -h --output=source,fstype,size "$DIR" | tail -n 1 | tr -s ' ')"
    echo "- disk sequential read: **$disk GB/s**, the faster of one reader $disk1 GB/s ($ddt s for the file; $how) and $NP concurrent readers of equal parts $diskp GB/s (cache dropped first)"
    echo "- read from the block device ($dev) during the k-means run: $devnote (what the page cache served never reaches the device)"
    echo "- k-means run: $cache_note"
    echo
    echo "| iterations timed | seconds per iteration | effective read | ratio to the disk | peak RSS per rank (KiB) |"
    echo "|---|---|---|---|---|"
    echo "| $nit | $spi | $eff GB/s | **$ratio %** | $rss|"
    echo
    echo "Per-iteration seconds: $(echo $its | tr '\n' ' ')"
    echo
    echo '```'
    echo "$out"
    echo '```'
} >"$res"
echo "wrote $res" >&2
