#!/bin/sh
# Run every CUnit suite on several ranks (each is already run on one rank by make check):
# one TAP line per suite and rank count; a failing case or a hang fails it.
# Under the sanitizers the highest rank checks for leaks (lib.sh; the one-rank runs checked rank 0).
ADK_SAN_LEAK_RANK=last
. "$ADK_SRCDIR/tests/mpi/lib.sh"

# suite NP LABEL PROGRAM: one TAP line for PROGRAM's cases on NP ranks.
suite() {
    run_np "$1" "$3" >"$WORK/u.out" 2>"$WORK/u.err"
    rc=$?
    plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$WORK/u.out")
    nok=$(grep -c '^ok ' "$WORK/u.out")
    if [ "$rc" = 0 ] && [ -n "$plan" ] && [ "$nok" = "$plan" ]; then
        ok "$2 ($nok cases)"
    else
        notok "$2 (rc=$rc, $nok of ${plan:-?} cases passed)"
        grep -v '^ok ' "$WORK/u.out" | sed 's/^/# /' | head -n 30
        comment_file "$WORK/u.err"
    fi
}

for t in "$ADK_BUILDDIR"/tests/unit/test_adk_*; do
    case $t in *.o | *.log | *.trs) continue ;; esac
    [ -x "$t" ] || continue
    name=$(basename "$t")
    for np in $(ranks); do
        [ "$np" = 1 ] && continue
        suite "$np" "$name on $np ranks" "$t"
    done
done

# The suites that move rows or sums between ranks, with every message cut into 13-byte pieces
# (adk_msg, as messages beyond 1 GiB are): the same cases must pass.
export ADK_MSG_PIECE=13
for name in test_adk_ring test_adk_score test_adk_repro test_adk_metrics test_adk_moments; do
    [ -x "$ADK_BUILDDIR/tests/unit/$name" ] || continue
    suite 3 "$name on 3 ranks in 13-byte messages" "$ADK_BUILDDIR/tests/unit/$name"
done
unset ADK_MSG_PIECE
finish
