#!/bin/sh
# The sbatch templates of scripts/slurm/ on a real one-node Slurm: munged, slurmctld and slurmd
# from Debian's packages, started by this test on localhost with every file in its scratch folder
# (munge key, sockets, slurm.conf, state, spool, logs, pid files) and free ports, nothing of the
# system's touched. The pipeline template is submitted with sbatch on 2 tasks, once with the
# launcher it picks (srun --mpi=pmix when Slurm's PMIx plugin is there) and once with mpiexec;
# each job must complete (state and exit code), report 2 ranks, and write the same bits as the
# same commands run directly with mpiexec -n 2 and as the template run by plain bash at 1 rank.
# The scaling template runs at a tiny size in an allocation; every template passes bash -n. The
# daemons are stopped on every path out (their pid files), and the test fails, with the daemon's
# log, if one cannot start: it never passes without a Slurm run. Skipped under the sanitizers
# (it tests the launch, not the code).
. "$ADK_SRCDIR/tests/mpi/lib.sh"

TPL=$ADK_SRCDIR/scripts/slurm
NPJ=2      # tasks of the jobs
BOUND=120  # seconds: longest wait for anything (daemons up, a job to end, daemons down)

for f in "$TPL"/*.sbatch "$TPL"/launch.sh; do
    check "bash -n ${f##*/}" bash -n "$f"
done
if [ "${ADK_SANITIZED:-0}" = 1 ]; then
    ok "one-node Slurm # SKIP in the sanitizer build"
    finish
fi

missing=""
for c in munged munge unmunge slurmctld slurmd sbatch sinfo squeue scontrol scancel srun; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
    notok "Slurm and munge are installed (missing:$missing; run scripts/setup.sh)"
    finish
fi

# The daemons' folder. Socket paths must fit in 108 bytes (slurmd's and PMIx's sockets go a few
# levels below it), so a deep build tree gets a short folder of its own in TMPDIR.
S=$WORK/s
if [ "${#S}" -gt 60 ]; then
    S=$(mktemp -d "${TMPDIR:-/tmp}/adk-slurm.XXXXXX") || exit 99
fi
mkdir -p "$S/munge" "$S/state" "$S/spool" "$S/log" "$S/tmp" || exit 99
chmod 755 "$S" "$S/munge"
CONF=$S/slurm.conf
NODE=$(hostname -s 2>/dev/null || uname -n | cut -d. -f1)

# Slurm's commands under a timeout, with this cluster's configuration. SLURM_CONF is never
# exported to the test itself: only processes of this cluster carry it (see ours below).
sl() {
    SLURM_CONF=$CONF timeout -k 5 30 "$@"
}

# Show the last lines of a file as TAP comments.
comment_tail() {
    [ -f "$1" ] || { echo "# ($1 does not exist)"; return 0; }
    echo "# --- ${1##*/}, last lines:"
    tail -n "${2:-25}" "$1" | sed -e 's/^/# /'
}

# alive PID NAME: PID is a running (not zombie) process called NAME
alive() {
    [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] &&
        ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# pid_of NAME PIDFILE: the pid in PIDFILE when that process is alive and is NAME
pid_of() {
    _p=$(cat "$2" 2>/dev/null) || return 1
    case $_p in '' | *[!0-9]*) return 1 ;; esac
    alive "$_p" "$1" || return 1
    echo "$_p"
}

# stop NAME PIDFILE: SIGTERM, wait (bounded), then SIGKILL
stop() {
    _p=$(pid_of "$1" "$2") || return 0
    kill -TERM "$_p" 2>/dev/null
    _i=0
    while alive "$_p" "$1"; do
        _i=$((_i + 1))
        if [ "$_i" -gt 100 ]; then # 10 s
            echo "# $1 (pid $_p) ignored SIGTERM for 10 s: SIGKILL"
            kill -KILL "$_p" 2>/dev/null
            sleep 0.2
            break
        fi
        sleep 0.1
    done
}

# Processes that carry this cluster's SLURM_CONF: the jobs' (slurmstepd forwards the
# environment sbatch took) and the daemons'. None may outlive the test.
ours() {
    for _d in /proc/[0-9]*; do
        _p=${_d#/proc/}
        [ "$_p" = $$ ] && continue
        { tr '\0' '\n' <"$_d/environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$CONF" && echo "$_p"
    done
    return 0
}

# Idempotent: the EXIT trap calls it again when a signal came in the middle of it.
JOBS=""
stop_all() {
    if [ -n "$JOBS" ] && pid_of slurmctld "$S/slurmctld.pid" >/dev/null; then
        # shellcheck disable=SC2086
        sl scancel $JOBS >/dev/null 2>&1
        JOBS=""
        _i=0
        while [ "$_i" -lt 100 ] && [ -n "$(sl squeue -h -o %i 2>/dev/null)" ]; do
            _i=$((_i + 1))
            sleep 0.1
        done
    fi
    stop slurmd "$S/slurmd.pid"
    stop slurmctld "$S/slurmctld.pid"
    stop munged "$S/munge/munged.pid"
    for _p in $(ours); do
        alive "$_p" "$(cat "/proc/$_p/comm" 2>/dev/null)" || continue
        echo "# left behind: pid $_p ($({ tr '\0' ' ' <"/proc/$_p/cmdline"; } 2>/dev/null)): SIGKILL"
        kill -KILL "$_p" 2>/dev/null
    done
}
cleanup() {
    stop_all
    if [ -z "${ADK_KEEP:-}" ]; then
        rm -rf "$WORK"
        case $S in "$WORK"/*) ;; *) rm -rf "$S" ;; esac
    fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# A TCP port that nothing on this machine uses (any state, IPv4 or IPv6), with the next one free
# too. Random, so that a previous run's daemons, still alive or not, never clash.
used_ports() {
    awk 'NR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
free_port_pair() {
    _u=$(used_ports)
    _n=0
    while [ "$_n" -lt 50 ]; do
        _n=$((_n + 1))
        _r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        _p=$((20000 + _r % 30000))
        _h1=$(printf '%04X' "$_p")
        _h2=$(printf '%04X' $((_p + 1)))
        if ! printf '%s\n' "$_u" | grep -qx -e "$_h1" -e "$_h2"; then
            echo "$_p"
            return 0
        fi
    done
    return 1
}

# --- munge ---------------------------------------------------------------------------------------
M=$S/munge
dd if=/dev/urandom of="$M/munge.key" bs=1024 count=1 status=none && chmod 400 "$M/munge.key"
munged --force --key-file="$M/munge.key" --socket="$M/munge.sock" --pid-file="$M/munged.pid" \
    --log-file="$M/munged.log" --seed-file="$M/munged.seed" </dev/null >"$M/start.out" 2>&1
_i=0
while [ "$_i" -lt 100 ] && ! [ -S "$M/munge.sock" ]; do
    _i=$((_i + 1))
    sleep 0.1
done
if timeout 10 munge -S "$M/munge.sock" -n 2>"$M/check.err" |
    timeout 10 unmunge -S "$M/munge.sock" >"$M/check.out" 2>>"$M/check.err" &&
    grep -q 'STATUS: *Success' "$M/check.out"; then
    ok "munged started in the scratch folder; a credential made and checked"
else
    notok "munged started in the scratch folder; a credential made and checked"
    comment_tail "$M/start.out"
    comment_tail "$M/check.err"
    comment_tail "$M/munged.log"
    finish
fi

# --- slurmctld and slurmd ------------------------------------------------------------------------
cpus=$(nproc)
[ "$cpus" -ge "$NPJ" ] || cpus=$NPJ # config_overrides: slurmd takes the configured CPUs as they are
mem=$(awk '/^MemTotal:/ { m = int($2 / 1024 / 2); print (m > 100 ? m : 100) }' /proc/meminfo)
write_conf() {
    cat >"$CONF" <<EOF
# written by tests/mpi/slurm.sh: a one-node cluster on localhost, everything in $S
ClusterName=adktest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$1
SlurmdPort=$(($1 + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$M/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=600
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
TmpFS=$S/tmp
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
}

# start_slurm: both daemons, then wait for the node to be idle. 0 up; 1 failed; 2 a port was
# taken between the check and the start (try others).
start_slurm() {
    rm -f "$S/log/"*.log
    SLURM_CONF=$CONF slurmctld -f "$CONF" </dev/null >"$S/log/slurmctld.start" 2>&1 ||
        { echo "# slurmctld -f $CONF: exit status $?"; return 1; }
    SLURM_CONF=$CONF slurmd -f "$CONF" -N "$NODE" </dev/null >"$S/log/slurmd.start" 2>&1 ||
        { echo "# slurmd -f $CONF -N $NODE: exit status $?"; return 1; }
    _t0=$(date +%s)
    while [ $(($(date +%s) - _t0)) -lt "$BOUND" ]; do
        _st=$(sl sinfo -h -n "$NODE" -o %T 2>/dev/null)
        [ "$_st" = idle ] && return 0
        for _d in slurmctld slurmd; do
            if ! pid_of "$_d" "$S/$_d.pid" >/dev/null && [ $(($(date +%s) - _t0)) -ge 2 ]; then
                grep -q 'Address already in use' "$S/log/$_d.log" 2>/dev/null && return 2
                echo "# $_d is not running"
                return 1
            fi
        done
        sleep 0.2
    done
    echo "# the node is not idle after $BOUND s (state: '$_st')"
    return 1
}
tries=0
while :; do
    tries=$((tries + 1))
    port=$(free_port_pair) || { notok "two free TCP ports for slurmctld and slurmd"; finish; }
    write_conf "$port"
    start_slurm >"$S/start.msg"
    rc=$?
    if [ "$rc" != 2 ] || [ "$tries" -ge 3 ]; then
        break
    fi
    stop slurmd "$S/slurmd.pid"
    stop slurmctld "$S/slurmctld.pid"
done
if [ "$rc" = 0 ]; then
    ok "slurmctld and slurmd started (ports $port, $((port + 1))); node $NODE idle"
else
    notok "slurmctld and slurmd started (ports $port, $((port + 1))); node $NODE idle"
    sed -e 's/^# //; s/^/# /' "$S/start.msg"
    sl scontrol show node "$NODE" 2>&1 | sed -e 's/^/# /' | head -n 20
    comment_tail "$S/log/slurmctld.start" 5
    comment_tail "$S/log/slurmctld.log"
    comment_tail "$S/log/slurmd.start" 5
    comment_tail "$S/log/slurmd.log"
    finish
fi

# --- the jobs --------------------------------------------------------------------------------------
# Small data for the pipeline; OUTDIR and the launcher differ between the runs. The templates'
# other variables are taken out of the environment the jobs inherit.
PIPE="N=3000 D=4 CENTERS=3 SCORE_N=700 SEED=5 Q=97"
UNSET=""
for v in NP INPUT SCORE_INPUT LABELS POSITIVE CLUSTER_STD SCORE_STD K N_INIT FORCE RANKS ADK_TOP \
    ADK_LAUNCHER ADK_LAUNCH_ARGS; do
    UNSET="$UNSET -u $v"
done
mkdir -p "$WORK/submit"
# submit NAME TEMPLATE VAR=VALUE...: sbatch on NPJ tasks (sharing the node's cores with the other
# jobs), output in $WORK/NAME.out; the job id goes to $WORK/NAME.id
submit() {
    _name=$1
    _tpl=$2
    shift 2
    _exp=ALL,ADK_BIN=$BIN
    for _v in "$@"; do
        _exp=$_exp,$_v
    done
    # shellcheck disable=SC2086
    if (cd "$WORK/submit" && sl env $UNSET sbatch --parsable -N 1 -n "$NPJ" --oversubscribe -t 5 \
        -J "adk-$_name" -o "$WORK/$_name.out" --export="$_exp" "$_tpl") >"$WORK/$_name.id" \
        2>"$WORK/$_name.sub"; then
        JOBS="$JOBS $(cut -d';' -f1 "$WORK/$_name.id")"
        ok "sbatch ${_tpl##*/} ($_name) accepted: job $(cat "$WORK/$_name.id")"
    else
        notok "sbatch ${_tpl##*/} ($_name) accepted"
        comment_file "$WORK/$_name.sub"
        : >"$WORK/$_name.id"
    fi
}
# shellcheck disable=SC2086
submit auto "$TPL/pipeline.sbatch" OUTDIR="$WORK/auto" $PIPE
# shellcheck disable=SC2086
submit mpiexec "$TPL/pipeline.sbatch" OUTDIR="$WORK/mpiexec" ADK_LAUNCHER=mpiexec $PIPE
submit scaling "$TPL/scaling.sbatch" OUTDIR="$WORK/scaling" ADK_SCALING_SIMPLE=1 N=2000 D=4 K=3 \
    ITER=5

# Meanwhile, the reference: the same commands run directly with mpiexec -n 2, and the template
# run by plain bash (no Slurm) on 1 rank.
R=$WORK/direct
mkdir -p "$R"
direct() {
    run_np "$NPJ" "$BIN/adkit-gen" blobs --n 3000 --d 4 --centers 3 --cluster-std 1.0 --seed 5 \
        --out "$R/train.h5" --quiet &&
        run_np "$NPJ" "$BIN/adkit-gen" blobs --n 700 --centers-file "$R/train.h5:/centers" \
            --cluster-std 1.2 --seed 6 --out "$R/test.h5" --quiet &&
        run_np "$NPJ" "$BIN/adkit-kmeans" --k 3 --n-init 1 --seed 5 --out "$R/model.h5" \
            --assign "$R/assign.h5" "$R/train.h5:/data" --quiet &&
        run_np "$NPJ" "$BIN/adkit-threshold" --model "$R/model.h5" --assign "$R/assign.h5" \
            --per-cluster-percentile 97 --quiet &&
        run_np "$NPJ" "$BIN/adkit-score" --model "$R/model.h5" --json "$R/summary.json" \
            --out "$R/scores.h5" "$R/test.h5:/data" --quiet
}
check "the pipeline run directly with mpiexec -n $NPJ" direct
# shellcheck disable=SC2086
check "the pipeline template without Slurm (plain bash, NP=1)" env $UNSET -u SLURM_JOB_ID \
    ADK_BIN="$BIN" OUTDIR="$WORK/plain" NP=1 $PIPE bash "$TPL/pipeline.sbatch"
# The template's checkpoint cycle: the fit stopped (exit 75, checkpoint kept, no model yet), the
# job run again at another rank count resumes and finishes (checkpoint removed); outputs below.
ckpt_cycle() {
    # shellcheck disable=SC2086
    env $UNSET -u SLURM_JOB_ID ADK_BIN="$BIN" OUTDIR="$WORK/ckpt" NP=2 ADK_CKPT_TEST_STOP_AT=1 \
        $PIPE bash "$TPL/pipeline.sbatch" >"$WORK/ckpt1.out" 2>&1
    _rc=$?
    [ "$_rc" = 75 ] && [ -f "$WORK/ckpt/kmeans.ckpt.h5" ] && [ ! -e "$WORK/ckpt/model.h5" ] ||
        { echo "first run: exit $_rc"; cat "$WORK/ckpt1.out"; return 1; }
    # shellcheck disable=SC2086
    env $UNSET -u SLURM_JOB_ID ADK_BIN="$BIN" OUTDIR="$WORK/ckpt" NP=1 $PIPE \
        bash "$TPL/pipeline.sbatch" >"$WORK/ckpt2.out" 2>&1 &&
        grep -q 'resuming from' "$WORK/ckpt2.out" && [ ! -e "$WORK/ckpt/kmeans.ckpt.h5" ] ||
        { cat "$WORK/ckpt2.out"; return 1; }
}
check "the pipeline template stopped with a checkpoint (exit 75), run again: resumed" ckpt_cycle

# wait_job NAME: wait (bounded) until the job has ended; ok when COMPLETED with exit code 0:0
wait_job() {
    _id=$(cut -d';' -f1 "$WORK/$1.id")
    [ -n "$_id" ] || { notok "job $1 completed (it was not submitted)"; return 1; }
    _t0=$(date +%s)
    _st=""
    while [ $(($(date +%s) - _t0)) -lt "$BOUND" ]; do
        sl scontrol show job -o "$_id" >"$WORK/$1.state" 2>&1
        _st=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' "$WORK/$1.state")
        case $_st in
        PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | REQUEUED | RESIZING | '') sleep 0.2 ;;
        *) break ;;
        esac
    done
    _ec=$(sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' "$WORK/$1.state")
    if [ "$_st" = COMPLETED ] && [ "$_ec" = 0:0 ]; then
        ok "job $1 ($_id) completed, exit code 0"
        return 0
    fi
    notok "job $1 ($_id) completed, exit code 0 (state '$_st', exit code '$_ec' after $(($(date +%s) - _t0)) s)"
    comment_tail "$WORK/$1.out" 30
    comment_tail "$WORK/$1.state" 3
    comment_tail "$S/log/slurmd.log" 15
    return 1
}

# Which launcher the template must have picked: srun when Slurm lists its PMIx plugin.
want=mpiexec
if sl srun --mpi=list 2>&1 | grep -Eq '(^|[[:space:]:])pmix(_v[0-9]+)?[[:space:]]*$'; then
    want=srun
fi
for j in auto mpiexec; do
    w=$want
    [ "$j" = mpiexec ] && w=mpiexec
    if wait_job "$j"; then
        check "job $j: launcher $w, $NPJ ranks in one MPI job" sh -c "
            grep -q '^# job .* launcher $w; $NPJ ranks\$' '$WORK/$j.out' &&
            grep -q 'k = 3, $NPJ ranks' '$WORK/$j.out' && grep -q '^# pipeline done' '$WORK/$j.out'"
    fi
done

# Every output of each run the same bits as the direct run's (the JSON summaries differ only in
# the file names they record).
same_run() {
    same_dsets "$1/train.h5" "$R/train.h5" /data /labels /centers &&
        same_dsets "$1/test.h5" "$R/test.h5" /data /labels &&
        same_dsets "$1/model.h5" "$R/model.h5" /centroids /thresholds &&
        same_dsets "$1/assign.h5" "$R/assign.h5" /cluster /distance &&
        same_dsets "$1/scores.h5" "$R/scores.h5" /cluster /distance /anomaly &&
        grep -v '"model":\|"data":' "$1/summary.json" >"$1/s.json" &&
        grep -v '"model":\|"data":' "$R/summary.json" | cmp - "$1/s.json" &&
        grep -q '"n_flagged":' "$1/s.json"
}
for j in auto mpiexec plain ckpt; do
    check "$j: every output the same bits as mpiexec -n $NPJ's" same_run "$WORK/$j"
done

# ranks,seconds,fit_seconds,speedup,iterations,inertia: rows for 1 and 2 ranks, the same work
scaling_csv() {
    _c=$WORK/scaling/scaling.csv
    grep -qx 'ranks,seconds,fit_seconds,speedup,iterations,inertia' "$_c" &&
        [ "$(grep -c '^[0-9]' "$_c")" = 2 ] &&
        grep -Eq '^1,[0-9.]+,[0-9.]+,(1\.00|nan),[0-9]+,[0-9.e+-]+$' "$_c" &&
        grep -Eq "^$NPJ,[0-9.]+,[0-9.]+,([0-9.]+|nan),[0-9]+,[0-9.e+-]+\$" "$_c" &&
        [ "$(grep '^[0-9]' "$_c" | cut -d, -f5,6 | sort -u | wc -l)" = 1 ] ||
        { cat "$_c" "$WORK/scaling.out"; return 1; }
}
if wait_job scaling; then
    check "scaling: a CSV row for 1 and for $NPJ ranks, same iterations and inertia" scaling_csv
fi

# --- stop ------------------------------------------------------------------------------------------
stop_all >"$WORK/stop.msg"
left=$(ours)
for f in "$S/slurmd.pid:slurmd" "$S/slurmctld.pid:slurmctld" "$M/munged.pid:munged"; do
    pid_of "${f#*:}" "${f%:*}" >/dev/null && left="$left ${f#*:}"
done
if [ -z "$left" ] && ! [ -s "$WORK/stop.msg" ]; then
    ok "daemons stopped, no process of this cluster left"
else
    notok "daemons stopped, no process of this cluster left (left:$left)"
    comment_file "$WORK/stop.msg"
fi
finish
