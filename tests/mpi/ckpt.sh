#!/bin/sh
# adkit-kmeans --checkpoint / --resume: a fit stopped at an iteration boundary (the test hook
# ADK_CKPT_TEST_STOP_AT, which asks on the last rank only, so the ranks must agree; SIGUSR1 to
# mpiexec; SIGTERM to one rank; every rank SIGKILLed after a periodic checkpoint) and resumed at
# another rank count gives the model and assignments of the uninterrupted run bit for bit; a
# resumed run stops and resumes again; every mismatch (parameters, input, file) is refused with one
# message and the documented code, leaving the checkpoint as it was; and without --checkpoint a
# SIGTERM still ends the run and leaves no output.
. "$ADK_SRCDIR/tests/mpi/lib.sh"
KM=$BIN/adkit-kmeans
export OMPI_MCA_odls_base_sigkill_timeout=0

# Overlapping blobs: k-means needs 89-182 iterations per run (tol 0), so there is room to stop.
B=$WORK/b.h5
OPTS="--k 8 --n-init 3 --tol 0 --seed 1"
if ! run_np "$R1" "$BIN/adkit-gen" blobs --n 20000 --d 4 --centers 6 --cluster-std 3 \
    --center-box -5,5 --seed 3 --out "$B" --quiet >"$WORK/setup" 2>&1 ||
    ! run_np "$R1" "$KM" $OPTS --out "$WORK/ref.h5" --assign "$WORK/ref-a.h5" "$B" \
        >>"$WORK/setup" 2>"$WORK/ref.err"; then
    notok "making the input and the uninterrupted reference run"
    comment_file "$WORK/setup"
    finish
fi

# same_as_ref DESC MODEL ASSIGN: the uninterrupted run's bits (centroids, labels, distances,
# inertia, n_iter, converged)
same_as_ref() {
    check "$1: centroids, labels and distances bitwise those of the uninterrupted run" \
        sh -c "'$H5CMP' cmp '$2' /centroids '$WORK/ref.h5' /centroids &&
               '$H5CMP' cmp '$3' /cluster '$WORK/ref-a.h5' /cluster &&
               '$H5CMP' cmp '$3' /distance '$WORK/ref-a.h5' /distance"
    check "$1: inertia, n_iter and converged those of the uninterrupted run" test \
        "$(h5attr "$2" / inertia) $(h5attr "$2" / n_iter) $(h5attr "$2" / converged)" = \
        "$(h5attr "$WORK/ref.h5" / inertia) $(h5attr "$WORK/ref.h5" / n_iter) $(h5attr "$WORK/ref.h5" / converged)"
}

# stop TAG NP AT [OPTS...]: the hook stops the fit at run:iteration AT (exit 75, one message,
# no model), leaving checkpoint $WORK/TAG.ck.h5
stop() {
    _t=$1
    _np=$2
    _at=$3
    shift 3
    ADK_CKPT_TEST_STOP_AT=$_at
    export ADK_CKPT_TEST_STOP_AT
    expect_fail "$_np" 75 "stopped on request at run ${_at%%:*} of 3, iteration ${_at#*:}: checkpoint" \
        "$WORK/$_t.m.h5" -- "$KM" --quiet $OPTS --out "$WORK/$_t.m.h5" --assign "$WORK/$_t.a.h5" \
        "$@" "$B"
    unset ADK_CKPT_TEST_STOP_AT
    check "$_t: checkpoint written, no temporary file left" \
        sh -c "test -f '$WORK/$_t.ck.h5' && ! ls '$WORK/$_t.ck.h5'.tmp-* >/dev/null 2>&1"
}

# The progress lines of iterations and runs (inertia, shift, changed labels), seconds left out, and
# the fraction of distances an accelerated --algorithm skipped (a resumed fit rebuilds its bounds).
progress() {
    grep -E '^run [0-9]+( iter |: )' "$1" | sed -e 's/  [0-9.]* s$//' -e 's/  skipped [0-9.]*$//'
}

# resume TAG NP [OPTS...]: go on from $WORK/TAG.ck.h5 on NP ranks to the uninterrupted run's bits,
# through the same iterations (its progress lines end the uninterrupted run's)
resume() {
    _t=$1
    _np=$2
    shift 2
    if run_np "$_np" "$KM" $OPTS --resume "$WORK/$_t.ck.h5" --out "$WORK/$_t.m.h5" \
        --assign "$WORK/$_t.a.h5" "$@" "$B" >"$WORK/out" 2>&1; then
        same_as_ref "$_t resumed on $_np ranks" "$WORK/$_t.m.h5" "$WORK/$_t.a.h5"
        progress "$WORK/out" >"$WORK/got"
        progress "$WORK/ref.err" | tail -n "$(wc -l <"$WORK/got")" >"$WORK/want"
        check "$_t resumed on $_np ranks: its $(wc -l <"$WORK/got") progress lines are the uninterrupted run's last" \
            sh -c "test -s '$WORK/got' && cmp -s '$WORK/got' '$WORK/want'"
    else
        notok "$_t resumed on $_np ranks: adkit-kmeans failed"
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
    1) at=1:20 ;;  # early in the first run: no best run yet
    2) at=2:10 ;;  # in the second of three runs
    3) at=3:40 ;;  # in the last run
    *) at=1:150 ;; # late in a run
    esac
    stop "s$n" "$np" "$at" --checkpoint "$WORK/s$n.ck.h5"
    resume "s$n" "$next"
done

# --- a resumed run stopped again (--resume alone: its checkpoint is replaced), resumed again ---
stop chain "$first" 2:30 --checkpoint "$WORK/chain.ck.h5"
check "chain: the first stop saved run 2, iteration 30" \
    test "$(h5attr "$WORK/chain.ck.h5" / run) $(h5attr "$WORK/chain.ck.h5" / iter)" = "1 30"
ADK_CKPT_TEST_STOP_AT=3:15
export ADK_CKPT_TEST_STOP_AT
expect_fail "$last" 75 "stopped on request at run 3 of 3, iteration 15" "$WORK/chain.m.h5" -- \
    "$KM" --quiet $OPTS --resume "$WORK/chain.ck.h5" --out "$WORK/chain.m.h5" "$B"
unset ADK_CKPT_TEST_STOP_AT
check "chain: the resumed run replaced the checkpoint with run 3, iteration 15" \
    test "$(h5attr "$WORK/chain.ck.h5" / run) $(h5attr "$WORK/chain.ck.h5" / iter)" = "2 15"
resume chain "$first"

# --- periodic checkpoints: the run itself is unchanged; its last checkpoint resumes ------------
if run_np "$last" "$KM" --quiet $OPTS --checkpoint "$WORK/every.ck.h5" --checkpoint-every 100 \
    --out "$WORK/every0.m.h5" --assign "$WORK/every0.a.h5" "$B" >"$WORK/out" 2>&1; then
    same_as_ref "--checkpoint-every 100 on $last ranks" "$WORK/every0.m.h5" "$WORK/every0.a.h5"
else
    notok "--checkpoint-every 100 on $last ranks: adkit-kmeans failed"
    comment_file "$WORK/out"
fi
check "--checkpoint-every 100: the last checkpoint is at iteration 400 of all runs" \
    test "$(h5attr "$WORK/every.ck.h5" / total_iter)" = 400
resume every "$first"

# --- refused: other parameters, other input, not a checkpoint; the checkpoint stays as it was --
C=$WORK/s1.ck.h5
cp "$C" "$WORK/keep.ck.h5"
O=$WORK/never.h5
K1="--k 8 --n-init 3 --tol 0"
run_np "$R1" "$BIN/adkit-gen" blobs --n 20000 --d 4 --centers 6 --cluster-std 3 \
    --center-box -5,5 --seed 4 --out "$WORK/other.h5" --quiet >/dev/null 2>&1
cp "$B" "$WORK/edited.h5"
"$ADK_PYTHON3" - "$WORK/edited.h5" <<'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "a") as f:
    d = f["data"]
    d[12345, 2] = np.nextafter(d[12345, 2], np.inf)  # one bit of one value
EOF
head -c 3000 "$C" >"$WORK/cut.ck.h5"
cp "$WORK/ref.h5" "$WORK/model.h5"
np=$last
expect_fail "$np" 1 "the checkpoint was made with --k 8, this run has --k 5" "$O" -- \
    "$KM" --k 5 --n-init 3 --tol 0 --seed 1 --resume "$C" --out "$O" "$B"
expect_fail "$np" 1 "the checkpoint was made with --seed 1, this run has --seed 2" "$O" -- \
    "$KM" $K1 --seed 2 --resume "$C" --out "$O" "$B"
expect_fail "$np" 1 "the checkpoint was made with --max-iter 300, this run has --max-iter 299" \
    "$O" -- "$KM" $OPTS --max-iter 299 --resume "$C" --out "$O" "$B"
expect_fail "$np" 2 "made from other data (.*b.h5, checksum [0-9a-f]*), this run reads .*other.h5" \
    "$O" -- "$KM" $OPTS --resume "$C" --out "$O" "$WORK/other.h5"
expect_fail "$np" 2 "made from other data" "$O" -- "$KM" $OPTS --resume "$C" --out "$O" \
    "$WORK/edited.h5"
expect_fail "$np" 2 "(20000 x 4), this run reads .*b.h5:/centers (6 x 4)" "$O" -- \
    "$KM" $OPTS --resume "$C" --out "$O" "$B:/centers"
expect_fail "$np" 2 "--resume .*model.h5: not an adkit checkpoint" "$O" -- \
    "$KM" $OPTS --resume "$WORK/model.h5" --out "$O" "$B"
expect_fail "$np" 3 "cut.ck.h5' is not a readable HDF5 file" "$O" -- \
    "$KM" $OPTS --resume "$WORK/cut.ck.h5" --out "$O" "$B"
expect_fail "$np" 3 "--checkpoint .*model.h5 exists and is not a checkpoint of adkit-kmeans" "$O" -- \
    "$KM" $OPTS --checkpoint "$WORK/model.h5" --out "$O" "$B"
check "a model file named by --checkpoint is left as it was" cmp -s "$WORK/model.h5" "$WORK/ref.h5"
expect_fail "$np" 1 "--checkpoint-every 5: needs N >= 0 and --checkpoint FILE" "$O" -- \
    "$KM" $OPTS --checkpoint-every 5 --out "$O" "$B"
expect_fail "$np" 1 "--checkpoint .*never.h5 is also an output file" "$O" -- \
    "$KM" $OPTS --checkpoint "$O" --out "$O" "$B"
check "refused resumes leave the checkpoint as it was" cmp -s "$C" "$WORK/keep.ck.h5"

# --- real signals ------------------------------------------------------------------------------

# SIGUSR1 to mpiexec (Open MPI passes it on to every rank)
bg usr1 "$first" "$KM" $OPTS --checkpoint "$WORK/usr1.ck.h5" --out "$WORK/usr1.m.h5" "$B"
if wait_line "$WORK/usr1.err" 'run 1 iter  *5 '; then
    kill -USR1 "$BG"
fi
bg_end usr1
signalled usr1 "SIGUSR1 to mpiexec on $first ranks" 75 "stopped by SIGUSR1 at run 1 of 3, iteration"
resume usr1 "$last"

# SIGTERM (what Slurm sends at the time limit) to rank 0 only: every rank stops
bg term "$last" "$KM" $OPTS --checkpoint "$WORK/term.ck.h5" --out "$WORK/term.m.h5" "$B"
if wait_line "$WORK/term.err" 'run 2 iter  *3 '; then
    kill -TERM "$(awk '$1 == 0 { print $2 }' "$WORK/term.pids")"
fi
bg_end term
signalled term "SIGTERM to rank 0 of $last" 75 "stopped by SIGTERM at run 2 of 3, iteration"
resume term "$first"

# every rank killed (SIGKILL) mid-run after periodic checkpoints: the last complete one resumes
bg kill "$last" "$KM" $OPTS --checkpoint "$WORK/kill.ck.h5" --checkpoint-every 25 \
    --out "$WORK/kill.m.h5" "$B"
if wait_line "$WORK/kill.err" 'run 2 iter  *30 '; then
    kill -KILL $(awk '{ print $2 }' "$WORK/kill.pids")
fi
bg_end kill
check "SIGKILL to every rank of $last mid-run: killed, no model, a checkpoint of run 2 or 3" \
    sh -c "[ '$RC' != 0 ] && [ '$RC' != hang ] && [ ! -e '$WORK/kill.m.h5' ] &&
           [ \"\$('$H5CMP' attr '$WORK/kill.ck.h5' / run)\" -ge 1 ]"
ls "$WORK"/kill.ck.h5.tmp-* >/dev/null 2>&1 && echo "# (the kill left a temporary checkpoint)"
resume kill "$first"

# --- without --checkpoint a SIGTERM still ends the run, leaving nothing (adk_sig's default) -----
bg plain "$last" "$KM" $OPTS --out "$WORK/plain.m.h5" --assign "$WORK/plain.a.h5" "$B"
if wait_line "$WORK/plain.err" 'run 1 iter  *3 '; then
    kill -TERM "$(awk '$1 == 0 { print $2 }' "$WORK/plain.pids")"
    bg_end plain
    check "SIGTERM without --checkpoint: the run ends (not 0, not 75), no output, no checkpoint" \
        sh -c "[ '$RC' != 0 ] && [ '$RC' != 75 ] && [ '$RC' != hang ] &&
               [ ! -e '$WORK/plain.m.h5' ] && [ ! -e '$WORK/plain.a.h5' ] &&
               ! ls '$WORK'/plain.*.tmp-* >/dev/null 2>&1 && ! grep -q checkpoint '$WORK/plain.err'"
else
    bg_end plain
    ok "SIGTERM without --checkpoint # SKIP the run ended before the signal could be sent"
fi
finish
