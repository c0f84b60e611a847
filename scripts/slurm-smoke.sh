#!/usr/bin/env bash
# Smoke test of crmo-sim on a real Slurm cluster: installs Slurm and MUNGE
# from Debian's packages when they are missing (needs root), starts a
# one-node cluster on localhost under a scratch directory (munged, slurmctld,
# slurmd; no systemd), submits a small study as a 4-task job array and the
# dependent merge job (scripts/slurm-array.sh), checks that the merged CSVs
# are byte-identical to a local run, and stops every daemon it started.
#
# Usage: scripts/slurm-smoke.sh   (from anywhere; builds target/release/crmo-sim)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
shards=4
timeout_s=${SLURM_SMOKE_TIMEOUT:-300}

log() { echo "slurm-smoke: $*"; }
die() {
    echo "slurm-smoke: FAILED: $*" >&2
    exit 1
}

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
fi

log "building crmo-sim"
(cd "$root" && cargo build --release --quiet)
crmo="$root/target/release/crmo-sim"

work=$(mktemp -d /tmp/crmo-slurm-smoke.XXXXXX)
pids=()
cleanup() {
    # Stop only what this script started, newest first.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
    done
    for pidfile in "$work"/slurmd.pid "$work"/slurmctld.pid "$work"/munged.pid; do
        [[ -s $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    sleep 1
    for pidfile in "$work"/slurmd.pid "$work"/slurmctld.pid "$work"/munged.pid; do
        [[ -s $pidfile ]] && kill -9 "$(cat "$pidfile")" 2>/dev/null || true
    done
    if [[ ${SLURM_SMOKE_KEEP:-0} == 1 ]]; then
        log "scratch kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# --- MUNGE: its own key, socket, pid and log under the scratch directory.
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/run"
chmod 0755 "$work" "$work/munge"
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 0400 "$work/munge.key"
socket="$work/munge/munge.socket.2"
munged --force --key-file="$work/munge.key" --socket="$socket" \
    --pid-file="$work/munged.pid" --log-file="$work/munged.log" \
    --seed-file="$work/munged.seed"
for _ in $(seq 50); do [[ -S $socket ]] && break; sleep 0.1; done
[[ -S $socket ]] || die "munged did not start: $(cat "$work/munged.log" 2>/dev/null)"
log "munged up"

# --- One node, localhost, everything pointed at one config file.
read -r cpus mem < <(slurmd -C | awk '/^NodeName/ {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    print v["CPUs"], v["RealMemory"] }')
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=crmosmoke
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6917
SlurmdPort=6918
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=smoke Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -c -i
slurmd -N localhost
for _ in $(seq 100); do
    state=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
    [[ $state == idle* ]] && break
    sleep 0.3
done
[[ ${state:-} == idle* ]] || die "node not idle (state '${state:-}'): $(tail -5 "$work/slurmctld.log" "$work/slurmd.log" 2>/dev/null)"
log "cluster up: $(sinfo -h -o '%P %D nodes %t %c CPUs')"

# --- A small study: two arms, two replicates with a drawn parameter.
scenario="$work/smoke.toml"
cat >"$scenario" <<'TOML'
name = "slurm-smoke"
seed = 11
patients = 3000
horizon_years = 4
replicates = 2
[natural_history]
flare_rate_per_year = { dist = "lognormal", median = 1.5, sdlog = 0.3 }
[[arm]]
name = "nsaid_then_pamidronate"
ladder = ["nsaid", "pamidronate"]
[[arm]]
name = "untreated"
untreated = true
TOML
run="$work/run"
mkdir -p "$run"
export CRMO_SIM="$crmo"
array=$(cd "$run" && sbatch --parsable --array=0-$((shards - 1)) \
    "$root/scripts/slurm-array.sh" shard "$scenario" "$shards" "$run" --no-plots)
array=${array%%;*}
merge=$(cd "$run" && sbatch --parsable --dependency=afterok:"$array" \
    "$root/scripts/slurm-array.sh" merge "$shards" "$run" --no-plots)
merge=${merge%%;*}
log "submitted array job $array ($shards tasks) and merge job $merge"

# No accounting without slurmdbd: wait until squeue no longer lists the jobs.
start=$SECONDS
while [[ -n $(squeue -h -j "$array,$merge" 2>/dev/null) ]]; do
    ((SECONDS - start < timeout_s)) || die "jobs still queued after ${timeout_s}s: $(squeue)"
    sleep 1
done
log "jobs finished in $((SECONDS - start)) s"
for f in "$run"/slurm-*.out; do
    [[ -s $f ]] && { echo "--- $f"; cat "$f"; }
done
[[ -f $run/results/summary.csv ]] || die "the merge job wrote no results (see the job logs above)"

# --- The merged result must be the bytes of one local run.
"$crmo" run "$scenario" --out "$work/local" --quiet --no-plots
compared=0
for f in "$work"/local/*.csv; do
    name=$(basename "$f")
    cmp -s "$f" "$run/results/$name" || die "$name of the Slurm run differs from the local run"
    compared=$((compared + 1))
done
((compared >= 5)) || die "only $compared CSV files compared"
log "PASS: $compared CSV files of the merged $shards-shard Slurm run are byte-identical to a local run"
