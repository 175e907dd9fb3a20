#!/bin/bash
# The scaling study: strong scaling (fixed N) and weak scaling (fixed N per rank) of k-means, the
# per-cluster thresholds, the F1 sweep and t-SNE, each phase run with --timings at every rank
# count of RANKS; writes experiments/results/scaling/{strong,weak}-DATE.csv, the performance
# model's report model-DATE.md (from the strong CSV) and the plots (plot.py).
#
#   experiments/scaling/run.sh BUILD_DIR [strong|weak|all]      (default: all)
#
# Phases (one CSV row per phase and rank count; README.md says what each number means):
#   kmeans     seconds per Lloyd iteration: adkit-kmeans --algorithm KM_ALGO (lloyd: every
#              iteration does the same work; auto would pick hamerly at the recorded size, whose
#              iterations do not) --init random --n-init 1 --tol 0 run for
#              ITERS_LO and for ITERS iterations, (HI - LO) / (iterations difference), so reading,
#              initialisation, the final assignment and the commit cancel; the same start at every
#              rank count, so every iteration does the same work
#   threshold  adkit-threshold --per-cluster-percentile 99 on the ITERS run's assignment (a run)
#   f1         adkit-gauss select: densities and the 1000-candidate F1 sweep over N labelled rows
#              (2 blobs, labels 0/1; the Gaussian fitted once, untimed) (a run)
#   tsne       seconds per t-SNE optimisation iteration: adkit-tsne --max-iter TSNE_ITERS_LO and
#              TSNE_ITERS on TSNE_N rows (differenced as k-means); knn_s = its neighbour search
# Every number comes from the programs' --timings attributes on their HDF5 outputs (read with
# tests/tools/adk-h5cmp): seconds = mean over ranks of (I/O + compute + MPI) = each rank's wall
# time from start to the output's commit, which ends in a collective, so it is the max over
# ranks to within the commit (per iteration: compute + MPI, see acct); io_s, mpi_s, compute_s
# are max over ranks; bytes_sent is the max over ranks of the payload handed to MPI. REPS
# repetitions, medians (seconds_min/max: range).
# A rank count above this machine's cores is marked oversubscribed=1: correctness and bytes only.
# identical: strong scaling, whether the phase's outputs (centroids and labels, thresholds,
# epsilon, embedding) are the bits of the first rank count of RANKS ("ref"): 1 or 0.
#
# env: N (200000) D (32) K (64) KM_ALGO (lloyd) ITERS (12) ITERS_LO (2) RANKS ("1 2") REPS (3)
#      NPR (N / 2: weak scaling rows per rank) TSNE_N (4000) TSNE_NPR (TSNE_N / 2)
#      TSNE_ITERS (400) TSNE_ITERS_LO (300) OUTDIR (experiments/results/scaling) DATE (today, UTC)
#      MPIEXEC (mpiexec) MPIFLAGS (e.g. "--bind-to core") PLOT (1) MODEL (1) WORK (scratch dir)
#      RETRY (2: a rank count's job runs again when a per-iteration difference is not positive)
#
# The recorded run (on a quiet machine; 4,000,000 x 32 takes 1 GiB per data file):
#   N=4000000 D=32 K=64 RANKS="1 2" REPS=3 experiments/scaling/run.sh build strong
set -eu

usage() {
    echo "usage: $0 BUILD_DIR [strong|weak|all]" >&2
    exit 1
}
[ $# -ge 1 ] || usage
BUILD=$(cd "$1" && pwd)
WHAT=${2:-all}
case $WHAT in
strong | weak | all) ;;
*) usage ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
N=${N:-200000}
D=${D:-32}
K=${K:-64}
KM_ALGO=${KM_ALGO:-lloyd}
ITERS=${ITERS:-12}
ITERS_LO=${ITERS_LO:-2}
RANKS=${RANKS:-"1 2"}
REPS=${REPS:-3}
NPR=${NPR:-$((N / 2))}
TSNE_N=${TSNE_N:-4000}
TSNE_NPR=${TSNE_NPR:-$((TSNE_N / 2))}
TSNE_ITERS=${TSNE_ITERS:-400}
TSNE_ITERS_LO=${TSNE_ITERS_LO:-300}
OUTDIR=${OUTDIR:-$SRC/experiments/results/scaling}
DATE=${DATE:-$(date -u +%Y-%m-%d)}
MPIEXEC=${MPIEXEC:-mpiexec}
MPIFLAGS=${MPIFLAGS:-}
PLOT=${PLOT:-1}
MODEL=${MODEL:-1}
RETRY=${RETRY:-2}
PY=/usr/bin/python3
APPS=$BUILD/apps
H5CMP=$BUILD/tests/tools/adk-h5cmp
MODELBIN=$BUILD/experiments/scaling/adk-scaling-model
CORES=$(nproc)
R1=$(echo $RANKS | cut -d' ' -f1) # the rank count whose outputs the others must equal bit for bit
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1

die() {
    echo "$0: $*" >&2
    exit 1
}
log() {
    echo "scaling: $*" >&2
}
for p in adkit adkit-gen adkit-kmeans adkit-threshold adkit-gauss adkit-tsne; do
    [ -x "$APPS/$p" ] || die "no $APPS/$p (build first)"
done
[ -x "$H5CMP" ] || make -C "$BUILD" tests/tools/adk-h5cmp >/dev/null || die "cannot build adk-h5cmp"
[ "$MODEL" = 0 ] || [ -x "$MODELBIN" ] || die "no $MODELBIN (build first)"
for a in $ITERS $ITERS_LO $TSNE_ITERS $TSNE_ITERS_LO; do
    case $a in '' | *[!0-9]*) die "iteration counts must be integers" ;; esac
done
[ "$ITERS" -gt "$ITERS_LO" ] && [ "$TSNE_ITERS" -gt "$TSNE_ITERS_LO" ] ||
    die "ITERS must exceed ITERS_LO and TSNE_ITERS TSNE_ITERS_LO"
mkdir -p "$OUTDIR"
if [ -z "${WORK:-}" ]; then
    WORK=$(mktemp -d "$BUILD/scaling.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"

COMMIT=$(cd "$SRC" && git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(cd "$SRC" && git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    COMMIT=$COMMIT-dirty
fi
MACHINE="$(lscpu | sed -n 's/^Model name: *//p' | tr ',' ';') ($CORES cores)"
# the generators and the untimed fits run on at most the cores there are
GNP=$CORES
[ "$GNP" -le 2 ] || GNP=2

mpirun_np() { # NP CMD...: the program under the launcher
    _np=$1
    shift
    "$MPIEXEC" $MPIFLAGS --oversubscribe -n "$_np" "$@"
}
attr() { # FILE OBJ NAME
    "$H5CMP" attr "$1" "$2" "$3" || die "no attribute $3 on $2 of $1"
}
# The run's accounting from FILE's attributes: "seconds io_s mpi_s compute_s bytes bytes_total".
# acct FILE iter: seconds without the I/O, for the runs differenced into one iteration: an
# iteration reads and writes nothing, yet the I/O of the two runs (the same reads and writes)
# did not cancel: at 4,000,000 x 32 on 1 rank the second run's was shorter in every repetition
# (-0.024 to -0.062 s per iteration), a bias, not a measurement of the iterations.
acct() {
    _v=
    for _a in timings_io_mean timings_compute_mean timings_mpi_mean timings_io_max timings_mpi_max \
        timings_compute_max bytes_sent_max bytes_sent_total; do
        _v="$_v $(attr "$1" / "$_a")"
    done
    echo $_v | awk -v noio="${2:-}" '{ printf "%.9g %.9g %.9g %.9g %.17g %.17g\n",
        (noio == "iter" ? 0 : $1) + $2 + $3, $4, $5, $6, $7, $8 }'
}
# "HI" "LO" ITERATIONS -> the per-iteration difference of each field
per_iter() {
    echo "$1 $2 $3" | awk '{ printf "%.9g %.9g %.9g %.9g %.9g %.9g\n", ($1 - $7) / $13,
        ($2 - $8) / $13, ($3 - $9) / $13, ($4 - $10) / $13, ($5 - $11) / $13, ($6 - $12) / $13 }'
}
# job NAME NP: the steps file WORK/NAME.steps in one MPI job (`adkit run`: one launch for many
# programs; each step still opens its own context, so its --timings cover that step alone)
job() {
    mpirun_np "$2" "$APPS/adkit" run "$WORK/$1.steps" >"$WORK/$1.log" 2>&1 ||
        { cat "$WORK/$1.log" >&2; die "adkit run $WORK/$1.steps on $2 ranks failed"; }
}
# positive PHASE NP "seconds ...": is a per-iteration difference positive? (else a warning: the
# runs are too short for the noise)
positive() {
    echo "$3" | awk '{ exit !($1 > 0) }' && return 0
    log "WARNING: $1 at $2 ranks: $3 s per iteration is not positive: raise the sizes or iterations"
    return 1
}

# gen_data TAG N NTSNE: the k-means data, the labelled F1 data (and its Gaussian, fitted once,
# untimed) and the t-SNE data
gen_data() {
    _t=$1
    if [ ! -e "$WORK/data-$_t.h5" ]; then
        log "generating $2 x $D ($K blobs), $2 x $D (2 blobs), $3 x $D"
        cat >"$WORK/gen.steps" <<EOF
adkit-gen blobs --quiet --n $2 --d $D --centers $K --cluster-std 8 --seed 1 --out '$WORK/data-$_t.h5'
adkit-gen blobs --quiet --n $2 --d $D --centers 2 --cluster-std 4 --seed 2 --out '$WORK/f1-$_t.h5'
adkit-gauss fit --quiet '$WORK/f1-$_t.h5:/data' '$WORK/gauss-$_t.h5'
adkit-gen blobs --quiet --n $3 --d $D --centers 10 --seed 3 --out '$WORK/tsne-$_t.h5'
EOF
        job gen "$GNP"
    fi
}

# same PHASE NP FILE DSET...: are the phase's outputs the bits of the first rank count's? Writes
# WORK/same-PHASE: "ref" (the first rank count, whose outputs are kept), 1, 0, or NA (weak
# scaling: other data at every rank count)
same() {
    _ph=$1
    _p=$2
    shift 2
    _r=NA
    if [ "$MODE_NOW" = strong ]; then
        if [ "$_p" = "$R1" ]; then
            _r=ref
            mkdir -p "$WORK/ref"
        else
            _r=1
        fi
        while [ $# -gt 0 ]; do
            if [ "$_r" = ref ]; then
                cp "$WORK/$1" "$WORK/ref/$1"
            elif ! "$H5CMP" cmp "$WORK/ref/$1" "$2" "$WORK/$1" "$2" >/dev/null 2>&1; then
                _r=0
                log "WARNING: $_ph at $_p ranks: $1:$2 differs from its bits at $R1 rank(s)"
            fi
            shift 2
        done
    fi
    echo "$_r" >"$WORK/same-$_ph"
}

# measure MODE NP N NTSNE TAG: one repetition of every phase, in one MPI job; lines appended to
# WORK/raw-MODE: "np phase per n seconds io_s mpi_s compute_s bytes bytes_total knn_s load1"
measure() {
    _m=$1
    _np=$2
    _n=$3
    _nt=$4
    _tag=$5
    _raw=$WORK/raw-$_m
    _w=$WORK
    {
        for it in "$ITERS_LO" "$ITERS"; do
            echo "adkit-kmeans --timings --quiet --algorithm $KM_ALGO --k $K --init random" \
                "--n-init 1 --seed 1 --max-iter $it --tol 0 --force --out '$_w/m$it.h5'" \
                "--assign '$_w/a$it.h5' '$_w/data-$_tag.h5:/data'"
        done
        echo "adkit-threshold --timings --quiet --model '$_w/m$ITERS.h5' --assign '$_w/a$ITERS.h5'" \
            "--per-cluster-percentile 99 --out '$_w/thr.h5' --force"
        echo "adkit-gauss select --timings --quiet --labels '$_w/f1-$_tag.h5:/labels'" \
            "'$_w/g.h5' '$_w/f1-$_tag.h5:/data'"
        for it in "$TSNE_ITERS_LO" "$TSNE_ITERS"; do
            echo "adkit-tsne --timings --quiet --seed 0 --max-iter $it --force --out '$_w/e$it.h5'" \
                "'$_w/tsne-$_tag.h5:/data'"
        done
    } >"$WORK/phases.steps"
    # A per-iteration difference that is not positive means the machine's noise beat the
    # iterations' time (tiny sizes, a loaded machine): the whole job is run again, RETRY times.
    _try=0
    while :; do
        _load=$(cut -d' ' -f1 /proc/loadavg)
        cp "$WORK/gauss-$_tag.h5" "$WORK/g.h5" # select adds /epsilon to the fitted model
        job phases "$_np"
        _i0=$(attr "$WORK/m$ITERS_LO.h5" / n_iter)
        _i1=$(attr "$WORK/m$ITERS.h5" / n_iter)
        [ "$_i1" -gt "$_i0" ] ||
            die "k-means stopped after $_i1 iterations at most (strict convergence): raise N or lower ITERS"
        _vk=$(per_iter "$(acct "$WORK/m$ITERS.h5" iter)" "$(acct "$WORK/m$ITERS_LO.h5" iter)" \
            $((_i1 - _i0)))
        _i0=$(attr "$WORK/e$TSNE_ITERS_LO.h5" /embedding n_iter)
        _i1=$(attr "$WORK/e$TSNE_ITERS.h5" /embedding n_iter)
        [ "$_i1" -gt "$_i0" ] || die "t-SNE stopped after $_i1 iterations at most: raise TSNE_N"
        _vt=$(per_iter "$(acct "$WORK/e$TSNE_ITERS.h5" iter)" \
            "$(acct "$WORK/e$TSNE_ITERS_LO.h5" iter)" $((_i1 - _i0)))
        if positive kmeans "$_np" "$_vk" && positive tsne "$_np" "$_vt"; then
            break
        fi
        _try=$((_try + 1))
        [ "$_try" -le "$RETRY" ] || {
            log "WARNING: kept after $RETRY retries"
            break
        }
        log "running the $_np-rank job again ($_try/$RETRY)"
    done
    same kmeans "$_np" m$ITERS.h5 /centroids a$ITERS.h5 /cluster
    same threshold "$_np" thr.h5 /thresholds
    same f1 "$_np" g.h5 /epsilon
    same tsne "$_np" e$TSNE_ITERS.h5 /embedding
    echo "$_np kmeans iteration $_n $_vk NA $_load $(cat "$WORK/same-kmeans")" >>"$_raw"
    echo "$_np threshold run $_n $(acct "$WORK/thr.h5") NA $_load $(cat "$WORK/same-threshold")" \
        >>"$_raw"
    echo "$_np f1 run $_n $(acct "$WORK/g.h5") NA $_load $(cat "$WORK/same-f1")" >>"$_raw"
    echo "$_np tsne iteration $_nt $_vt $(attr "$WORK/e$TSNE_ITERS.h5" /embedding seconds_neighbours)" \
        "$_load $(cat "$WORK/same-tsne")" >>"$_raw"
}

# csv MODE: medians over the repetitions of each (ranks, phase), in run order
csv() {
    _m=$1
    echo "date,commit,machine,cores,mode,ranks,oversubscribed,n,d,k,phase,per,reps,seconds,seconds_min,seconds_max,io_s,mpi_s,compute_s,bytes_sent,bytes_total,knn_s,load1,identical"
    awk -v date="$DATE" -v commit="$COMMIT" -v machine="$MACHINE" -v cores="$CORES" -v mode="$_m" \
        -v d="$D" -v k="$K" '
    function median(key, c,   m, i, j, t, a) {
        m = cnt[key]
        for (i = 1; i <= m; i++) a[i] = v[key, c, i]
        for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        lo = a[1]; hi = a[m]
        return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    {
        key = $1 " " $2
        if (!(key in cnt)) { order[++nk] = key; per[key] = $3; n[key] = $4 }
        c = ++cnt[key]
        for (f = 5; f <= 12; f++) v[key, f, c] = $f
        if (c == 1 || $13 == "0") same[key] = $13 # any repetition that differs is reported
    }
    END {
        for (i = 1; i <= nk; i++) {
            key = order[i]; split(key, kp, " ")
            s = median(key, 5); smin = lo; smax = hi
            knn = v[key, 11, 1] == "NA" ? "" : sprintf("%.6g", median(key, 11))
            printf "%s,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s,%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.10g,%.10g,%s,%s,%s\n",
                date, commit, machine, cores, mode, kp[1], (kp[1] + 0 > cores + 0), n[key], d,
                (kp[2] == "tsne" ? 0 : k), kp[2], per[key], cnt[key], s, smin, smax,
                median(key, 6), median(key, 7), median(key, 8), median(key, 9), median(key, 10),
                knn, median(key, 12), same[key]
        }
    }' "$WORK/raw-$_m"
}

study() { # MODE
    _m=$1
    : >"$WORK/raw-$_m"
    MODE_NOW=$_m
    for np in $RANKS; do
        if [ "$np" -gt "$CORES" ]; then
            log "$_m: $np ranks on $CORES cores: oversubscribed (correctness and bytes only)"
        fi
        if [ "$_m" = strong ]; then
            gen_data s "$N" "$TSNE_N"
        else
            gen_data "w$np" $((NPR * np)) $((TSNE_NPR * np))
        fi
    done
    r=1
    while [ "$r" -le "$REPS" ]; do
        for np in $RANKS; do
            log "$_m: repetition $r/$REPS, $np rank(s)"
            if [ "$_m" = strong ]; then
                measure strong "$np" "$N" "$TSNE_N" s
            else
                measure weak "$np" $((NPR * np)) $((TSNE_NPR * np)) "w$np"
            fi
        done
        r=$((r + 1))
    done
    csv "$_m" >"$OUTDIR/$_m-$DATE.csv.tmp"
    mv "$OUTDIR/$_m-$DATE.csv.tmp" "$OUTDIR/$_m-$DATE.csv"
    log "wrote $OUTDIR/$_m-$DATE.csv"
    if [ "$_m" = weak ]; then
        rm -f "$WORK"/data-w* "$WORK"/f1-w* "$WORK"/tsne-w*
    fi
}

log "commit $COMMIT, $MACHINE, load $(cut -d' ' -f1-3 /proc/loadavg)"
case $WHAT in
strong | all) study strong ;;
esac
case $WHAT in
weak | all) study weak ;;
esac

if [ "$MODEL" != 0 ] && [ -e "$OUTDIR/strong-$DATE.csv" ]; then
    {
        echo "<!-- experiments/scaling/run.sh $WHAT on $DATE; commit $COMMIT; measured on $MACHINE,"
        echo "     N=$N D=$D K=$K RANKS=\"$RANKS\" REPS=$REPS TSNE_N=$TSNE_N -->"
        "$MODELBIN" "$OUTDIR/strong-$DATE.csv"
    } >"$OUTDIR/model-$DATE.md.tmp" || {
        rm -f "$OUTDIR/model-$DATE.md.tmp"
        die "the model failed on $OUTDIR/strong-$DATE.csv"
    }
    mv "$OUTDIR/model-$DATE.md.tmp" "$OUTDIR/model-$DATE.md"
    log "wrote $OUTDIR/model-$DATE.md"
fi
if [ "$PLOT" != 0 ]; then
    "$PY" "$HERE/plot.py" "$OUTDIR" "$DATE"
fi
