#!/usr/bin/env bash
# The Slurm scripts on a real Slurm (Debian's slurm-wlm and munge): a
# single-node cluster started here as root (munged, slurmctld, slurmd with a
# minimal slurm.conf in a temporary directory) and stopped by its pids.
#   1. a learn job (scripts/slurm/learn) with a one-minute time limit is
#      signalled before it, saves, requeues itself and resumes, until it ends
#      with the controller an uninterrupted `alrs learn` makes, byte for byte;
#   2. the compare chain (scripts/slurm/compare: tune array, join, eval array,
#      report) through real sbatch gives the CSVs of one `alrs compare`;
#   3. a chain with a bad flag is refused before anything is submitted.
# Skipped, with a message, where Slurm is not installed or we are not root
# (tests/test_slurm.sh covers the scripts with a stand-in sbatch there).
#
#   bash tests/test_slurm_real.sh ALRS SOURCE_DIR
set -uo pipefail
alrs=${1:?usage: test_slurm_real.sh ALRS SOURCE_DIR}
src=${2:?usage: test_slurm_real.sh ALRS SOURCE_DIR}
alrs=$(cd "$(dirname "$alrs")" && pwd)/$(basename "$alrs")
src=$(cd "$src" && pwd)
for tool in slurmctld slurmd munged sbatch scontrol squeue; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        echo "test_slurm_real: skipped: $tool not installed (apt-get install slurm-wlm munge)"
        exit 0
    fi
done
if [ "$(id -u)" != 0 ]; then
    echo "test_slurm_real: skipped: starting a Slurm cluster here needs root"
    exit 0
fi
source "$src/tests/common.bash"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alrs-slurm-real.XXXXXX")
state=$tmp/slurm
export SLURM_CONF=$state/slurm.conf
started_munge=0

stop_cluster() {
    scancel --quiet --user root 2>/dev/null
    for f in "$state/slurmd.pid" "$state/slurmctld.pid"; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    [ "$started_munge" = 1 ] && [ -f "$state/munged.pid" ] && kill "$(cat "$state/munged.pid")" 2>/dev/null
    sleep 1
}
trap 'stop_cluster; rm -rf "$tmp"' EXIT

start_cluster() {
    mkdir -p "$state/ctld" "$state/spool" /run/munge /etc/munge
    if ! pgrep -x munged >/dev/null; then
        if [ ! -s /etc/munge/munge.key ]; then
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
        fi
        chown munge:munge /etc/munge/munge.key /run/munge 2>/dev/null
        chmod 400 /etc/munge/munge.key
        /usr/sbin/munged --force --pid-file="$state/munged.pid" 2>"$tmp/munged.err" ||
            { fail "munged: $(cat "$tmp/munged.err")"; return 1; }
        started_munge=1
    fi
    cat >"$SLURM_CONF" <<CONF
ClusterName=alrs-test
SlurmctldHost=localhost
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
ReturnToService=2
MinJobAge=300
KillWait=30
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    /usr/sbin/slurmctld && /usr/sbin/slurmd || { fail "slurmctld/slurmd did not start"; return 1; }
    for _ in $(seq 50); do
        sinfo -h -o %t 2>/dev/null | grep -q idle && return 0
        sleep 0.2
    done
    fail "the node never became idle: $(sinfo 2>&1 | tail -2)"
    return 1
}

# Waits until job $1 (and its array tasks) has left the queue; a requeued job
# that Slurm holds back (it delays requeued jobs by two minutes) is let go at
# once. Fails after $2 seconds.
wait_job() {
    local id=$1 limit=$2 t=0
    while [ "$t" -lt "$limit" ]; do
        local left
        left=$(squeue -h -j "$id" -o '%i %r' 2>/dev/null)
        [ -z "$left" ] && return 0
        echo "$left" | awk '$2 == "BeginTime" {print $1}' | while read -r held; do
            scontrol update jobid="$held" StartTime=now 2>/dev/null
        done
        sleep 1
        t=$((t + 1))
    done
    fail "job $id still queued after ${limit}s: $(squeue 2>&1 | tail -3)"
    return 1
}

job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }

test_learn_requeue() {
    local out=$tmp/learn-slurm flags
    # long enough (about 40 s at 36000 episodes/h; CI once ran 128 episodes in 13 s,
    # before the signal came) to meet the signal at least once
    flags=(--model mlp --val-split 100 --steps 400 --action-every 10 --batch 32
           --val-size 100 --data-dir "$tmp/idx" --episodes 384 --seed 5)
    # the uninterrupted run, as the job runs it (2 environments of 1 thread)
    "$alrs" learn "${flags[@]}" --envs 2 --threads-per-env 1 --out "$tmp/learn-direct" \
        >/dev/null 2>"$tmp/direct.err" || fail "alrs learn: $(cat "$tmp/direct.err")"
    local id
    id=$(cd "$tmp" && ALRS="$alrs" SBATCH_ARGS="--nodes=1 --ntasks=1 --ntasks-per-node=1
          --cpus-per-task=2 --time=1 --signal=B:TERM@50 --job-name=alrs-learn-test
          --output=$tmp/learn-%x.log" "$src/scripts/slurm/learn" "$out" -- "${flags[@]}" \
          2>"$tmp/submit.err")
    if ! [[ $id =~ ^[0-9]+$ ]]; then fail "scripts/slurm/learn: $id $(cat "$tmp/submit.err")"; return; fi
    wait_job "$id" 300 || return
    local log=$tmp/learn-alrs-learn-test.log
    if grep -q "requeueing job" "$log" && grep -q "restart 1" "$log"; then ok
    else fail "the learn job was not signalled and requeued: $(tail -5 "$log")"; fi
    if [ "$(job_state "$id")" = COMPLETED ]; then ok
    else fail "the learn job ended $(job_state "$id"): $(tail -5 "$log")"; fi
    if cmp -s "$tmp/learn-direct/controller.bin" "$out/controller.bin"; then ok
    else fail "the requeued job's controller.bin differs from an uninterrupted run's"; fi
}

test_compare_chain() {
    local flags before after
    flags=(--model mlp --hidden 32,16 --val-split 100 --steps 20 --eval-every 5 --batch 32
           --val-size 50 --data-dir "$tmp/idx" --baselines paper-grid,cosine --seeds 3
           --tune-budget 3 --tune-seeds 2 --threads-per-run 1 --concurrency 1)
    "$alrs" compare "${flags[@]}" --out "$tmp/direct" >/dev/null 2>"$tmp/cmp.err" ||
        fail "alrs compare: $(cat "$tmp/cmp.err")"
    local out
    out=$(cd "$tmp" && ALRS="$alrs" SBATCH_ARGS="--output=$tmp/chain-%j.log" \
          "$src/scripts/slurm/compare" "$tmp/base" 4 3 -- "${flags[@]}" 2>&1)
    local report=${out##*report }
    report=${report%%;*}
    report=${report%% *}
    if ! [[ $report =~ ^[0-9]+$ ]]; then fail "scripts/slurm/compare: $out"; return; fi
    wait_job "$report" 300 || return
    for f in compare.csv tuning.csv traces.csv; do
        if cmp -s <(sed 's/,[^,]*$//' "$tmp/direct/$f") <(sed 's/,[^,]*$//' "$tmp/base/all/$f"); then ok
        else fail "$f of the real-Slurm chain differs from one alrs compare (wall_s aside)"; fi
    done
    if cmp -s "$tmp/direct/compare-summary.csv" "$tmp/base/all/compare-summary.csv"; then ok
    else fail "compare-summary.csv of the chain differs"; fi
    # a typo is refused by the program before anything reaches the queue
    before=$(scontrol show jobs 2>/dev/null | grep -c JobId=)
    if out=$(cd "$tmp" && ALRS="$alrs" "$src/scripts/slurm/compare" "$tmp/bad" 2 2 -- \
                 --model mlpp --data-dir "$tmp/idx" 2>&1); then
        fail "a chain with --model mlpp was submitted: $out"
    elif echo "$out" | grep -q "alrs: --model mlpp: unknown model"; then ok
    else fail "a bad chain was refused with: $out"; fi
    after=$(scontrol show jobs 2>/dev/null | grep -c JobId=)
    if [ "$before" = "$after" ]; then ok; else fail "jobs were submitted for a bad chain"; fi
}

write_idx "$tmp/idx"
if start_cluster; then
    test_learn_requeue
    test_compare_chain
fi
finish
