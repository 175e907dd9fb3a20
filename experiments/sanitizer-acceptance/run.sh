#!/bin/bash
# Does `make check-sanitize` catch what it is for? For each of three deliberate bugs (a heap
# overflow, a signed integer overflow, a leak) planted in src/ of a COPY of the source tree, run
# `make check-sanitize` on the tests that reach the bug, and expect it to fail with the matching
# sanitizer report; then run the same tests on the unmodified copy and expect them to pass.
# The working tree is never modified.
#
#   experiments/sanitizer-acceptance/run.sh [OUT.md]
#
# Writes experiments/results/sanitizer-acceptance-<date>.md (or OUT.md). Takes ~10 minutes on
# 2 cores (four sanitizer builds).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/adk-env.sh"
date=$(date -u +%Y-%m-%d)
out=${1:-$ROOT/experiments/results/sanitizer-acceptance-$date.md}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/san-accept.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
TESTS="tests/unit/test_adk_part tests/unit/test_adk_repro"

# A clean copy of the tracked files as they are in the working tree, bootstrapped once.
mkdir -p "$WORK/pristine"
(cd "$ROOT" && git ls-files -z | xargs -0 cp --parents -t "$WORK/pristine")
(cd "$WORK/pristine" && mkdir -p m4 && autoreconf -fi >/dev/null 2>&1)

# plant NAME FILE PYTHON-REPLACEMENT: copy the pristine tree and change one line of src/FILE.
plant() {
    rm -rf "$WORK/$1" && cp -a "$WORK/pristine" "$WORK/$1"
    /usr/bin/python3 - "$WORK/$1/src/$2" "$3" "$4" <<'EOF'
import sys
path, old, new = sys.argv[1:4]
s = open(path).read()
assert s.count(old) == 1, f"{old!r} not found exactly once in {path}"
open(path, "w").write(s.replace(old, new))
EOF
}

# check NAME: make check-sanitize on TESTS in tree NAME; prints "rc" and keeps the log.
check() {
    mkdir -p "$WORK/$1/build"
    (cd "$WORK/$1/build" && ../configure >/dev/null 2>&1 &&
        make check-sanitize TESTS="$TESTS" SAN_RANKS=2 >"$WORK/$1.log" 2>&1) && echo 0 || echo $?
}

# first sanitizer report line of a case (from the test logs of the sanitizer build)
report() {
    cat "$WORK/$1"/build/_sanitize/build/tests/unit/*.log 2>/dev/null |
        grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' |
        sed -e 's/^==[0-9]*==//' -e "s#$WORK/$1/##g" | cut -c1-150
}

plant heap-overflow adk_repro.c 'a->buf = calloc(a->len, sizeof(int64_t));' \
    'a->buf = calloc(a->len - 1, sizeof(int64_t)); /* PLANTED: one slot short */'
plant signed-overflow adk_part.c '    align = adk_part_align(n, align);
    int64_t nb = (n + align - 1) / align;
    int64_t q = nb / size, rem = nb % size;
    int64_t b0' '    align = adk_part_align(n, align);
    int planted = size * 2147483647; /* PLANTED: int overflow for size > 1 */
    if (planted == 1) {
        return r;
    }
    int64_t nb = (n + align - 1) / align;
    int64_t q = nb / size, rem = nb % size;
    int64_t b0'
plant leak adk_repro.c '    free(a->inv);
' '    /* PLANTED: a->inv is never freed */
'

{
    echo "# Sanitizer acceptance: deliberate bugs make \`make check-sanitize\` fail"
    echo
    echo "- date (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- commit: $(git -C "$ROOT" rev-parse --short=12 HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src apps tests Makefile.am configure.ac || echo ' + uncommitted changes')"
    echo "- machine: $(nproc --all) cores, $(lscpu | sed -n 's/^Model name: *//p'), gcc $(gcc -dumpfullversion)"
    echo "- command: \`experiments/sanitizer-acceptance/run.sh\`: in a copy of the tracked files, one"
    echo "  planted bug per case, then \`make check-sanitize TESTS=\"$TESTS\" SAN_RANKS=2\`"
    echo
    echo "| case | planted in | make check-sanitize | first report |"
    echo "|---|---|---|---|"
} >"$WORK/report.md"

verdict=0
for c in heap-overflow signed-overflow leak pristine; do
    echo "case $c ..." >&2
    rc=$(check "$c")
    where=$(cd "$WORK" && diff -r pristine/src "$c/src" 2>/dev/null | sed -n 's/^diff -r pristine\/src\/\([^ ]*\) .*/src\/\1/p' | head -n 1)
    rep=$(report "$c")
    if [ "$c" = pristine ]; then
        want="passes"
        [ "$rc" = 0 ] || verdict=1
        where="(nothing)"
        rep=${rep:-none}
    else
        want="fails"
        [ "$rc" != 0 ] && [ -n "$rep" ] || verdict=1
    fi
    echo "| $c | $where | exit $rc (expected: $want) | \`$rep\` |" >>"$WORK/report.md"
done
{
    echo
    if [ "$verdict" = 0 ]; then
        echo "Result: every planted bug failed the sanitizer pass with its own report, and the"
        echo "unmodified copy passed. The planted bugs lived only in the temporary copies."
    else
        echo "Result: **FAILED**: a planted bug went unnoticed or the unmodified copy failed."
    fi
} >>"$WORK/report.md"
mkdir -p "$(dirname "$out")"
cp "$WORK/report.md" "$out"
cat "$out"
exit "$verdict"
