#!/bin/sh
# An allocation that fails on one rank, wherever it happens, must end the whole job cleanly: the
# documented exit code (70 for out of memory, or what the failing step maps it to), exactly one
# "prog: message" line, no hang, no output or temporary file left. ADK_FAIL_ALLOC=RANK:N
# (src/adk_mem.h) makes that rank's N-th allocation fail; N = 0 only counts them.
#
# Every program of the toolkit, on 2 ranks, with rank 1 failing (the harder case: rank 0 is the
# one that reports), and rank 0 for k-means. A run first counts the allocations (C), then fails
# each of the first ALLOC_HEAD and about ALLOC_SAMPLES more spread evenly up to C, so every phase
# (set-up, reading, computing, writing) is hit; ADK_ALLOC_FULL=1 fails every single one.
# Skipped under the sanitizers (the same paths run there through the other tests, much slower).
. "$ADK_SRCDIR/tests/mpi/lib.sh"

if [ "${ADK_SANITIZED:-0}" = 1 ]; then
    ok "allocation sweep # SKIP in the sanitizer build"
    finish
fi
case " $(ranks) " in
*" 2 "*) ;;
*)
    ok "allocation sweep # SKIP needs 2 ranks (ADK_TEST_RANKS=$(ranks))"
    finish
    ;;
esac

ALLOC_HEAD=${ALLOC_HEAD:-8}
ALLOC_SAMPLES=${ALLOC_SAMPLES:-6}
T=15 # seconds: these runs take well under one

# Inputs: blobs with labels, a model with and without thresholds, an assignment, a Gaussian model.
S=$WORK/in
mkdir -p "$S"
export OMPI_MCA_odls_base_sigkill_timeout=0
run_np 2 "$BIN/adkit-gen" blobs --n 600 --d 4 --centers 3 --seed 5 --out "$S/b.h5" --quiet >/dev/null &&
    run_np 2 "$BIN/adkit-kmeans" --k 3 --seed 1 --out "$S/m.h5" --assign "$S/a.h5" --quiet "$S/b.h5" >/dev/null &&
    cp "$S/m.h5" "$S/mt.h5" &&
    run_np 2 "$BIN/adkit-threshold" --model "$S/mt.h5" --assign "$S/a.h5" --quiet >/dev/null &&
    "$ADK_PYTHON3" - "$S" <<'EOF' &&
import sys, h5py, numpy as np
# adkit-gauss select wants 0/1 labels: blob 0 plays the anomaly
with h5py.File(sys.argv[1] + "/b.h5", "a") as f:
    f["y01"] = (f["labels"][:] == 0).astype(np.int64)
EOF
    run_np 2 "$BIN/adkit-gauss" fit --quiet "$S/b.h5:/data" "$S/g.h5" >/dev/null &&
    cp "$S/g.h5" "$S/ge.h5" &&
    run_np 2 "$BIN/adkit-gauss" select --quiet --labels "$S/b.h5:/y01" "$S/ge.h5" "$S/b.h5:/data" >/dev/null
if [ $? != 0 ]; then
    notok "making the inputs"
    finish
fi

# sweep NAME RANK CMD...: run CMD in a fresh directory with allocation n failing on RANK.
sweep() {
    _name=$1
    _rank=$2
    shift 2
    _dir=$WORK/run
    rm -rf "$_dir" && mkdir -p "$_dir" && cd "$_dir" || return
    ADK_FAIL_ALLOC="$_rank:0" timeout -k 5 $T "$ADK_MPIEXEC" --oversubscribe -n 2 "$@" \
        >"$WORK/o" 2>"$WORK/e"
    _rc=$?
    _count=$(sed -n 's/^adk_mem: \([0-9]*\) allocations$/\1/p' "$WORK/e" | head -n 1)
    if [ "$_rc" != 0 ] || [ -z "$_count" ]; then
        notok "$_name: the run without failure (rc=$_rc, count '${_count:-?}')"
        comment_file "$WORK/e"
        return
    fi
    _list=$(awk -v c="$_count" -v h="$ALLOC_HEAD" -v s="$ALLOC_SAMPLES" -v full="${ADK_ALLOC_FULL:-0}" \
        'BEGIN { for (n = 1; n <= c; n++) if (full == 1 || n <= h || n == c ||
                 int((n - h) * s / (c - h + 1)) != int((n - 1 - h) * s / (c - h + 1))) print n }')
    _bad=""
    _tried=0
    for _n in $_list; do
        _tried=$((_tried + 1))
        rm -rf "$_dir" && mkdir -p "$_dir" && cd "$_dir" || return
        cp "$S/m.h5" "$S/mu.h5" 2>/dev/null
        cp "$S/g.h5" "$S/gu.h5" 2>/dev/null
        ADK_FAIL_ALLOC="$_rank:$_n" timeout -k 5 $T "$ADK_MPIEXEC" --oversubscribe -n 2 "$@" \
            >"$WORK/o" 2>"$WORK/e"
        _rc=$?
        # adkit run's note on a failed step ("... failed (exit N) ...") comes beside the step's own
        _msgs=$(grep '^adkit[- ][a-z0-9-]*: ' "$WORK/e" | grep -vc ': [a-z-]* failed (exit [0-9]*); ')
        _left=$(ls -A "$_dir" | grep -vxF "${SWEEP_MAY_KEEP:-/}" | tr '\n' ' ')$(ls "$S" |
            grep -E 'tmp-|[.]old-|^adk-' | tr '\n' ' ')
        _why=""
        if [ "$_rc" = 124 ] || [ "$_rc" = 137 ]; then
            _why="hang"
        elif [ "$_rc" -ge 128 ]; then
            _why="killed by a signal (rc=$_rc)"
        elif [ "$_rc" = 0 ]; then
            _why="exit 0 although allocation $_n failed"
        elif [ "$_msgs" != 1 ]; then
            _why="$_msgs message lines (rc=$_rc)"
        elif [ -n "$_left" ]; then
            _why="left behind: $_left"
        fi
        if [ -n "$_why" ]; then
            _bad="$_bad n=$_n: $_why;"
            grep -v '^--\|^Primary job\|^a non-zero\|^mpiexec\|^  Process\|^  Exit\|^the job\|^$' \
                "$WORK/e" | sed -e "s/^/# n=$_n: /" | head -n 8
        fi
    done
    cd "$WORK" || return
    if [ -z "$_bad" ]; then
        ok "$_name: rank $_rank, $_tried of $_count allocations failed in turn: each ends cleanly"
    else
        notok "$_name: rank $_rank:$_bad"
    fi
}

A=$BIN
sweep "adkit-gen" 1 "$A/adkit-gen" blobs --n 500 --out g.h5
sweep "adkit-kmeans" 1 "$A/adkit-kmeans" --k 3 --out m.h5 --assign a.h5 "$S/b.h5"
sweep "adkit-kmeans" 0 "$A/adkit-kmeans" --k 3 --out m.h5 --assign a.h5 "$S/b.h5"
# streamed: windows of 256 rows (the smallest limit), two per rank
sweep "adkit-kmeans --mem-limit" 1 "$A/adkit-kmeans" --k 3 --mem-limit 1094560 --out m.h5 \
    --assign a.h5 "$S/b.h5"
sweep "adkit-threshold --assign" 1 "$A/adkit-threshold" --model "$S/mu.h5" --assign "$S/a.h5" --force
sweep "adkit-threshold DATA" 1 "$A/adkit-threshold" --model "$S/mu.h5" --force "$S/b.h5"
sweep "adkit-score" 1 "$A/adkit-score" --model "$S/mt.h5" --labels "$S/b.h5:/labels" --out s.h5 \
    --json s.json "$S/b.h5"
sweep "adkit-metrics" 1 "$A/adkit-metrics" --model "$S/m.h5" --json q.json "$S/b.h5"
sweep "adkit-elbow" 1 "$A/adkit-elbow" --k-min 1 --k-max 3 --out c.csv "$S/b.h5"
sweep "adkit-gauss fit" 1 "$A/adkit-gauss" fit "$S/b.h5:/data" g.h5
sweep "adkit-gauss select" 1 "$A/adkit-gauss" select --force --labels "$S/b.h5:/y01" --curve c.csv \
    "$S/gu.h5" "$S/b.h5:/data"
sweep "adkit-gauss score" 1 "$A/adkit-gauss" score --labels "$S/b.h5:/y01" --json j.json \
    "$S/ge.h5" "$S/b.h5:/data" sc.h5
sweep "adkit-subset" 1 "$A/adkit-subset" --labels "$S/b.h5:/labels" --split val --split-seed 1 \
    --anomaly-labels 0 --out s.h5 "$S/b.h5"
sweep "adkit-pca" 1 "$A/adkit-pca" --n-components 2 --out p.h5 "$S/b.h5"
sweep "adkit-knn" 1 "$A/adkit-knn" --k 5 --labels "$S/b.h5:/y01" --json k.json --out k.h5 "$S/b.h5"
sweep "adkit-tsne" 1 "$A/adkit-tsne" --max-iter 250 --perplexity 5 --out t.h5 "$S/b.h5"
sweep "adkit-tsne exact" 0 "$A/adkit-tsne" --max-iter 250 --perplexity 5 --method exact \
    --init pca --out t.h5 "$S/b.h5"
# the driver's own allocations (steps file, times table) and one program's inside it
printf '# one step\nsubset --labels %s:/labels --keep-labels 1 --out s.h5 %s\n' "$S/b.h5" "$S/b.h5" \
    >"$S/steps.txt"
# (a failure after the step has finished leaves its finished output: SWEEP_MAY_KEEP)
SWEEP_MAY_KEEP=s.h5 sweep "adkit run" 1 "$A/adkit" run --times t.tsv "$S/steps.txt"
# adkit-kmeans resumed from a checkpoint (stopped in its second run) and saving every 2 iterations
# (a failure after a save leaves that checkpoint: SWEEP_MAY_KEEP)
ADK_CKPT_TEST_STOP_AT=2:2
export ADK_CKPT_TEST_STOP_AT
run_np 2 "$A/adkit-kmeans" --quiet --k 6 --seed 1 --n-init 2 --checkpoint "$S/ck.h5" \
    --out "$S/ck-m.h5" "$S/b.h5" >/dev/null 2>&1
unset ADK_CKPT_TEST_STOP_AT
SWEEP_MAY_KEEP=ck.h5 sweep "adkit-kmeans --resume --checkpoint-every" 1 "$A/adkit-kmeans" --k 6 \
    --seed 1 --n-init 2 --resume "$S/ck.h5" --checkpoint ck.h5 --checkpoint-every 2 --out m.h5 \
    --assign a.h5 "$S/b.h5"
# adkit-tsne resumed from a checkpoint (its P read back by rows) and saving every 50 iterations
ADK_CKPT_TEST_STOP_AT=100
export ADK_CKPT_TEST_STOP_AT
run_np 2 "$A/adkit-tsne" --quiet --max-iter 260 --perplexity 5 --checkpoint "$S/tck.h5" \
    --out "$S/tck-t.h5" "$S/b.h5" >/dev/null 2>&1
unset ADK_CKPT_TEST_STOP_AT
SWEEP_MAY_KEEP=tck.h5 sweep "adkit-tsne --resume --checkpoint-every" 1 "$A/adkit-tsne" \
    --max-iter 260 --perplexity 5 --resume "$S/tck.h5" --checkpoint tck.h5 --checkpoint-every 50 \
    --out t.h5 "$S/b.h5"
finish
