#!/bin/sh
# adkit-tsne --checkpoint / --resume: a run stopped at an iteration boundary (the test hook
# ADK_CKPT_TEST_STOP_AT, which asks on the last rank only, so the ranks must agree; SIGUSR1 to
# mpiexec; SIGTERM to one rank) before, at and after the end of the early exaggeration (iteration
# 250), and resumed at another rank count, gives the embedding, KL and n_iter of the uninterrupted
# run bit for bit, through the same progress lines; a resumed run stops and resumes again; periodic
# checkpoints leave the run unchanged; every mismatch (parameters, input, program, file) is
# refused with one message and the documented code, leaving the checkpoint as it was.
. "$ADK_SRCDIR/tests/mpi/lib.sh"
T=$BIN/adkit-tsne
SAN=${ADK_SANITIZED:-0} # 1 in the sanitizer build: the chained and periodic cases are left out
export OMPI_MCA_odls_base_sigkill_timeout=0

# 60 rows; 300 iterations (250 exaggerated), neither stopping rule ends it early
S=$FIX/tsne/small.h5
OPTS="--perplexity 10 --max-iter 300 --seed 5"
if ! run_np "$R1" "$T" $OPTS --out "$WORK/ref.h5" "$S" >"$WORK/ref.out" 2>"$WORK/ref.err"; then
    notok "the uninterrupted reference run"
    comment_file "$WORK/ref.err"
    finish
fi
check "the reference runs all 300 iterations (n_iter 299)" \
    test "$(h5attr "$WORK/ref.h5" /embedding n_iter)" = 299
# inputs: one bit of one value changed; the first 20 rows (two blocks of 16: ranks without rows)
"$ADK_PYTHON3" - "$S" "$WORK/edited.h5" "$WORK/few.h5" <<'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "w") as g, \
        h5py.File(sys.argv[3], "w") as h:
    x = f["data"][:]
    h["data"] = x[:20]
    x[17, 1] = np.nextafter(x[17, 1], np.inf)
    g["data"] = x
EOF

# same_as_ref DESC EMB: the uninterrupted run's bits (embedding, KL, n_iter, learning rate)
same_as_ref() {
    check "$1: the embedding bitwise that of the uninterrupted run" \
        "$H5CMP" cmp "$2" /embedding "$WORK/ref.h5" /embedding
    _a=""
    _b=""
    for _n in kl_divergence n_iter learning_rate; do
        _a="$_a $(h5attr "$2" /embedding $_n)"
        _b="$_b $(h5attr "$WORK/ref.h5" /embedding $_n)"
    done
    check "$1: KL, n_iter and learning rate those of the uninterrupted run ($_b)" test "$_a" = "$_b"
}

# stop TAG NP AT [OPTS...]: the hook stops the run after iteration AT (exit 75, one message, no
# embedding), leaving checkpoint $WORK/TAG.ck.h5
stop() {
    _t=$1
    _np=$2
    _at=$3
    shift 3
    ADK_CKPT_TEST_STOP_AT=$_at
    export ADK_CKPT_TEST_STOP_AT
    expect_fail "$_np" 75 "stopped on request at iteration $_at of 300: checkpoint" \
        "$WORK/$_t.e.h5" -- "$T" --quiet $OPTS --out "$WORK/$_t.e.h5" "$@" "$S"
    unset ADK_CKPT_TEST_STOP_AT
    check "$_t: checkpoint after iteration $_at written, no temporary file left" \
        sh -c "test \"\$('$H5CMP' attr '$WORK/$_t.ck.h5' / iter)\" = $((_at - 1)) &&
               ! ls '$WORK/$_t.ck.h5'.tmp-* >/dev/null 2>&1"
}

# The progress lines (every 50 iterations: KL and gradient norm), seconds left out.
progress() {
    grep -E 'iteration [0-9]+: KL' "$1" | sed -e 's/^.*iteration/iteration/' -e 's/, [0-9.]* s$//'
}

# resume TAG NP [OPTS...]: go on from $WORK/TAG.ck.h5 on NP ranks to the uninterrupted run's bits,
# through the same progress lines (those after the stop: the uninterrupted run's last ones)
resume() {
    _t=$1
    _np=$2
    shift 2
    if run_np "$_np" "$T" $OPTS --resume "$WORK/$_t.ck.h5" --out "$WORK/$_t.e.h5" "$@" "$S" \
        >"$WORK/out" 2>&1; then
        same_as_ref "$_t resumed on $_np ranks" "$WORK/$_t.e.h5"
        progress "$WORK/out" >"$WORK/got"
        progress "$WORK/ref.err" | tail -n "$(wc -l <"$WORK/got")" >"$WORK/want"
        check "$_t resumed on $_np ranks: its $(wc -l <"$WORK/got") progress lines are the uninterrupted run's last" \
            sh -c "test -s '$WORK/got' && cmp -s '$WORK/got' '$WORK/want'"
    else
        notok "$_t resumed on $_np ranks: adkit-tsne failed"
        comment_file "$WORK/out"
    fi
}

# --- stopped on each rank count, resumed on the next one (the last one: on the first) ----------
set -- $(ranks)
first=$1
eval "last=\${$#}"
n=0
for np in $(ranks); do
    n=$((n + 1))
    next=$first
    _seen=0
    for r in $(ranks); do
        [ "$_seen" = 1 ] && next=$r && break
        [ "$r" = "$np" ] && _seen=1
    done
    [ "$next" = "$np" ] && next=$first
    case $n in
    1) at=120 ;; # exaggerated, between two checks of the stopping rules
    2) at=250 ;; # the last exaggerated iteration: the rest starts afresh on resume
    3) at=251 ;; # the first one after it
    *) at=275 ;; # late
    esac
    stop "s$n" "$np" "$at" --checkpoint "$WORK/s$n.ck.h5"
    resume "s$n" "$next"
done

# --- 20 rows stopped on $first ranks, resumed on $last (from 3 ranks on, some hold no row) ------
F="--perplexity 3 --max-iter 260 --seed 2"
ADK_CKPT_TEST_STOP_AT=255 run_np "$first" "$T" --quiet $F --checkpoint "$WORK/few.ck.h5" \
    --out "$WORK/few.e.h5" "$WORK/few.h5" >"$WORK/out" 2>&1
rc=$?
if [ $rc = 75 ] && run_np "$last" "$T" --quiet $F --resume "$WORK/few.ck.h5" \
    --out "$WORK/few.e.h5" "$WORK/few.h5" >"$WORK/out" 2>&1 &&
    run_np "$first" "$T" --quiet $F --out "$WORK/few0.e.h5" "$WORK/few.h5" >"$WORK/out" 2>&1; then
    check "20 rows stopped on $first ranks, resumed on $last: the uninterrupted embedding" \
        "$H5CMP" cmp "$WORK/few.e.h5" /embedding "$WORK/few0.e.h5" /embedding
else
    notok "20 rows stopped on $first ranks (exit $rc), resumed on $last: a run failed"
    comment_file "$WORK/out"
fi

# --- a resumed run stopped again (--resume alone: its checkpoint is replaced), resumed again ---
if [ "$SAN" = 0 ]; then
    stop chain "$first" 100 --checkpoint "$WORK/chain.ck.h5"
    ADK_CKPT_TEST_STOP_AT=260
    export ADK_CKPT_TEST_STOP_AT
    expect_fail "$last" 75 "stopped on request at iteration 260 of 300" "$WORK/chain.e.h5" -- \
        "$T" --quiet $OPTS --resume "$WORK/chain.ck.h5" --out "$WORK/chain.e.h5" "$S"
    unset ADK_CKPT_TEST_STOP_AT
    check "chain: the resumed run replaced the checkpoint with iteration 260, phase 1" \
        test "$(h5attr "$WORK/chain.ck.h5" / iter) $(h5attr "$WORK/chain.ck.h5" / phase)" = "259 1"
    resume chain "$first"

    # --- periodic checkpoints: the run itself is unchanged; its last checkpoint resumes ------------
    if run_np "$last" "$T" --quiet $OPTS --checkpoint "$WORK/every.ck.h5" --checkpoint-every 100 \
        --out "$WORK/every0.e.h5" "$S" >"$WORK/out" 2>&1; then
        same_as_ref "--checkpoint-every 100 on $last ranks" "$WORK/every0.e.h5"
    else
        notok "--checkpoint-every 100 on $last ranks: adkit-tsne failed"
        comment_file "$WORK/out"
fi
check "--checkpoint-every 100: the last checkpoint is after iteration 200 (none after the last)" \
    test "$(h5attr "$WORK/every.ck.h5" / iter)" = 199
resume every "$first"
fi

# --- refused: other parameters, other input, another program's file; the checkpoint stays ------
C=$WORK/s1.ck.h5
cp "$C" "$WORK/keep.ck.h5"
O=$WORK/never.h5
# (most on $first ranks: the checks are adk_ckpt's, tested at every rank count in ckpt.sh)
expect_fail "$last" 1 "the checkpoint was made with --perplexity 10, this run has --perplexity 12" \
    "$O" -- "$T" --perplexity 12 --max-iter 300 --seed 5 --resume "$C" --out "$O" "$S"
np=$first
expect_fail "$np" 1 "the checkpoint was made with --max-iter 300, this run has --max-iter 400" \
    "$O" -- "$T" $OPTS --max-iter 400 --resume "$C" --out "$O" "$S"
expect_fail "$np" 1 "the checkpoint was made with --method barnes-hut, this run has --method exact" \
    "$O" -- "$T" $OPTS --method exact --resume "$C" --out "$O" "$S"
expect_fail "$np" 2 "made from other data (.*small.h5, checksum [0-9a-f]*), this run reads .*edited.h5" \
    "$O" -- "$T" $OPTS --resume "$C" --out "$O" "$WORK/edited.h5"
expect_fail "$np" 2 "--resume .*ref.h5: not an adkit checkpoint" "$O" -- \
    "$T" $OPTS --resume "$WORK/ref.h5" --out "$O" "$S"
ADK_CKPT_TEST_STOP_AT=1:1 run_np 1 "$BIN/adkit-kmeans" --quiet --k 2 \
    --checkpoint "$WORK/km.ck.h5" --out "$WORK/km.h5" "$S" >"$WORK/out" 2>&1
if [ $? = 75 ] && [ -f "$WORK/km.ck.h5" ]; then
    expect_fail "$np" 2 "--resume .*km.ck.h5: a checkpoint of adkit-kmeans, not of adkit-tsne" \
        "$O" -- "$T" $OPTS --resume "$WORK/km.ck.h5" --out "$O" "$S"
else
    notok "a k-means checkpoint to refuse: adkit-kmeans failed"
    comment_file "$WORK/out"
fi
cp "$WORK/ref.h5" "$WORK/emb.h5"
expect_fail "$np" 3 "--checkpoint .*emb.h5 exists and is not a checkpoint of adkit-tsne" "$O" -- \
    "$T" $OPTS --checkpoint "$WORK/emb.h5" --out "$O" "$S"
check "an embedding named by --checkpoint is left as it was" cmp -s "$WORK/emb.h5" "$WORK/ref.h5"
expect_fail "$np" 1 "--checkpoint-every 5: needs N >= 0 and --checkpoint FILE" "$O" -- \
    "$T" $OPTS --checkpoint-every 5 --out "$O" "$S"
expect_fail "$np" 1 "--checkpoint .*never.h5 is also an output file" "$O" -- \
    "$T" $OPTS --checkpoint "$O" --out "$O" "$S"
check "refused resumes leave the checkpoint as it was" cmp -s "$C" "$WORK/keep.ck.h5"

# --- real signals ------------------------------------------------------------------------------

# SIGUSR1 to mpiexec (Open MPI passes it on to every rank), in the early exaggeration
bg usr1 "$first" "$T" $OPTS --checkpoint "$WORK/usr1.ck.h5" --out "$WORK/usr1.e.h5" "$S"
if wait_line "$WORK/usr1.err" 'iteration 50: KL'; then
    kill -USR1 "$BG"
fi
bg_end usr1
signalled usr1 "SIGUSR1 to mpiexec on $first ranks" 75 "stopped by SIGUSR1 at iteration [0-9]* of 300"
resume usr1 "$last"

# SIGTERM (what Slurm sends at the time limit) to rank 0 only, later: every rank stops
bg term "$last" "$T" $OPTS --checkpoint "$WORK/term.ck.h5" --out "$WORK/term.e.h5" "$S"
if wait_line "$WORK/term.err" 'iteration 100: KL'; then
    kill -TERM "$(awk '$1 == 0 { print $2 }' "$WORK/term.pids")"
fi
bg_end term
signalled term "SIGTERM to rank 0 of $last" 75 "stopped by SIGTERM at iteration [12][0-9][0-9] of 300"
resume term "$first"
finish
