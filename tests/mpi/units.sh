#!/bin/sh
# Run every CUnit suite on several ranks (each is already run on one rank by make check):
# one TAP line per suite and rank count; a failing case or a hang fails it.
. "$ADK_SRCDIR/tests/mpi/lib.sh"

for t in "$ADK_BUILDDIR"/tests/unit/test_adk_*; do
    case $t in *.o | *.log | *.trs) continue ;; esac
    [ -x "$t" ] || continue
    name=$(basename "$t")
    for np in $(ranks); do
        [ "$np" = 1 ] && continue
        run_np "$np" "$t" >"$WORK/u.out" 2>"$WORK/u.err"
        rc=$?
        plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$WORK/u.out")
        nok=$(grep -c '^ok ' "$WORK/u.out")
        if [ "$rc" = 0 ] && [ -n "$plan" ] && [ "$nok" = "$plan" ]; then
            ok "$name on $np ranks ($nok cases)"
        else
            notok "$name on $np ranks (rc=$rc, $nok of ${plan:-?} cases passed)"
            grep -v '^ok ' "$WORK/u.out" | sed 's/^/# /' | head -n 30
            comment_file "$WORK/u.err"
        fi
    done
done
finish
