#!/usr/bin/env bash
# Slurm job script for a crmo-sim study split into N shards (see docs/cluster.md).
#
# Shards, as a job array (one task per shard, K = $SLURM_ARRAY_TASK_ID):
#   sbatch --array=0-$((N-1)) scripts/slurm-array.sh shard SCENARIO.toml N RUN_DIR [run options...]
# then the merge, once every shard has succeeded:
#   sbatch --dependency=afterok:ARRAY_JOB_ID scripts/slurm-array.sh merge N RUN_DIR [merge options...]
#
# Shard K is written to RUN_DIR/shard-K, the merged results to RUN_DIR/results.
# The binary is $CRMO_SIM if set, else crmo-sim on the PATH.
#SBATCH --job-name=crmo-sim
#SBATCH --cpus-per-task=1
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail

crmo=${CRMO_SIM:-crmo-sim}
mode=${1:?usage: slurm-array.sh shard SCENARIO N RUN_DIR [options] | merge N RUN_DIR [options]}
shift
case $mode in
shard)
    scenario=${1:?scenario file}
    n=${2:?number of shards N}
    dir=${3:?run directory}
    shift 3
    k=${SLURM_ARRAY_TASK_ID:?not in a job array: submit with sbatch --array=0-$((n - 1))}
    threads=${SLURM_CPUS_PER_TASK:-1}
    exec "$crmo" run "$scenario" --shard "$k/$n" --threads "$threads" \
        --out "$dir/shard-$k" --quiet "$@"
    ;;
merge)
    n=${1:?number of shards N}
    dir=${2:?run directory}
    shift 2
    shards=()
    for ((k = 0; k < n; k++)); do
        shards+=("$dir/shard-$k")
    done
    exec "$crmo" merge "${shards[@]}" --out "$dir/results" --quiet "$@"
    ;;
*)
    echo "slurm-array.sh: unknown mode '$mode' (expected shard or merge)" >&2
    exit 2
    ;;
esac
