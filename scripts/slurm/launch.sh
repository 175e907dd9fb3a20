# scripts/slurm/launch.sh: what adkit's sbatch templates share (sourced by bash, not run).
# Finds the programs, picks the MPI launcher and runs the steps:
#
#   adk_init PROG...      put the programs on PATH (ADK_BIN, else PATH, else ADK_TOP/build/apps),
#                         check that adkit-PROG exists for each PROG, choose the launcher, set
#                         ADK_NP, print one line about the job
#   adk_run NP CMD...     run CMD on NP ranks with the chosen launcher (the command line first,
#                         on stderr)
#   adk_now               seconds since the epoch, with nanoseconds (for timings)
#
# The launcher (ADK_LAUNCHER=auto|srun|mpiexec, default auto): inside a Slurm allocation, when
# `srun --mpi=list` lists Slurm's PMIx plugin, `srun --mpi=pmix`; otherwise `mpiexec` (Open MPI
# reads the allocation from Slurm's environment; outside Slurm it runs on this machine). As root,
# Open MPI's two run-as-root variables are set (containers and CI run as root). ADK_MPIEXEC names
# the mpiexec to use (default mpiexec), ADK_LAUNCH_ARGS adds arguments to every launch (the
# site's binding options, say). ADK_NP: NP if set, else the allocation's SLURM_NTASKS, else 1.

adk_die() {
    echo "${0##*/}: $*" >&2
    exit 1
}

adk_now() {
    date +%s.%N
}

adk_has_pmix() {
    command -v srun >/dev/null 2>&1 || return 1
    # "MPI plugin types are... pmix ..." (older Slurm prefixes each line with "srun: ")
    srun --mpi=list 2>&1 | grep -Eq '(^|[[:space:]:])pmix(_v[0-9]+)?[[:space:]]*$'
}

adk_init() {
    local p
    if [ -n "${ADK_BIN:-}" ]; then
        PATH=$ADK_BIN:$PATH
    elif ! command -v adkit-kmeans >/dev/null 2>&1 && [ -n "${ADK_TOP:-}" ] &&
        [ -x "$ADK_TOP/build/apps/adkit-kmeans" ]; then
        PATH=$ADK_TOP/build/apps:$PATH
    fi
    export PATH
    for p in "$@"; do
        command -v "adkit-$p" >/dev/null 2>&1 ||
            adk_die "adkit-$p not found: set ADK_BIN to the folder of adkit's programs, or put it on PATH"
    done

    ADK_NP=${NP:-${SLURM_NTASKS:-1}}
    case $ADK_NP in
    '' | *[!0-9]* | 0) adk_die "NP must be a positive number of ranks, not '$ADK_NP'" ;;
    esac

    case ${ADK_LAUNCHER:-auto} in
    auto)
        if [ -n "${SLURM_JOB_ID:-}" ] && adk_has_pmix; then
            ADK_LAUNCHER=srun
        else
            ADK_LAUNCHER=mpiexec
        fi
        ;;
    srun | mpiexec) ;;
    *) adk_die "ADK_LAUNCHER must be auto, srun or mpiexec, not '$ADK_LAUNCHER'" ;;
    esac
    if [ "$(id -u)" = 0 ]; then
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    fi
    # One BLAS thread per rank: the ranks are the parallelism.
    export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
    if [ -n "${SLURM_JOB_ID:-}" ]; then
        echo "# job $SLURM_JOB_ID (${SLURM_JOB_NAME:-}) on ${SLURM_JOB_NODELIST:-?}:" \
            "${SLURM_NTASKS:-?} tasks; launcher $ADK_LAUNCHER; $ADK_NP ranks"
    else
        echo "# no Slurm allocation; launcher $ADK_LAUNCHER; $ADK_NP ranks"
    fi
}

# adk_launch NP: the launcher's words for NP ranks, in the array ADK_LAUNCH.
adk_launch() {
    # shellcheck disable=SC2206 # ADK_LAUNCH_ARGS is split into words on purpose
    if [ "$ADK_LAUNCHER" = srun ]; then
        # --kill-on-bad-exit: a rank that dies ends the step instead of leaving the others waiting
        ADK_LAUNCH=(srun --mpi=pmix --kill-on-bad-exit=1 -n "$1" ${ADK_LAUNCH_ARGS:-})
    else
        ADK_LAUNCH=("${ADK_MPIEXEC:-mpiexec}" -n "$1" ${ADK_LAUNCH_ARGS:-})
    fi
}

adk_run() {
    local np=$1
    shift
    adk_launch "$np"
    echo "+ ${ADK_LAUNCH[*]} $*" >&2
    "${ADK_LAUNCH[@]}" "$@"
}

# adk_run_ckpt NP CMD...: adk_run for a step that writes checkpoints (adkit-kmeans --checkpoint).
# The launcher runs in the background so that a SIGUSR1 or SIGTERM to this batch shell (sbatch
# --signal=B:USR1@SECONDS, scancel --signal, the time limit) reaches it as SIGUSR1, which srun and
# mpiexec both pass on to the ranks: they write a checkpoint at the next iteration boundary and
# exit 75. (A SIGTERM to mpiexec itself would end the ranks a second later instead.) Returns the
# step's exit status.
adk_run_ckpt() {
    local np=$1 pid rc
    shift
    adk_launch "$np"
    echo "+ ${ADK_LAUNCH[*]} $*" >&2
    "${ADK_LAUNCH[@]}" "$@" &
    pid=$!
    trap 'kill -USR1 "$pid" 2>/dev/null' USR1 TERM
    while :; do
        wait "$pid"
        rc=$?
        kill -0 "$pid" 2>/dev/null || break # wait was cut short by a trapped signal: keep waiting
    done
    trap - USR1 TERM
    return "$rc"
}
