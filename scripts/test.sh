#!/bin/bash
# scripts/test.sh: THE test command (README; CI runs it through .ci/run). On a fresh Debian 12
# machine or a second time on the same one:
#   setup           scripts/setup.sh: packages, autoreconf, configure --enable-werror, build
#   check           make check: unit suites + MPI integration tests at 1-4 ranks
#   check-sanitize  make check-sanitize: ASan+UBSan build of its own, tests at 3 ranks
#   check-format    make check-format: clang-format over src/ apps/ tests/
#   distcheck       make distcheck (tarball, read-only VPATH build, tests, install, distclean),
#                   MPI tests at ADK_DISTCHECK_RANKS ranks (default 1); ADK_DISTCHECK=0 skips it
# Prints one line per stage (counts, seconds), then exactly one summary line "N passed, N failed".
# Exit status 0 only if every stage succeeded and no test failed. Stage logs: build/test-logs/.
set -eu
set -o pipefail

ADK_TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$ADK_TOP/scripts/adk-env.sh"

jobs=$(nproc)
logs=$ADK_BUILD/test-logs
t_start=$(date +%s)
total_pass=0
total_fail=0
stage_lines=""

# record STAGE RC PASS FAIL SECONDS [CPU]: add one stage to the totals and the stage summary. A
# stage that failed without any failing test (a build or configure error) counts as one failure.
record() {
    local stage=$1 rc=$2 pass=$3 fail=$4 secs=$5 cpu=${6:--} verdict=ok
    if [ "$rc" != 0 ]; then
        verdict="FAILED (exit $rc)"
        [ "$fail" -gt 0 ] || fail=1
    elif [ "$fail" -gt 0 ]; then
        verdict=FAILED
    fi
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    stage_lines="$stage_lines$(printf '%-15s %5d passed, %3d failed  %5ss wall %5ss cpu  %s' \
        "$stage" "$pass" "$fail" "$secs" "$cpu" "$verdict")
"
}

summary() {
    echo
    echo "=== test summary ($(($(date +%s) - t_start))s in all) ==="
    printf '%s' "$stage_lines"
    echo "$total_pass passed, $total_fail failed"
}

# Counts from an automake test-suite summary in a log: "# PASS:  N", "# FAIL:  N", ...
suite_count() {
    sed -e 's/\x1b\[[0-9;]*m//g' "$2" | sed -n "s/^# $1: *\([0-9][0-9]*\)\$/\1/p" |
        awk '{ s += $1 } END { print s + 0 }'
}

# run_stage NAME MAKE-ARGS...: run make in the build tree, output to the terminal and a log.
run_stage() {
    local name=$1 log=$logs/$1.log t0 rc pass fail
    shift
    echo
    echo "=== $name: make $* ==="
    t0=$(date +%s)
    # CPU seconds (user+sys of everything the stage ran) go to $log.cpu: wall time depends on load.
    local TIMEFORMAT='%U %S'
    if { time make -C "$ADK_BUILD" --no-print-directory AM_COLOR_TESTS=no "$@" 2>&1 |
        tee "$log"; } 2>"$log.cpu"; then
        rc=0
    else
        rc=$?
    fi
    local cpu
    cpu=$(awk '{ printf "%d", $1 + $2 }' "$log.cpu" 2>/dev/null || echo "?")
    if [ "$name" = check-format ]; then
        pass=$(grep -c '^ok ' "$log" || true)
        fail=$(grep -c '^not ok ' "$log" || true)
    else
        pass=$(suite_count PASS "$log")
        fail=$(($(suite_count FAIL "$log") + $(suite_count ERROR "$log") + $(suite_count XPASS "$log")))
    fi
    local secs=$(($(date +%s) - t0))
    echo "=== $name: $pass passed, $fail failed, exit $rc, ${secs}s (cpu ${cpu}s) ==="
    record "$name" "$rc" "$pass" "$fail" "$secs" "$cpu"
}

echo "=== setup: scripts/setup.sh ==="
t0=$(date +%s)
if "$ADK_TOP/scripts/setup.sh"; then
    record setup 0 0 0 $(($(date +%s) - t0))
else
    record setup 1 0 1 $(($(date +%s) - t0))
    summary
    exit 1
fi
mkdir -p "$logs"

run_stage check -j"$jobs" check
run_stage check-sanitize -j"$jobs" check-sanitize
run_stage check-format check-format
if [ "${ADK_DISTCHECK:-1}" != 0 ]; then
    run_stage distcheck -j"$jobs" distcheck ADK_TEST_RANKS="${ADK_DISTCHECK_RANKS:-1}"
fi

summary
[ "$total_fail" = 0 ]
