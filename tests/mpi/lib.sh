# tests/mpi/lib.sh: helpers for the MPI integration tests (sourced, POSIX sh + bash-isms avoided).
# Every test prints TAP ("ok N - ..."); each mpiexec runs under a timeout so a hang is a failure.
#
#   ranks                 the rank counts to test (ADK_TEST_RANKS, default "1 2 3 4")
#   run_np N CMD...       mpiexec --oversubscribe -n N CMD under the timeout
#   check DESC CMD...     ok if CMD succeeds; its output becomes TAP comments otherwise
#   expect_fail N CODE PATTERN OUT -- CMD...
#                         CMD on N ranks must exit with CODE, print exactly one "prog: " message
#                         line containing PATTERN on stderr, and leave neither OUT nor OUT.tmp-*
#   same_dsets F1 F2 D... bitwise equality of datasets D in two files
#   finish                print the plan and exit (non-zero if anything failed)

set -u

: "${ADK_BUILDDIR:?ADK_BUILDDIR must point at the build tree (make check sets it)}"
: "${ADK_SRCDIR:?ADK_SRCDIR must point at the source tree}"
ADK_MPIEXEC=${ADK_MPIEXEC:-mpiexec}
ADK_TEST_RANKS=${ADK_TEST_RANKS:-"1 2 3 4"}
ADK_TIMEOUT=${ADK_TIMEOUT:-180}
ADK_PYTHON3=${ADK_PYTHON3:-/usr/bin/python3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# ob1 over shared memory: UCX's start-up would add about 0.2 s to each of the tests' launches.
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
# A failing job's ranks have all passed MPI_Finalize: no need to wait before killing them.
export OMPI_MCA_odls_base_sigkill_timeout=0

BIN=$ADK_BUILDDIR/apps
H5CMP=$ADK_BUILDDIR/tests/tools/adk-h5cmp
FIX=$ADK_SRCDIR/tests/fixtures

mkdir -p "$ADK_BUILDDIR/tests/work"
WORK=$(mktemp -d "$ADK_BUILDDIR/tests/work/$(basename "$0" .sh).XXXXXX")
if [ -z "${ADK_KEEP:-}" ]; then
    trap 'rm -rf "$WORK"' EXIT
fi

_tap_n=0
_tap_fail=0

ranks() {
    echo "$ADK_TEST_RANKS"
}
# The rank count whose outputs every other one must equal bit for bit: the first one listed
# (1 in make check; 3 in check-sanitize, which runs only 3).
R1=$(echo $ADK_TEST_RANKS | cut -d' ' -f1)

ok() {
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n - $*"
}

notok() {
    _tap_n=$((_tap_n + 1))
    _tap_fail=$((_tap_fail + 1))
    echo "not ok $_tap_n - $*"
}

# Show a file as TAP comments (for diagnosis of a failure).
comment_file() {
    [ -f "$1" ] && sed -e 's/^/# /' "$1" | head -n 40
    return 0
}

# Under the sanitizers (check-sanitize) LeakSanitizer needs whole allocation stacks
# (fast_unwind_on_malloc=0, Makefile.am), and the slow unwinder at every malloc of MPI_Init is most
# of the pass's CPU. So one rank of every job checks for leaks and the others check memory errors
# and undefined behaviour only (fast unwinding, no leak check): rank 0, which also writes the
# outputs and the messages, or with ADK_SAN_LEAK_RANK=last the highest rank (units.sh: the unit
# suites also run on one rank, leak-checked, so their runs on several ranks check a non-root rank).
_SANWRAP=""
if [ "${ADK_SANITIZED:-0}" = 1 ]; then
    _SANWRAP=$WORK/.sanrank.sh
    if [ "${ADK_SAN_LEAK_RANK:-0}" = last ]; then
        _leaker='$((${OMPI_COMM_WORLD_SIZE:-1} - 1))'
    else
        _leaker=0
    fi
    printf '%s\n' '#!/bin/sh' "if [ \"\${OMPI_COMM_WORLD_RANK:-0}\" != \"$_leaker\" ]; then" \
        '    ASAN_OPTIONS="${ASAN_OPTIONS:-}:fast_unwind_on_malloc=1:detect_leaks=0"' \
        '    export ASAN_OPTIONS' 'fi' 'exec "$@"' >"$_SANWRAP"
    chmod +x "$_SANWRAP"
fi

run_np() {
    _np=$1
    shift
    timeout -k 10 "$ADK_TIMEOUT" "$ADK_MPIEXEC" --oversubscribe -n "$_np" $_SANWRAP "$@"
}

check() {
    _desc=$1
    shift
    if "$@" >"$WORK/.check.out" 2>&1; then
        ok "$_desc"
    else
        notok "$_desc"
        comment_file "$WORK/.check.out"
    fi
}

# expect_fail NP CODE PATTERN OUTFILE -- CMD...
expect_fail() {
    _np=$1
    _code=$2
    _pat=$3
    _out=$4
    shift 5
    run_np "$_np" "$@" >"$WORK/.ef.out" 2>"$WORK/.ef.err"
    _rc=$?
    _why=""
    if [ "$_rc" = 124 ] || [ "$_rc" = 137 ]; then
        _why="timed out (hang)"
    elif [ "$_rc" != "$_code" ]; then
        _why="exit code $_rc, expected $_code"
    fi
    # our own message lines look like "adkit-xxx: ..." (mpiexec adds its own notice, not counted)
    _nmsg=$(grep -c '^adkit-[a-z0-9-]*: ' "$WORK/.ef.err")
    if [ -z "$_why" ] && [ "$_nmsg" != 1 ]; then
        _why="$_nmsg message lines, expected exactly 1"
    fi
    if [ -z "$_why" ] && ! grep '^adkit-[a-z0-9-]*: ' "$WORK/.ef.err" | grep -q -- "$_pat"; then
        _why="message does not contain '$_pat'"
    fi
    if [ -z "$_why" ] && [ "$_out" != "-" ]; then
        if [ -e "$_out" ]; then
            _why="output $_out was left behind"
        elif ls "$_out".tmp-* >/dev/null 2>&1; then
            _why="temporary $_out.tmp-* was left behind"
        fi
    fi
    if [ -z "$_why" ]; then
        ok "np=$_np rejects: $_pat"
    else
        notok "np=$_np rejects: $_pat ($_why)"
        comment_file "$WORK/.ef.err"
    fi
}

# Bitwise equality of datasets in two files.
same_dsets() {
    _f1=$1
    _f2=$2
    shift 2
    for _d in "$@"; do
        "$H5CMP" cmp "$_f1" "$_d" "$_f2" "$_d" || return 1
    done
    return 0
}

# Value of an attribute (numbers printed with %.17g).
h5attr() {
    "$H5CMP" attr "$1" "$2" "$3"
}

# --- jobs in the background, for tests that signal a running job (ckpt.sh, tsne_ckpt.sh) -------
# bg NAME NP CMD...: mpiexec in the background (BG), ranks' pids in $WORK/NAME.pids; each
# iteration of a program with --checkpoint takes at least 10 ms (ADK_CKPT_TEST_DELAY) so a signal
# lands mid-run
bg() {
    _n=$1
    _np=$2
    shift 2
    _wrap=$WORK/rankpid.sh
    if [ ! -x "$_wrap" ]; then
        printf '#!/bin/sh\necho "${OMPI_COMM_WORLD_RANK:-x} $$" >>"$ADK_CKPT_PIDS"\nexec "$@"\n' \
            >"$_wrap"
        chmod +x "$_wrap"
    fi
    : >"$WORK/$_n.pids"
    ADK_CKPT_PIDS=$WORK/$_n.pids ADK_CKPT_TEST_DELAY=0.01 \
        "$ADK_MPIEXEC" --oversubscribe -n "$_np" "$_wrap" $_SANWRAP "$@" >"$WORK/$_n.out" \
        2>"$WORK/$_n.err" &
    BG=$!
}
# wait_line FILE PATTERN: until PATTERN shows in FILE (or BG ended; 60 s at most)
wait_line() {
    _i=0
    while [ $_i -lt 600 ] && ! grep -q -- "$2" "$1" 2>/dev/null && kill -0 "$BG" 2>/dev/null; do
        sleep 0.1
        _i=$((_i + 1))
    done
    grep -q -- "$2" "$1" 2>/dev/null && kill -0 "$BG" 2>/dev/null
}
# bg_end NAME: wait for BG (60 s at most, then kill it and its ranks: RC=hang)
bg_end() {
    _i=0
    while [ $_i -lt 600 ] && kill -0 "$BG" 2>/dev/null; do
        sleep 0.1
        _i=$((_i + 1))
    done
    if kill -0 "$BG" 2>/dev/null; then
        kill -KILL "$BG" $(awk '{ print $2 }' "$WORK/$1.pids") 2>/dev/null
        wait "$BG" 2>/dev/null
        RC=hang
    else
        wait "$BG"
        RC=$?
    fi
}
# signalled NAME DESC CODE PATTERN: the job ended with CODE, PATTERN in its one message
signalled() {
    _m=$(grep -c '^adkit-[a-z0-9-]*: ' "$WORK/$1.err")
    if [ "$RC" = "$3" ] && [ "$_m" = 1 ] && grep -q -- "$4" "$WORK/$1.err"; then
        ok "$2: exit $3, one message '$4'"
    else
        notok "$2: exit $RC (expected $3), $_m message lines (expected 1 with '$4')"
        comment_file "$WORK/$1.err"
    fi
}

finish() {
    echo "1..$_tap_n"
    [ "$_tap_fail" = 0 ]
    exit $?
}
