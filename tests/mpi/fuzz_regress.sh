#!/bin/sh
# Every reproducer of tests/fuzz/regress/ (inputs that once crashed a parser under the libFuzzer
# harnesses of make fuzz) replayed through the gcc-built programs: each run must end by itself
# with a documented exit code (0-4: no signal, no hang, no internal error), and a failure with
# exactly one message line. Reproducers with a known cause must give its message.
#   csv/   adkit-kmeans on FILE.csv, without and with --label-col, at every rank count
#   h5/    adkit-kmeans on FILE.h5:/data (the row reader) and adkit-metrics --model FILE.h5
#          (the model reader: /centroids, attributes) at the first and last rank count
#   spec/  adkit-kmeans with the file's text as its INPUT spec
#   cli/   adkit-kmeans with the file's lines (or NUL-separated pieces) as its arguments
. "$ADK_SRCDIR/tests/mpi/lib.sh"

REG=$ADK_SRCDIR/tests/fuzz/regress
RUN=$WORK/run
mkdir -p "$RUN"
RLAST=$(echo $ADK_TEST_RANKS | awk '{print $NF}')
RANKS_H5=$R1
[ "$RLAST" = "$R1" ] || RANKS_H5="$R1 $RLAST"

# run_clean DESC PATTERN NP CMD...: CMD (run in $RUN) ends with exit 0-4; if it fails, with one
# "adkit-x: " line on stderr, which contains PATTERN when PATTERN is not empty (and then the run
# must fail).
run_clean() {
    _desc=$1
    _pat=$2
    _np=$3
    shift 3
    (cd "$RUN" && run_np "$_np" "$@") >"$WORK/.rc.out" 2>"$WORK/.rc.err"
    _rc=$?
    _why=""
    case $_rc in
    0 | 1 | 2 | 3 | 4) ;;
    124 | 137) _why="timed out (hang)" ;;
    *) _why="exit code $_rc (crash or internal error)" ;;
    esac
    _nmsg=$(grep -c '^adkit-[a-z0-9-]*: ' "$WORK/.rc.err")
    if [ -z "$_why" ] && [ "$_rc" != 0 ] && [ "$_nmsg" != 1 ]; then
        _why="exit code $_rc with $_nmsg message lines, expected 1"
    fi
    if [ -z "$_why" ] && [ -n "$_pat" ]; then
        if [ "$_rc" = 0 ]; then
            _why="succeeded, expected a failure with '$_pat'"
        elif ! grep '^adkit-[a-z0-9-]*: ' "$WORK/.rc.err" | grep -q -- "$_pat"; then
            _why="message does not contain '$_pat'"
        fi
    fi
    if [ -z "$_why" ]; then
        ok "np=$_np $_desc (exit $_rc)"
    else
        notok "np=$_np $_desc ($_why)"
        comment_file "$WORK/.rc.err"
    fi
    rm -f "$RUN"/m.h5 "$RUN"/m.h5.tmp-* 2>/dev/null
}

# The message a known reproducer must give (empty: any clean outcome).
expected() { # expected PROG FILE
    case "$1:$(basename "$2")" in
    kmeans:rows_wrap_* | kmeans:small_wrap_*) echo "cannot be held in memory" ;;
    metrics:attr_array_*) echo "is not a single value" ;;
    metrics:*_wrap_*) echo "too large" ;;
    esac
}

n=0
if [ -d "$REG/csv" ]; then
    for f in $(find "$REG/csv" -type f ! -name 'README*' | LC_ALL=C sort); do
        n=$((n + 1))
        cp "$f" "$RUN/in.csv"
        for np in $(ranks); do
            run_clean "kmeans csv/$(basename "$f")" "" "$np" \
                "$BIN/adkit-kmeans" --quiet --k 1 --out m.h5 in.csv
            run_clean "kmeans --label-col 0 csv/$(basename "$f")" "" "$np" \
                "$BIN/adkit-kmeans" --quiet --k 1 --out m.h5 --label-col 0 in.csv
        done
    done
fi
if [ -d "$REG/h5" ]; then
    for f in $(find "$REG/h5" -type f ! -name 'README*' | LC_ALL=C sort); do
        n=$((n + 1))
        cp "$f" "$RUN/in.h5"
        for np in $RANKS_H5; do
            run_clean "kmeans h5/$(basename "$f")" "$(expected kmeans "$f")" "$np" \
                "$BIN/adkit-kmeans" --quiet --k 1 --out m.h5 in.h5:/data
            run_clean "metrics --model h5/$(basename "$f")" "$(expected metrics "$f")" "$np" \
                "$BIN/adkit-metrics" --quiet --model in.h5 in.h5:/data
        done
    done
fi
if [ -d "$REG/spec" ]; then
    for f in $(find "$REG/spec" -type f ! -name 'README*' | LC_ALL=C sort); do
        n=$((n + 1))
        run_clean "kmeans spec/$(basename "$f")" "" "$R1" \
            "$BIN/adkit-kmeans" --quiet --k 1 --out m.h5 "$(tr -d '\000' <"$f")"
    done
fi
if [ -d "$REG/cli" ]; then
    for f in $(find "$REG/cli" -type f ! -name 'README*' | LC_ALL=C sort); do
        n=$((n + 1))
        # one argument per line or NUL-separated piece, as the harness splits them
        tr '\000' '\n' <"$f" >"$WORK/.args"
        set --
        while IFS= read -r a || [ -n "$a" ]; do
            set -- "$@" "$a"
        done <"$WORK/.args"
        run_clean "kmeans cli/$(basename "$f")" "" "$R1" "$BIN/adkit-kmeans" "$@"
    done
fi
[ "$n" -gt 0 ] || notok "no reproducers found under $REG"
finish
