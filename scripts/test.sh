#!/bin/bash
# scripts/test.sh: THE test command (README; CI runs it through .ci/run). On a fresh Debian 12
# machine or a second time on the same one:
#   setup           scripts/setup.sh: packages, autoreconf, configure --enable-werror, build
#   check           make check: unit suites + MPI integration tests at 1-4 ranks
#   check-sanitize  make check-sanitize: ASan+UBSan build of its own, tests at 3 ranks
#   check-format    make check-format: clang-format over src/ apps/ tests/
#   distcheck       make distcheck (tarball, read-only VPATH build, tests, install, distclean):
#                   the unit suites and three MPI tests at ADK_DISTCHECK_RANKS ranks (default 1);
#                   then dist-files: every tracked file the build and tests read is in the tarball;
#                   ADK_DISTCHECK=0 skips both
#   paper           make -C paper (from the source tree): the paper's generator reads
#                   experiments/results/ and latexmk builds paper/adkit.pdf; points: the build, a
#                   PDF file, at least ADK_PAPER_MIN_PAGES pages (default 6)
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
# dist_files: every file git tracks under the folders the build and the tests read is in the
# release tarball (one point per file; a missing one fails). This is what running every MPI test
# again inside distcheck used to prove, in seconds instead of minutes.
dist_files() {
    local tarball pass=0 fail=0 f t0
    t0=$(date +%s)
    tarball=$(ls "$ADK_BUILD"/adkit-*.tar.gz 2>/dev/null | head -n 1)
    if [ -z "$tarball" ] || ! git -C "$ADK_TOP" rev-parse --git-dir >/dev/null 2>&1; then
        echo "=== dist-files: no tarball or no git checkout: not checked ==="
        return 0
    fi
    tar tzf "$tarball" | sed 's|^[^/]*/||' | sort >"$logs/dist-files.tar"
    for f in $(git -C "$ADK_TOP" ls-files src apps tests mk scripts docs paper experiments/data \
        experiments/digits experiments/scaling experiments/results); do
        if grep -qxF -- "$f" "$logs/dist-files.tar"; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "dist-files: $f is tracked but not in $(basename "$tarball")"
        fi
    done
    echo "=== dist-files: $pass passed, $fail failed ==="
    record dist-files 0 "$pass" "$fail" $(($(date +%s) - t0))
}

if [ "${ADK_DISTCHECK:-1}" != 0 ]; then
    # The tarball's own build runs the unit suites and the MPI tests that read the most shipped
    # files (fixtures, the study's data and scripts, the scaling model); every test already ran in
    # check, and dist-files proves the tarball holds every file they read.
    dist_tests="$(cd "$ADK_TOP" && ls tests/unit/test_adk_*.c | sed 's/\.c$//' | tr '\n' ' ')"
    dist_tests="$dist_tests tests/mpi/kmeans.sh tests/mpi/study.sh tests/mpi/scaling.sh"
    run_stage distcheck -j"$jobs" distcheck ADK_TEST_RANKS="${ADK_DISTCHECK_RANKS:-1}" \
        TESTS="$dist_tests"
    dist_files
fi

# paper: the paper builds from the recorded results (paper/Makefile: generate.py, then latexmk).
# Three points: make -C paper succeeded; paper/adkit.pdf is a PDF; it has at least
# ADK_PAPER_MIN_PAGES pages (pdfinfo when installed, else the page count pdflatex logged).
paper_stage() {
    local t0 log=$logs/paper.log pdf=$ADK_TOP/paper/adkit.pdf pass=0 fail=0 rc=0 pages=""
    local min=${ADK_PAPER_MIN_PAGES:-6}
    t0=$(date +%s)
    echo
    echo "=== paper: make -C paper ==="
    if make -C "$ADK_TOP/paper" --no-print-directory 2>&1 | tee "$log"; then
        pass=$((pass + 1))
        echo "ok - make -C paper"
    else
        rc=1
        fail=$((fail + 1))
        echo "not ok - make -C paper (log: $log)"
    fi
    if [ -f "$pdf" ] && [ "$(head -c 5 "$pdf")" = "%PDF-" ]; then
        pass=$((pass + 1))
        echo "ok - paper/adkit.pdf is a PDF"
    else
        fail=$((fail + 1))
        echo "not ok - paper/adkit.pdf is a PDF"
    fi
    if command -v pdfinfo >/dev/null 2>&1; then
        pages=$(pdfinfo "$pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
    elif [ -f "$ADK_TOP/paper/adkit.log" ]; then
        pages=$(sed -n 's/^Output written on adkit\.pdf (\([0-9]*\) pages.*/\1/p' \
            "$ADK_TOP/paper/adkit.log" | tail -n 1)
    fi
    if [ -n "$pages" ] && [ "$pages" -ge "$min" ]; then
        pass=$((pass + 1))
        echo "ok - paper/adkit.pdf has $pages pages (at least $min)"
    else
        fail=$((fail + 1))
        echo "not ok - paper/adkit.pdf has ${pages:-no known number of} pages (at least $min)"
    fi
    local secs=$(($(date +%s) - t0))
    echo "=== paper: $pass passed, $fail failed, exit $rc, ${secs}s ==="
    record paper "$rc" "$pass" "$fail" "$secs"
}
paper_stage

summary
[ "$total_fail" = 0 ]
