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

# Follows job $1 (and its array tasks) through its states until every one of
# them has ended (COMPLETED, FAILED, CANCELLED, TIMEOUT, ...) or is stuck
# where no waiting helps (held, or pending on a dependency that can never be
# met). No fixed clock: a slow machine (a Debug ASan build, a loaded CI
# runner) only makes the job take longer. Sets job_end (the states it ended
# in: COMPLETED for a job that went well) and job_seen (every change of its
# states, with the seconds since the wait began). Fails, printing them, when
# the job has not ended after $2 seconds (default 1200: a bound on a job that
# hangs, not a schedule).
#
# Slurm holds a requeued job back for two minutes; this lets it go as soon as
# its last run's batch step is gone from this node, not before: that step
# reports the end of its script to slurmctld (late under load: it retries),
# and without slurmdbd a late report lands on whatever run of the job is
# current, so a new run started before it comes ends FAILED at once
# (NonZeroExitCode: the old script was killed by its own requeue; seen here
# under load, as "requeueing job" and then FAILED). And not within the second
# of the requeue: slurmd refuses a credential made in the second its job's
# last one was revoked ("Killing non-startable batch job: Job credential
# revoked", seen in CI), so a held job goes 3 s after its step is gone.
wait_job() {
    local id=$1 limit=${2:-1200} start=$SECONDS out now before="" status
    local -A held_since=()
    job_end="" job_seen=""
    while :; do
        # every state (the default leaves out REQUEUED and the ended ones);
        # an ended job stays listed for MinJobAge (300 s) and we look every second
        out=$(squeue -h --states=all -j "$id" -o '%i %T %r %A' 2>&1)
        status=$?
        if [ "$status" -ne 0 ] || [ -z "$out" ]; then
            if echo "$out" | grep -qi "invalid job id" || [ -z "$out" ]; then
                now="gone from the queue"
                [ "$now" != "$before" ] && job_seen+="${job_seen:+; }$((SECONDS - start))s $now"
                job_end=gone
                return 0
            fi
            now="squeue failed: $(echo "$out" | tail -1)"  # a busy controller: ask again
        else
            # one record: STATE or STATE (Reason); several (an array): ID STATE ...
            now=$(echo "$out" | sort | awk -v id="$id" '
                { s = ($1 == id ? "" : $1 " ") $2 ($3 == "None" ? "" : " (" $3 ")")
                  printf "%s%s", (NR > 1 ? ", " : ""), s }')
            while read -r held; do
                if pgrep -f "\\[$held\\.batch\\]" >/dev/null; then
                    now+=" [the last run's batch step still ending]"
                elif [ -z "${held_since[$held]:-}" ]; then
                    held_since[$held]=$SECONDS
                elif [ $((SECONDS - held_since[$held])) -ge 3 ]; then
                    scontrol update jobid="$held" StartTime=now 2>/dev/null
                    unset "held_since[$held]"
                fi
            done < <(echo "$out" | awk '$3 == "BeginTime" {print $4}')
            if echo "$out" | awk '
                $2 ~ /^(BOOT_FAIL|CANCELLED|COMPLETED|DEADLINE|FAILED|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|REVOKED|TIMEOUT|REQUEUE_HOLD|RESV_DEL_HOLD|SPECIAL_EXIT)$/ ||
                $3 ~ /^(DependencyNeverSatisfied|JobHeldAdmin|JobHeldUser)$/ {n++}
                END {exit !(n == NR)}'; then
                [ "$now" != "$before" ] && job_seen+="${job_seen:+; }$((SECONDS - start))s $now"
                job_end=$(echo "$out" | awk '{print $2}' | sort -u | paste -sd, -)
                return 0
            fi
        fi
        if [ "$now" != "$before" ]; then
            job_seen+="${job_seen:+; }$((SECONDS - start))s $now"
            before=$now
        fi
        if [ $((SECONDS - start)) -ge "$limit" ]; then
            fail "job $id has not ended after ${limit}s; its states: $job_seen"
            return 1
        fi
        sleep 1
    done
}

# slurmctld's last log lines about job $1, for a failure's message
ctld_log() { grep -E "JobId=$1([^0-9_]|\$)" "$state/slurmctld.log" 2>/dev/null | tail -8; }

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
    wait_job "$id" || return
    local log=$tmp/learn-alrs-learn-test.log
    if grep -q "requeueing job" "$log" && grep -q "restart 1" "$log"; then ok
    else fail "the learn job was not signalled and requeued (its states: $job_seen): $(tail -5 "$log")"; fi
    if [ "$job_end" = COMPLETED ]; then ok
    else fail "the learn job ended $job_end (its states: $job_seen): $(tail -5 "$log")
slurmctld: $(ctld_log "$id")"; fi
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
    wait_job "$report" || return
    if [ "$job_end" = COMPLETED ]; then ok
    else fail "the report job ended $job_end (its states: $job_seen): $(squeue -h --states=all 2>&1 | tail -8)"; fi
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
