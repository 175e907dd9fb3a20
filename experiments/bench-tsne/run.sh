#!/bin/sh
# Benchmark of adkit-tsne and adkit-knn beside scikit-learn, on one machine, in one run. Prints
# Markdown on stdout (date, commit, machine, load averages, the exact commands, tables); progress
# goes to stderr.
#
#   experiments/bench-tsne/run.sh BUILD_DIR [digits|large|knn-digits|all]      (default: all)
#
# digits      the 1797 x 64 digits: adkit-tsne --seed 0 on NP ranks and on 1 rank (whole process
#             wall time, launcher included) beside scikit-learn TSNE(init="random",
#             random_state=0, learning_rate="auto", perplexity=30) on THREADS threads and on 1
#             (fit_transform only, data already loaded); REPS runs each, interleaved; median and
#             min of wall and CPU seconds, KL, iterations, adkit's phase seconds. Target: adkit
#             on NP ranks <= 0.3x scikit-learn's time at a KL <= 1.02x scikit-learn's.
# large       N x D blobs (adkit-gen, CENTERS centres, seed 0): adkit-tsne on NP ranks (phase
#             seconds, peak RSS per rank) beside scikit-learn TSNE on THREADS threads (fit
#             seconds, peak RSS); and the 91-neighbour search alone: adkit-knn --k 91 beside
#             NearestNeighbors(n_neighbors=91).fit(X).kneighbors(). One run each, every program
#             under `timeout TIMEOUT`.
# knn-digits  adkit-knn's kNN-distance score (k 5 and 10, kth and mean) on the digits with 0 and 1
#             anomalous, beside the notebook's k-means detector (adkit-kmeans --k 8 on digits
#             2..9, adkit-threshold --per-cluster-percentile 99, adkit-score on all 1797 rows).
#             Every number in that table comes from the C programs' JSON output.
#
# env: NP (2), THREADS (2), REPS (3), N (70000), D (784), CENTERS (10), TIMEOUT (3600 s per
#      program), OUTDIR (BUILD_DIR/bench-tsne; the large case needs N x D x 8 bytes and more),
#      LARGE_PARTS (the large case's programs to run, "tsne sktsne knn skknn" = all; the table
#      says "not run" for the others)
#
# Example (the recorded run):
#   N=20000 experiments/bench-tsne/run.sh build-bench all \
#       | tee experiments/results/bench-tsne-$(date +%F).md
set -eu

usage() {
    echo "usage: $0 BUILD_DIR [digits|large|knn-digits|all]" >&2
    exit 1
}
[ $# -ge 1 ] || usage
BUILD=$(cd "$1" && pwd)
CASE=${2:-all}
case $CASE in
digits | large | knn-digits | all) ;;
*) usage ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
NP=${NP:-2}
THREADS=${THREADS:-2}
REPS=${REPS:-3}
N=${N:-70000}
D=${D:-784}
CENTERS=${CENTERS:-10}
TIMEOUT=${TIMEOUT:-3600}
LARGE_PARTS=${LARGE_PARTS:-tsne sktsne knn skknn}
OUTDIR=${OUTDIR:-$BUILD/bench-tsne}
APPS=$BUILD/apps
PY=/usr/bin/python3
DIGITS=$SRC/experiments/data/digits.h5
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1

for p in adkit-tsne adkit-knn adkit-gen adkit-kmeans adkit-threshold adkit-score; do
    [ -x "$APPS/$p" ] || { echo "$0: no $APPS/$p (build first)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "$0: needs GNU time (/usr/bin/time)" >&2; exit 1; }
command -v timeout >/dev/null || { echo "$0: needs timeout (coreutils)" >&2; exit 1; }
mkdir -p "$OUTDIR"

log() {
    echo "bench-tsne: $*" >&2
}
load() {
    cut -d' ' -f1-3 /proc/loadavg
}
# scikit-learn with THREADS threads for OpenMP and BLAS (sklearn_side.py also limits them)
pyt() {
    t=$1
    shift
    env OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" "$PY" "$@"
}
# "median min" of column COL of the lines in FILE
medmin() {
    sort -g -k"$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1] }'
}
# the distinct values of column COL of FILE, comma-separated
distinct() {
    awk -v c="$2" '{ print $c }' "$1" | sort -u | paste -sd, - | sed 's/,/, /g'
}
# the last line of a GNU time -o file (a failed command adds a line above it)
timeline() {
    tail -n 1 "$1"
}
mib() {
    awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'
}

# ---------------------------------------------------------------------------------------------
echo "# adkit-tsne and adkit-knn beside scikit-learn (case: $CASE)"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
dirty=$(cd "$SRC" && git status --porcelain 2>/dev/null | grep -vc '^??' || true)
echo "- commit: $(cd "$SRC" && git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
    "($dirty tracked files modified in the working tree when the run started)"
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs" \
    "($(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core)," \
    "$(free -g | awk '/^Mem:/{print $2}') GiB memory, $(uname -sr); virtualised, shared"
echo "- OpenBLAS core (OPENBLAS_VERBOSE=2): numpy/scikit-learn" \
    "$(OPENBLAS_VERBOSE=2 "$PY" -c 'import numpy' 2>&1 | sed -n 's/^Core: //p' | head -n 1)," \
    "adkit $(OPENBLAS_VERBOSE=2 "$APPS/adkit-tsne" --version 2>&1 | sed -n 's/^Core: //p' | head -n 1)"
echo "- software: $("$APPS/adkit-tsne" --version 2>/dev/null | head -n 1); $(mpiexec --version 2>/dev/null | head -n 1);" \
    "$("$PY" -c 'import sklearn, numpy, h5py, threadpoolctl as t; print("scikit-learn", sklearn.__version__, "numpy", numpy.__version__, "h5py", h5py.__version__, "threadpoolctl", t.__version__)')"
echo "- settings: NP=$NP MPI ranks (OPENBLAS_NUM_THREADS=1 each), THREADS=$THREADS" \
    "scikit-learn threads (threadpoolctl + OMP_NUM_THREADS, n_jobs), REPS=$REPS, N=$N, D=$D," \
    "CENTERS=$CENTERS, TIMEOUT=$TIMEOUT s"
echo "- load average (1/5/15 min) before: $(load)"
echo

# ---------------------------------------------------------------------------------------------
digits() {
    dd=$OUTDIR/digits
    mkdir -p "$dd"
    ranks=$NP
    [ "$NP" = 1 ] || ranks="$NP 1"
    threads=$THREADS
    [ "$THREADS" = 1 ] || threads="$THREADS 1"
    for np in $ranks; do : >"$dd/adk-$np.txt"; done
    for t in $threads; do : >"$dd/sk-$t.txt"; done
    r=1
    while [ "$r" -le "$REPS" ]; do
        for np in $ranks; do
            log "digits run $r/$REPS: adkit-tsne on $np rank(s)"
            cmd="mpiexec -n $np $APPS/adkit-tsne --seed 0 --quiet --force --out $dd/emb-$np.h5 $DIGITS:/data"
            /usr/bin/time -f "%e %U %S" -o "$dd/time" timeout "$TIMEOUT" $cmd >"$dd/adk.out"
            read -r wall user sys <"$dd/time"
            echo "$wall $(echo "$user $sys" | awk '{ print $1 + $2 }')" \
                "$("$PY" "$HERE/helpers.py" attrs "$dd/emb-$np.h5")" "$(load | cut -d' ' -f1)" \
                >>"$dd/adk-$np.txt"
        done
        for t in $threads; do
            log "digits run $r/$REPS: scikit-learn TSNE on $t thread(s)"
            timeout "$TIMEOUT" env OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
                "$PY" "$HERE/sklearn_side.py" tsne "$DIGITS" "$t" >"$dd/sk.out"
            echo "$(cat "$dd/sk.out") $(load | cut -d' ' -f1)" >>"$dd/sk-$t.txt"
        done
        r=$((r + 1))
    done

    echo "## 1. Digits (1797 x 64): adkit-tsne beside scikit-learn TSNE"
    echo
    echo "Commands (each run $REPS times, interleaved: adkit $ranks rank(s), then scikit-learn $threads thread(s)):"
    echo
    echo '```'
    for np in $ranks; do
        echo "/usr/bin/time -f '%e %U %S' mpiexec -n $np $APPS/adkit-tsne --seed 0 --quiet --force --out $dd/emb-$np.h5 $DIGITS:/data"
    done
    for t in $threads; do
        echo "OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t $PY $HERE/sklearn_side.py tsne $DIGITS $t"
    done
    echo '```'
    echo
    echo "adkit: wall = the whole \`mpiexec\` process (launch, read, neighbours, P, optimisation," \
        "write); CPU = user + system of mpiexec and its ranks. scikit-learn: wall and CPU of" \
        "\`TSNE(n_components=2, init=\"random\", random_state=0, learning_rate=\"auto\"," \
        "perplexity=30, n_jobs=T).fit_transform(X)\` only, inside a Python process that has" \
        "already read X, with threadpoolctl limiting OpenMP and BLAS to T threads."
    echo
    echo "| configuration | wall s, median (min) | CPU s, median (min) | KL | n_iter | neighbours s | P s | optimisation s |"
    echo "|---|---|---|---|---|---|---|---|"
    for np in $ranks; do
        f=$dd/adk-$np.txt
        set -- $(medmin "$f" 1) $(medmin "$f" 2) $(medmin "$f" 5) $(medmin "$f" 6) $(medmin "$f" 7)
        echo "| adkit-tsne, $np rank(s) | $1 ($2) | $3 ($4) | $(distinct "$f" 3) | $(distinct "$f" 4) | $5 | $7 | $9 |"
    done
    for t in $threads; do
        f=$dd/sk-$t.txt
        set -- $(medmin "$f" 1) $(medmin "$f" 2)
        echo "| scikit-learn TSNE, $t thread(s) | $1 ($2) | $3 ($4) | $(distinct "$f" 3) | $(distinct "$f" 4) | | | |"
    done
    echo
    echo "(phase seconds: median over the runs, from the attributes seconds_neighbours," \
        "seconds_p, seconds_optimisation of /embedding; KL and n_iter: every distinct value seen.)"
    echo
    a=$dd/adk-$NP.txt
    s=$dd/sk-$THREADS.txt
    set -- $(medmin "$a" 1) $(medmin "$s" 1) $(medmin "$a" 3) $(medmin "$s" 3)
    awk -v am="$1" -v an="$2" -v sm="$3" -v sn="$4" -v ak="$5" -v sk="$7" -v np="$NP" -v t="$THREADS" 'BEGIN {
        rm = am / sm; rn = an / sn; rk = ak / sk
        printf "- time ratio adkit (%d ranks) / scikit-learn (%d threads): %.2fx on medians, %.2fx on minima (target <= 0.30x)\n", np, t, rm, rn
        printf "- KL ratio adkit / scikit-learn: %.4f (target <= 1.02)\n", rk
        printf "- target: %s\n", (rm <= 0.30 && rk <= 1.02) ? "**met**" : "**not met**" (rk <= 1.02 ? " (KL part met; time part not met)" : "")
    }'
    echo
    echo "Raw runs (adkit: wall CPU KL n_iter neighbours P optimisation load1;" \
        "scikit-learn: wall CPU KL n_iter RSS-after-load-KiB peak-RSS-KiB load1):"
    echo
    echo '```'
    for np in $ranks; do sed "s/^/adkit-$np  /" "$dd/adk-$np.txt"; done
    for t in $threads; do sed "s/^/sklearn-$t  /" "$dd/sk-$t.txt"; done
    echo '```'
    echo
}

# ---------------------------------------------------------------------------------------------
# run "$@" (a command line) under timeout and GNU time; "wall CPU" into $2's file, or "timeout"
timed() {
    tf=$1
    shift
    rc=0
    /usr/bin/time -f "%e %U %S" -o "$tf" timeout "$TIMEOUT" "$@" || rc=$?
    if [ "$rc" -eq 0 ]; then
        timeline "$tf" | awk '{ print $1, $2 + $3 }' >"$tf.ok"
    else
        echo "$rc" >"$tf.fail"
    fi
}
failtext() { # FILE: why a program of the large case has no result
    case $(cat "$1.fail") in
    "not run"*) cat "$1.fail" ;;
    *) echo "failed (exit $(cat "$1.fail"); 124 = timeout after $TIMEOUT s)" ;;
    esac
}
result() { # FILE -> "wall CPU", or "failed failed"
    if [ -f "$1.ok" ]; then
        cat "$1.ok"
    else
        echo "failed failed"
    fi
}
rss_ranks() { # PREFIX -> "a / b MiB" (peak RSS of each rank)
    out=""
    for f in "$1".*; do
        [ -f "$f" ] || continue
        v=$(mib "$(timeline "$f" | cut -d' ' -f1)")
        out="${out:+$out / }$v"
    done
    echo "${out:-?} MiB"
}

large() {
    ld=$OUTDIR/large
    mkdir -p "$ld"
    rm -f "$ld"/*.ok "$ld"/*.fail "$ld"/rss-*
    X=$ld/blobs-$N-$D.h5
    gen="mpiexec -n $NP $APPS/adkit-gen blobs --quiet --force --n $N --d $D --centers $CENTERS --seed 0 --out $X"
    log "large: generating $N x $D"
    $gen >"$ld/gen.out"
    tsne="mpiexec -n $NP $HERE/rank_time.sh $ld/rss-tsne $APPS/adkit-tsne --seed 0 --quiet --force --out $ld/emb.h5 $X:/data"
    knn="mpiexec -n $NP $HERE/rank_time.sh $ld/rss-knn $APPS/adkit-knn --k 91 --force --out $ld/nn.h5 $X:/data"
    sktsne="$PY $HERE/sklearn_side.py tsne $X $THREADS"
    skknn="$PY $HERE/sklearn_side.py knn $X $THREADS 91"
    for part in tsne sktsne knn skknn; do # a part left out of LARGE_PARTS: "not run"
        case " $LARGE_PARTS " in *" $part "*) ;; *) echo "not run (LARGE_PARTS)" >"$ld/t-$part.fail" ;; esac
    done
    if [ ! -f "$ld/t-tsne.fail" ]; then
        log "large: adkit-tsne on $NP ranks (load $(load))"
        timed "$ld/t-tsne" $tsne >"$ld/tsne.out"
    fi
    if [ ! -f "$ld/t-sktsne.fail" ]; then
        log "large: scikit-learn TSNE on $THREADS threads (load $(load))"
        timed "$ld/t-sktsne" env OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" \
            $sktsne >"$ld/sktsne.out"
    fi
    if [ ! -f "$ld/t-knn.fail" ]; then
        log "large: adkit-knn --k 91 on $NP ranks (load $(load))"
        timed "$ld/t-knn" $knn >"$ld/knn.out" 2>&1
    fi
    if [ ! -f "$ld/t-skknn.fail" ]; then
        log "large: scikit-learn NearestNeighbors(91) on $THREADS threads (load $(load))"
        timed "$ld/t-skknn" env OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" \
            $skknn >"$ld/skknn.out"
    fi

    echo "## 2. Synthetic blobs ($N x $D, $CENTERS centres): t-SNE phases and the kNN search"
    echo
    echo "Commands (one run each, in this order; each program under \`timeout $TIMEOUT\` and \`/usr/bin/time\`):"
    echo
    echo '```'
    echo "$gen"
    echo "$tsne"
    echo "OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS $sktsne"
    echo "$knn"
    echo "OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS $skknn"
    echo '```'
    echo
    echo "| program | wall s (whole process) | CPU s | kNN s | P s | optimisation s | KL | n_iter | peak RSS |"
    echo "|---|---|---|---|---|---|---|---|---|"
    set -- $(result "$ld/t-tsne")
    if [ -f "$ld/t-tsne.ok" ]; then
        set -- "$1" "$2" $("$PY" "$HERE/helpers.py" attrs "$ld/emb.h5")
        echo "| adkit-tsne, $NP ranks | $1 | $2 | $5 | $6 | $7 | $3 | $4 | $(rss_ranks "$ld/rss-tsne") per rank |"
    else
        echo "| adkit-tsne, $NP ranks | $(failtext "$ld/t-tsne") | | | | | | | |"
    fi
    if [ -f "$ld/t-sktsne.ok" ]; then
        set -- $(cat "$ld/sktsne.out")
        echo "| scikit-learn TSNE, $THREADS threads | $(cut -d' ' -f1 "$ld/t-sktsne.ok") (fit $1) | $2 (fit) | | | | $3 | $4 | $(mib "$6") MiB ($(mib "$5") MiB after reading X) |"
    else
        echo "| scikit-learn TSNE, $THREADS threads | $(failtext "$ld/t-sktsne") | | | | | | | |"
    fi
    if [ -f "$ld/t-knn.ok" ]; then
        set -- $(cat "$ld/t-knn.ok")
        own=$(sed -n 's/.* ranks, \([0-9.]*\) s$/\1/p' "$ld/knn.out" | head -n 1)
        echo "| adkit-knn --k 91, $NP ranks | $1 | $2 | ${own:-?} (program's own) | | | | | $(rss_ranks "$ld/rss-knn") per rank |"
    else
        echo "| adkit-knn --k 91, $NP ranks | $(failtext "$ld/t-knn") | | | | | | | |"
    fi
    if [ -f "$ld/t-skknn.ok" ]; then
        set -- $(cat "$ld/skknn.out")
        echo "| scikit-learn NearestNeighbors(91), $THREADS threads | $(cut -d' ' -f1 "$ld/t-skknn.ok") | $2 (search) | $1 (fit + kneighbors) | | | | | $(mib "$4") MiB ($(mib "$3") MiB after reading X) |"
    else
        echo "| scikit-learn NearestNeighbors(91), $THREADS threads | $(failtext "$ld/t-skknn") | | | | | | | |"
    fi
    echo
    echo "(adkit: wall and CPU of the whole mpiexec process, phases from the attributes of" \
        "/embedding, peak RSS from GNU time around each rank; scikit-learn: wall of the whole" \
        "Python process, with the fit or search alone in parentheses, CPU of the fit alone," \
        "peak RSS of the process. Data on disk: $(du -m "$X" | cut -f1) MiB.)"
    echo
    echo "- load average after the large case: $(load)"
    echo
    rm -f "$X" "$ld/nn.h5"
}

# ---------------------------------------------------------------------------------------------
knn_digits() {
    kd=$OUTDIR/knn-digits
    mkdir -p "$kd"
    lab="--labels $DIGITS:/labels --positive 0,1"
    : >"$kd/commands"
    : >"$kd/rows"
    for k in 5 10; do
        for s in kth mean; do
            cmd="mpiexec -n $NP $APPS/adkit-knn --quiet --force --k $k --score $s $lab --json $kd/knn-$k-$s.json --out $kd/nn-$k-$s.h5 $DIGITS:/data"
            log "knn-digits: k $k, score $s"
            echo "$cmd" >>"$kd/commands"
            $cmd >/dev/null
            "$PY" "$HERE/helpers.py" row "adkit-knn, k $k, score $s (epsilon: F1 sweep on these labels)" \
                "$kd/knn-$k-$s.json" >>"$kd/rows"
        done
    done
    log "knn-digits: k-means detector"
    sub="$PY $HERE/helpers.py subset $DIGITS $kd/digits-2to9.h5 2"
    km="mpiexec -n $NP $APPS/adkit-kmeans --quiet --force --k 8 --n-init 10 --seed 0 --out $kd/model.h5 --assign $kd/assign.h5 $kd/digits-2to9.h5:/data"
    th="mpiexec -n $NP $APPS/adkit-threshold --quiet --force --model $kd/model.h5 --assign $kd/assign.h5 --per-cluster-percentile 99"
    sc="mpiexec -n $NP $APPS/adkit-score --quiet --force --model $kd/model.h5 --out $kd/score.h5 $lab --json $kd/score.json $DIGITS:/data"
    ntrain=$($sub)
    for c in "$sub" "$km" "$th" "$sc"; do
        echo "$c" >>"$kd/commands"
    done
    $km >/dev/null
    $th >/dev/null
    $sc >/dev/null
    "$PY" "$HERE/helpers.py" row "k-means detector: adkit-kmeans k 8 on digits 2..9 ($ntrain rows), per-cluster 99th percentile" \
        "$kd/score.json" >>"$kd/rows"

    echo "## 3. Digits 0 and 1 as anomalies: kNN-distance score beside the k-means detector"
    echo
    echo "Commands ($NP ranks):"
    echo
    echo '```'
    cat "$kd/commands"
    echo '```'
    echo
    echo "All 1797 rows scored, 360 of them (digits 0 and 1) labelled anomalous. ROC AUC and AP" \
        "rank the rows by the score (kNN distance; distance to the nearest centroid); precision," \
        "recall, F1 and the counts are those of the flags. Every number is read from the JSON" \
        "the C program wrote."
    echo
    echo "| detector | ROC AUC | AP | precision | recall | F1 | TP / FP / TN / FN |"
    echo "|---|---|---|---|---|---|---|"
    cat "$kd/rows"
    echo
}

case $CASE in
digits) digits ;;
large) large ;;
knn-digits) knn_digits ;;
all)
    knn_digits
    digits
    large
    ;;
esac
echo "- load average (1/5/15 min) after: $(load)"
