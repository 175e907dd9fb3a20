#!/bin/sh
# Fault injection at 2 and 3 ranks (those of ADK_TEST_RANKS, or ADK_FAULT_RANKS): a rank killed
# mid-iteration and mid-write, a full disk (with and without --force over a good file), a
# read-only output directory, damaged and malformed HDF5 inputs, SIGTERM and SIGINT to mpiexec.
# Every case: the documented exit code, at most (for signals) or exactly one "prog: message"
# line, a bounded end (no hang), and nothing left in the output directory (no output, no
# OUT.tmp-*, adk-*.tmp or *.old-*; a replaced file byte-identical). The disk and read-only cases
# mount small tmpfs file systems when allowed (root); otherwise a no-root variant runs or the case
# is skipped, as the TAP comments say.
. "$ADK_SRCDIR/tests/mpi/lib.sh"

# What is tested here is how processes end, not memory errors: the sanitizer pass (which runs the
# same programs through every other test) skips it, to keep the test command within its time.
if [ "${ADK_SANITIZED:-0}" = 1 ]; then
    ok "fault injection # SKIP in the sanitizer build"
    finish
fi

# Ranks that already agreed to stop are not kept waiting between SIGTERM and SIGKILL.
OMPI_MCA_odls_base_sigkill_timeout=0
export OMPI_MCA_odls_base_sigkill_timeout
# every run here ends quickly or is a hang
ADK_TIMEOUT=60

GEN=$BIN/adkit-gen
KMEANS=$BIN/adkit-kmeans
THRESHOLD=$BIN/adkit-threshold
SCORE=$BIN/adkit-score
GAUSS=$BIN/adkit-gauss
F=$FIX/faults

# The rank counts of ADK_TEST_RANKS that are 2 or 3 (make check: 2 3; check-sanitize: 2 3);
# ADK_FAULT_RANKS overrides the choice.
nps=""
for np in ${ADK_FAULT_RANKS:-$(ranks)}; do
    if [ -n "${ADK_FAULT_RANKS:-}" ] || { [ "$np" -ge 2 ] && [ "$np" -le 3 ]; }; then
        nps="$nps $np"
    fi
done
if [ -z "$nps" ]; then
    echo "1..0 # SKIP no rank count of 2 or 3 in ADK_TEST_RANKS='$ADK_TEST_RANKS'"
    exit 0
fi
first=$(echo $nps | cut -d' ' -f1)

# --- mounts: removed at exit, also when a case fails or the script is interrupted ------------
MOUNTS=""
FULL=$WORK/full # case 2: a small file system (tmpfs), filled
RO=$WORK/ro     # case 3: a read-only directory
cleanup() {
    for _m in $MOUNTS; do
        umount "$_m" 2>/dev/null || umount -l "$_m" 2>/dev/null
    done
    [ ! -d "$RO" ] || chmod 755 "$RO" 2>/dev/null # the no-root read-only variant
    [ -n "${ADK_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# try_mount DIR OPTIONS: a tmpfs at DIR (made here); 0 when mounted. ADK_FAULT_NOMOUNT=1 tries
# the variants for machines where mounting is not allowed.
try_mount() {
    mkdir -p "$1"
    [ -z "${ADK_FAULT_NOMOUNT:-}" ] || return 1
    if mount -t tmpfs -o "$2" tmpfs "$1" 2>/dev/null; then
        MOUNTS="$1 $MOUNTS"
        return 0
    fi
    return 1
}

# --- helpers ----------------------------------------------------------------------------------
# TODO points: a known bug, reported; not counted as a failure ("ok ... # TODO" is an unexpected
# pass, which automake reports as an error: then the TODO must go).
todo_check() {
    _desc=$1
    _why=$2
    shift 2
    _tap_n=$((_tap_n + 1))
    if "$@" >"$WORK/.todo.out" 2>&1; then
        echo "ok $_tap_n - $_desc # TODO $_why"
    else
        echo "not ok $_tap_n - $_desc # TODO $_why"
        comment_file "$WORK/.todo.out"
    fi
}

skip() {
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n - $1 # SKIP $2"
}

# Our message lines ("adkit-xxx: ..."); Open MPI's notices are not counted.
nmsg() {
    grep -c '^adkit-[a-z0-9-]*: ' "$1"
}

# only_files DIR NAME...: DIR holds exactly these names (nothing else left behind)
only_files() {
    _dir=$1
    shift
    _want=$(for _f in "$@"; do echo "$_f"; done | LC_ALL=C sort | tr '\n' ' ')
    _have=$(ls -A "$_dir" | LC_ALL=C sort | tr '\n' ' ')
    [ "$_have" = "$_want" ] && return 0
    echo "in $_dir: '$_have', expected '$_want'"
    return 1
}

# fault NP CODE PATTERN NAME DIR KEEP -- CMD...
# CMD on NP ranks must exit with CODE within the timeout, print exactly one message line holding
# PATTERN, and leave DIR holding exactly the files named in KEEP (space separated, "" for none).
# With FAULT_TODO set, the result is a TODO point with that reason; with FAULT_HANG_TODO set, a
# hang (only) is a TODO point with that reason (a known hang that not every rank count shows).
fault() {
    _np=$1
    _code=$2
    _pat=$3
    _name=$4
    _dir=$5
    _keep=$6
    shift 7
    run_np "$_np" "$@" >"$WORK/$_name.out" 2>"$WORK/$_name.err"
    _rc=$?
    _why=""
    if [ "$_rc" = 124 ] || [ "$_rc" = 137 ]; then
        _why="timed out after ${ADK_TIMEOUT}s (hang)"
    elif [ "$_rc" != "$_code" ]; then
        _why="exit code $_rc, expected $_code"
    fi
    _n=$(nmsg "$WORK/$_name.err")
    if [ -z "$_why" ] && [ "$_n" != 1 ]; then
        _why="$_n message lines, expected exactly 1"
    fi
    if [ -z "$_why" ] && ! grep '^adkit-[a-z0-9-]*: ' "$WORK/$_name.err" | grep -q -- "$_pat"; then
        _why="message does not contain '$_pat'"
    fi
    if [ -z "$_why" ]; then
        # shellcheck disable=SC2086 # KEEP is a list of names
        _left=$(only_files "$_dir" $_keep) || _why="left behind: $_left"
    fi
    _desc="np=$_np $_name: exit $_code, one message '$_pat', nothing left"
    _todo=${FAULT_TODO:-}
    case $_why in
    *"(hang)") [ -z "${FAULT_HANG_TODO:-}" ] || _todo=$FAULT_HANG_TODO ;;
    esac
    if [ -n "$_todo" ]; then
        _tap_n=$((_tap_n + 1))
        if [ -z "$_why" ]; then
            echo "ok $_tap_n - $_desc # TODO $_todo"
        else
            echo "not ok $_tap_n - $_desc ($_why) # TODO $_todo"
            comment_file "$WORK/$_name.err"
        fi
    elif [ -z "$_why" ]; then
        ok "$_desc"
    else
        notok "$_desc ($_why)"
        comment_file "$WORK/$_name.err"
    fi
}

# same_file GOOD FILE: FILE is byte-identical to GOOD
same_file() {
    cmp "$1" "$2"
}

# Bounded waits in steps of 0.1 s. wait_for N CMD...: until CMD succeeds (0) or N steps (1).
wait_for() {
    _steps=$1
    shift
    _i=0
    while [ "$_i" -lt "$_steps" ]; do
        "$@" 2>/dev/null && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

alive() {
    kill -0 "$1" 2>/dev/null
}

dead() {
    ! kill -0 "$1" 2>/dev/null
}

tmp_exists() {
    ls "$1".tmp-* >/dev/null 2>&1
}

# for wait_for: the background job has written its temporary file, or ended
tmp_or_end() {
    tmp_exists "$1" || dead "$BG"
}

# for wait_for: the background k-means job has printed iteration 3, or ended
iter3_or_end() {
    grep -q ' iter  *3 ' "$1" || dead "$BG"
}

# A wrapper that records "RANK PID" (the pid the program keeps: exec) for the kill cases.
WRAP=$WORK/rankpid.sh
cat >"$WRAP" <<'EOF'
#!/bin/sh
echo "${OMPI_COMM_WORLD_RANK:-x} $$" >>"$ADK_FAULT_PIDS"
exec "$@"
EOF
chmod +x "$WRAP"

# bg_start NAME CMD...: mpiexec in the background (pid in BG), rank pids in $WORK/NAME.pids
bg_start() {
    _name=$1
    shift
    : >"$WORK/$_name.pids"
    # Open MPI's default grace between SIGTERM and SIGKILL (lib.sh sets 0, which kills a rank
    # before its SIGTERM handler has removed the temporary files)
    ADK_FAULT_PIDS=$WORK/$_name.pids OMPI_MCA_odls_base_sigkill_timeout=1 \
        "$ADK_MPIEXEC" --oversubscribe -n "$@" \
        >"$WORK/$_name.out" 2>"$WORK/$_name.err" &
    BG=$!
}

rank_pid() {
    awk -v r="$2" '$1 == r { print $2 }' "$WORK/$1.pids"
}

# bg_end NAME LIMIT: wait at most LIMIT s for BG to end; RC its exit status, or "hang" (then
# mpiexec and the ranks we started are killed)
bg_end() {
    if wait_for "$(($2 * 10))" dead "$BG"; then
        wait "$BG"
        RC=$?
    else
        RC=hang
        kill -KILL "$BG" 2>/dev/null
        for _p in $(awk '{ print $2 }' "$WORK/$1.pids"); do
            kill -KILL "$_p" 2>/dev/null
        done
        wait "$BG" 2>/dev/null
    fi
}

# --- shared inputs, made once at the first rank count ------------------------------------------
S=$WORK/shared
mkdir -p "$S"
t0=$(date +%s)
setup_ok=1
# 400000 x 16 for the k-means run that is killed mid-iteration (K = 32, --tol 0: ~300 iterations)
run_np "$first" "$GEN" blobs --n 400000 --d 16 --centers 8 --seed 11 --out "$S/long.h5" \
    --quiet >"$WORK/setup.out" 2>&1 || setup_ok=0
# 300000 x 2: outputs per row larger than the 2 MiB disk (assign 3.6 MB, scores 3.9 MB, gauss
# scores 2.7 MB); a k-means model (with and without thresholds) and a Gaussian model of it
run_np "$first" "$GEN" blobs --n 300000 --d 2 --centers 3 --seed 12 --out "$S/big.h5" \
    --quiet >>"$WORK/setup.out" 2>&1 || setup_ok=0
run_np "$first" "$KMEANS" --k 3 --seed 0 --out "$S/model_nothr.h5" --assign "$S/assign.h5" \
    --quiet "$S/big.h5:/data" >>"$WORK/setup.out" 2>&1 || setup_ok=0
cp "$S/model_nothr.h5" "$S/model.h5" || setup_ok=0
run_np "$first" "$THRESHOLD" --model "$S/model.h5" --assign "$S/assign.h5" --quiet \
    >>"$WORK/setup.out" 2>&1 || setup_ok=0
run_np "$first" "$GAUSS" fit --quiet "$S/big.h5:/data" "$S/gmodel.h5" \
    >>"$WORK/setup.out" 2>&1 || setup_ok=0
# a small valid HDF5 file: the "good output" a --force run must leave intact
run_np "$first" "$GEN" blobs --n 1000 --d 2 --seed 13 --out "$S/good.h5" --quiet \
    >>"$WORK/setup.out" 2>&1 || setup_ok=0
if [ "$setup_ok" = 1 ]; then
    ok "np=$first shared inputs made (gen, kmeans, threshold, gauss fit)"
else
    notok "np=$first shared inputs made (gen, kmeans, threshold, gauss fit)"
    comment_file "$WORK/setup.out"
    finish
fi
# A finished output takes the disk space of its size: the space reserved for the writes
# (fallocate, FALLOC_FL_KEEP_SIZE, data + 1/64 + 1 MiB) is released once the file is complete.
fits_its_size() {
    for _f in "$@"; do
        # shellcheck disable=SC2046
        set -- $(stat -c '%b %B %s' "$_f")
        if [ $(($1 * $2)) -gt $(($3 + 65536)) ]; then
            echo "$_f: $(($1 * $2)) bytes on disk for a size of $3"
            return 1
        fi
    done
    return 0
}
if : >"$S/probe" && fallocate -n -l 1048576 "$S/probe" 2>/dev/null; then
    check "finished outputs keep no reserved space past their end (model.h5, gmodel.h5, good.h5)" \
        fits_its_size "$S/model.h5" "$S/gmodel.h5" "$S/good.h5"
else
    skip "finished outputs keep no reserved space past their end" "no fallocate(2) on $S"
fi
rm -f "$S/probe"

# No-root inputs for case 4: a truncated file and a file that is not HDF5.
head -c $(($(stat -c %s "$F/inputs.h5") / 2)) "$F/inputs.h5" >"$S/truncated.h5"
printf 'this is not an HDF5 file\n1,2\n3,4\n' >"$S/not_hdf5.h5"

# --- mounts for cases 2 and 3 ------------------------------------------------------------------
disk=efbig
if try_mount "$FULL" size=2m; then
    disk=tmpfs
fi
ro=skip
ro_why=""
if [ "$(id -u)" = 0 ]; then
    if try_mount "$RO" size=1m && mount -o remount,ro "$RO" 2>/dev/null; then
        ro=tmpfs
    else
        ro_why="root ignores permissions and mounting a read-only tmpfs is not allowed here"
    fi
else
    mkdir -p "$RO" && chmod 555 "$RO" && ro="chmod"
fi
case $disk in
tmpfs) echo "# disk full: 2 MiB tmpfs at $FULL (filled with a filler file for the --force cases)" ;;
*) echo "# disk full: no tmpfs allowed; no-root variant: an output too large for the file system" ;;
esac
case $ro in
tmpfs) echo "# read-only directory: tmpfs remounted read-only at $RO" ;;
chmod) echo "# read-only directory: chmod 555 $RO (not root)" ;;
*) echo "# read-only directory: skipped ($ro_why)" ;;
esac

# fill DIR: a filler file takes every free block of the small tmpfs
fill() {
    dd if=/dev/zero of="$1/filler" bs=4096 >/dev/null 2>&1
    [ "$(df -P "$1" | awk 'NR == 2 { print $4 }')" = 0 ]
}

# refill NAME GOOD: FULL holds a byte copy of GOOD as NAME, and the filler (stops on failure)
refill() {
    rm -f "$FULL"/* && cp "$2" "$FULL/$1" && fill "$FULL"
}

echo "# shared inputs: $(($(date +%s) - t0)) s"
for np in $nps; do
    echo "# ---- $np ranks"
    t0=$(date +%s)

    # --- 1. one rank killed mid-iteration (kill -9 the last rank during Lloyd iterations) -----
    d=$WORK/c1-np$np
    mkdir -p "$d"
    n=kill_kmeans_np$np
    bg_start "$n" "$np" "$WRAP" "$KMEANS" --k 32 --max-iter 300 --tol 0 --seed 0 \
        --out "$d/model.h5" --assign "$d/assign.h5" "$S/long.h5:/data"
    victim=$((np - 1))
    why=""
    if wait_for 600 iter3_or_end "$WORK/$n.err" && alive "$BG"; then
        pid=$(rank_pid "$n" "$victim")
        [ -n "$pid" ] && kill -KILL "$pid" || why="no pid for rank $victim"
    else
        why="not mid-iteration (no third iteration seen, or the run had ended)"
    fi
    bg_end "$n" 30
    if [ -z "$why" ]; then
        if [ "$RC" = hang ]; then
            why="still running 30 s after the kill (hang)"
        elif [ "$RC" != 137 ]; then
            why="exit code $RC, expected 137 (SIGKILL)"
        elif [ "$(nmsg "$WORK/$n.err")" -gt 1 ]; then
            why="$(nmsg "$WORK/$n.err") message lines"
        else
            why=$(only_files "$d") || true
        fi
    fi
    if [ -z "$why" ]; then
        ok "np=$np kmeans, rank $victim killed (SIGKILL) mid-iteration: exit 137 within 30 s, no output or temporary file"
    else
        notok "np=$np kmeans, rank $victim killed (SIGKILL) mid-iteration ($why)"
        comment_file "$WORK/$n.err"
    fi

    # --- 2. disk full -----------------------------------------------------------------------
    if [ "$disk" = tmpfs ]; then
        rm -f "$FULL"/*
        nospace="No space left on device"
        fault "$np" 3 "$nospace" "full_gen_np$np" "$FULL" "" -- \
            "$GEN" blobs --n 100000 --d 4 --seed 1 --out "$FULL/gen.h5" --quiet
        fault "$np" 3 "$nospace" "full_kmeans_np$np" "$FULL" "" -- \
            "$KMEANS" --k 3 --seed 0 --out "$FULL/model.h5" --assign "$FULL/assign.h5" \
            --quiet "$S/big.h5:/data"
        fault "$np" 3 "$nospace" "full_score_np$np" "$FULL" "" -- \
            "$SCORE" --model "$S/model.h5" --out "$FULL/scores.h5" --quiet "$S/big.h5:/data"
        fault "$np" 3 "$nospace" "full_gauss_score_np$np" "$FULL" "" -- \
            "$GAUSS" score --epsilon 1e-3 --quiet "$S/gmodel.h5" "$S/big.h5:/data" \
            "$FULL/gscores.h5"
        # a text output of a group on the full disk: the HDF5 output (elsewhere) goes too
        sd=$WORK/c2-np$np
        mkdir -p "$sd"
        fill "$FULL"
        fault "$np" 3 "$nospace" "full_score_json_np$np" "$sd" "" -- \
            "$SCORE" --model "$S/model.h5" --out "$sd/scores.h5" --json "$FULL/summary.json" \
            --labels "$S/big.h5:/labels" --quiet "$S/big.h5:/data"
        check "np=$np full_score_json: only the filler on the full disk" only_files "$FULL" filler
        rm -f "$FULL"/*
        # threshold: the model update needs a copy of the model, which cannot be written
        if refill model.h5 "$S/model_nothr.h5"; then
            fault "$np" 3 "$nospace" "full_threshold_np$np" "$FULL" "model.h5 filler" -- \
                "$THRESHOLD" --model "$FULL/model.h5" --assign "$S/assign.h5" --quiet
            check "np=$np full_threshold: the model is byte-identical" \
                same_file "$S/model_nothr.h5" "$FULL/model.h5"
        else
            notok "np=$np full_threshold: could not prepare the full disk"
        fi
        # --force over a good output on the full disk: the good file stays as it was. Small
        # inputs: nothing fits. 8 s is ample (these runs take 1-3 s, sanitizers included).
        ADK_TIMEOUT=8
        for prog in gen kmeans score gauss_score threshold; do
            case $prog in
            gen | kmeans | score | gauss_score) good=$S/good.h5 ;;
            threshold) good=$S/model.h5 ;;
            esac
            if ! refill out.h5 "$good"; then
                notok "np=$np full_force_$prog: could not prepare the full disk"
                continue
            fi
            case $prog in
            gen) set -- "$GEN" blobs --n 1000 --d 2 --seed 1 --out "$FULL/out.h5" ;;
            kmeans) set -- "$KMEANS" --k 2 --seed 0 --out "$FULL/out.h5" "$F/inputs.h5:/data" ;;
            score)
                set -- "$SCORE" --model "$S/model.h5" --out "$FULL/out.h5" "$F/inputs.h5:/data"
                ;;
            gauss_score)
                set -- "$GAUSS" score --epsilon 1e-3 "$S/gmodel.h5" "$F/inputs.h5:/data" \
                    "$FULL/out.h5"
                ;;
            threshold)
                set -- "$THRESHOLD" --model "$FULL/out.h5" --assign "$S/assign.h5" \
                    --global-percentile 90
                ;;
            esac
            fault "$np" 3 "$nospace" "full_force_${prog}_np$np" "$FULL" "out.h5 filler" -- \
                "$@" --force --quiet
            check "np=$np full_force_$prog: the previous file is byte-identical" \
                same_file "$good" "$FULL/out.h5"
        done
        ADK_TIMEOUT=60
        rm -f "$FULL"/*
    else
        # no root: an output larger than any file the file system can hold
        ed=$WORK/c2-np$np
        mkdir -p "$ed"
        fault "$np" 3 "cannot write" "efbig_gen_np$np" "$ed" "" -- \
            "$GEN" blobs --n 100000000000000 --d 2 --out "$ed/gen.h5" --quiet
        cp "$S/good.h5" "$ed/gen.h5"
        fault "$np" 3 "cannot write" "efbig_force_gen_np$np" "$ed" "gen.h5" -- \
            "$GEN" blobs --n 100000000000000 --d 2 --out "$ed/gen.h5" --force --quiet
        check "np=$np efbig_force_gen: the previous file is byte-identical" \
            same_file "$S/good.h5" "$ed/gen.h5"
        for prog in kmeans score gauss_score threshold; do
            skip "np=$np disk full: $prog" "no tmpfs can be mounted here"
        done
    fi

    # --- 3. read-only output directory ----------------------------------------------------
    if [ "$ro" = skip ]; then
        for prog in gen kmeans threshold; do
            skip "np=$np read-only directory: $prog" "$ro_why"
        done
    else
        if [ "$ro" = chmod ]; then
            chmod 755 "$RO" && cp "$S/model_nothr.h5" "$RO/model.h5" && chmod 555 "$RO"
        elif [ ! -f "$RO/model.h5" ]; then
            mount -o remount,rw "$RO" && cp "$S/model_nothr.h5" "$RO/model.h5" &&
                mount -o remount,ro "$RO"
        fi
        fault "$np" 3 "Read-only file system" "ro_gen_np$np" "$RO" "model.h5" -- \
            "$GEN" blobs --n 1000 --d 2 --out "$RO/gen.h5" --quiet
        fault "$np" 3 "Read-only file system" "ro_kmeans_np$np" "$RO" "model.h5" -- \
            "$KMEANS" --k 3 --out "$RO/km.h5" --quiet "$S/big.h5:/data"
        fault "$np" 3 "Read-only file system" "ro_threshold_np$np" "$RO" "model.h5" -- \
            "$THRESHOLD" --model "$RO/model.h5" --assign "$S/assign.h5" --quiet
        check "np=$np ro_threshold: the model is byte-identical" \
            same_file "$S/model_nothr.h5" "$RO/model.h5"
    fi

    # --- 4. bad HDF5 inputs ----------------------------------------------------------------
    bd=$WORK/c4-np$np
    mkdir -p "$bd"
    o=$bd/out.h5
    fault "$np" 3 "collective read failed" "corrupt_chunk_np$np" "$bd" "" -- \
        "$KMEANS" --k 2 --out "$o" --quiet "$F/corrupt_chunk.h5:/data"
    fault "$np" 3 "not a readable HDF5 file" "truncated_np$np" "$bd" "" -- \
        "$KMEANS" --k 2 --out "$o" --quiet "$S/truncated.h5:/data"
    fault "$np" 3 "not a readable HDF5 file" "not_hdf5_np$np" "$bd" "" -- \
        "$KMEANS" --k 2 --out "$o" --quiet "$S/not_hdf5.h5:/data"
    fault "$np" 2 "is not numeric" "strings_np$np" "$bd" "" -- \
        "$KMEANS" --k 2 --out "$o" --quiet "$F/inputs.h5:/strings"
    fault "$np" 2 "dataset is 3-D" "3d_np$np" "$bd" "" -- \
        "$KMEANS" --k 2 --out "$o" --quiet "$F/inputs.h5:/cube"
    # the controls: the intact dataset beside the damaged one, and small integers, are read
    check "np=$np the intact dataset of corrupt_chunk.h5 is read" \
        run_np "$np" "$KMEANS" --k 2 --out "$bd/good.h5" --quiet "$F/corrupt_chunk.h5:/good"
    check "np=$np an int64 dataset of small values is read" \
        run_np "$np" "$KMEANS" --k 2 --out "$bd/int.h5" --quiet "$F/inputs.h5:/int_ok"
    rm -f "$bd/good.h5" "$bd/int.h5"
    # 2^63 - 1 becomes 9223372036854775808.0: integers above 2^53 cannot be exact in a double
    fault "$np" 2 "row 7.*column 1" "int_big_np$np" "$bd" "" -- \
        "$KMEANS" --k 2 --out "$o" --quiet "$F/inputs.h5:/int_big"
    rm -f "$o"
    fault "$np" 2 "199 values for 200 data rows" "score_labels_short_np$np" "$bd" "" -- \
        "$SCORE" --model "$S/model.h5" --out "$o" --quiet "$F/inputs.h5:/data" \
        --labels "$F/inputs.h5:/labels_short"
    fault "$np" 2 "row 23: 0.5 is not an integer label" "score_labels_half_np$np" "$bd" "" -- \
        "$SCORE" --model "$S/model.h5" --out "$o" --quiet "$F/inputs.h5:/data" \
        --labels "$F/inputs.h5:/labels_half" --positive 1
    cp "$S/gmodel.h5" "$bd/gmodel.h5"
    fault "$np" 2 "199 values for 200 data rows" "gauss_labels_short_np$np" "$bd" "gmodel.h5" -- \
        "$GAUSS" select --labels "$F/inputs.h5:/labels_short" --quiet "$bd/gmodel.h5" \
        "$F/inputs.h5:/data"
    fault "$np" 2 "row 17: label 2 is not 0" "gauss_labels_three_np$np" "$bd" "gmodel.h5" -- \
        "$GAUSS" select --labels "$F/inputs.h5:/labels_three" --quiet "$bd/gmodel.h5" \
        "$F/inputs.h5:/data"
    check "np=$np gauss select refused: the model is byte-identical" \
        same_file "$S/gmodel.h5" "$bd/gmodel.h5"

    # --- 5. SIGTERM and SIGINT to mpiexec while adkit-gen streams ------------------------------
    for sig in TERM INT; do
        case $sig in
        TERM) num=15 ;;
        INT) num=2 ;;
        esac
        d=$WORK/c5-$sig-np$np
        mkdir -p "$d"
        n=sig${sig}_gen_np$np
        bg_start "$n" "$np" "$GEN" blobs --n 20000000 --d 4 --seed 3 --slab-rows 16384 \
            --out "$d/gen.h5" --quiet
        why=""
        if wait_for 300 tmp_or_end "$d/gen.h5" && sleep 0.3 && alive "$BG"; then
            kill -"$sig" "$BG"
        else
            why="no temporary file seen while the run was going"
        fi
        bg_end "$n" 10
        if [ -z "$why" ]; then
            if [ "$RC" = hang ]; then
                why="still running 10 s after SIG$sig (hang)"
            elif [ "$RC" != 1 ] && [ "$RC" != $((128 + num)) ]; then
                # Open MPI's mpiexec exits 1 after passing a signal on to the job
                why="exit code $RC, expected 1 or $((128 + num))"
            elif [ "$(nmsg "$WORK/$n.err")" -gt 1 ]; then
                why="$(nmsg "$WORK/$n.err") message lines"
            else
                why=$(only_files "$d") || true
            fi
        fi
        if [ -z "$why" ]; then
            ok "np=$np gen, SIG$sig to mpiexec mid-write: ends within 10 s (exit $RC), no output or temporary file"
        else
            notok "np=$np gen, SIG$sig to mpiexec mid-write ($why)"
            comment_file "$WORK/$n.err"
        fi
        if [ "$RC" != hang ]; then
            # Rank 0 says it was stopped, unless mpiexec stops it its own way first (seen at 2
            # ranks, for SIGTERM and SIGINT alike): never more than one message.
            check "np=$np gen, SIG$sig: at most one message" \
                test "$(nmsg "$WORK/$n.err")" -le 1
        fi
    done

    # --- 6. a rank killed while adkit-gen streams (rank 0: the one that commits) ---------------
    d=$WORK/c6-np$np
    mkdir -p "$d"
    n=kill_gen_np$np
    bg_start "$n" "$np" "$WRAP" "$GEN" blobs --n 20000000 --d 4 --seed 3 --slab-rows 16384 \
        --out "$d/gen.h5" --quiet
    why=""
    if wait_for 300 tmp_or_end "$d/gen.h5" && sleep 0.3 && alive "$BG"; then
        pid=$(rank_pid "$n" 0)
        [ -n "$pid" ] && kill -KILL "$pid" || why="no pid for rank 0"
    else
        why="no temporary file seen while the run was going"
    fi
    bg_end "$n" 30
    if [ -z "$why" ]; then
        if [ "$RC" = hang ]; then
            why="still running 30 s after the kill (hang)"
        elif [ "$RC" != 137 ]; then
            why="exit code $RC, expected 137 (SIGKILL)"
        elif [ "$(nmsg "$WORK/$n.err")" -gt 1 ]; then
            why="$(nmsg "$WORK/$n.err") message lines"
        else
            why=$(only_files "$d") || true
        fi
    fi
    if [ -z "$why" ]; then
        ok "np=$np gen, rank 0 killed (SIGKILL) mid-write: exit 137 within 30 s, the survivors removed the temporary file"
    else
        notok "np=$np gen, rank 0 killed (SIGKILL) mid-write ($why)"
        comment_file "$WORK/$n.err"
    fi
    echo "# $np ranks: $(($(date +%s) - t0)) s"
done

finish
