#!/usr/bin/env bash
# Scenario fuzzing through the crmo-sim binary: N mutants of the shipped
# scenarios, each through `check` and `run --patients 3` (staging, per-patient
# files, gzip, sweeps, plots now and then). A mutant `check` accepts must run
# to completion or stop at a per-patient limit; one it refuses must be refused
# by `run` with the same message and nothing written; a panic or any other
# exit code fails. `cargo test` runs 300 of them (tests/fuzz_scenarios.rs).
#
# Usage: scripts/fuzz-run.sh [N] [SEED]   (default 5000 cases, a fixed seed)
# Exit status: 0 when every case passed, non-zero otherwise (the failing
# case, its seed and its scenario text are printed).

set -euo pipefail

cd "$(dirname "$0")/.."
export CRMO_FUZZ_RUN_CASES=${1:-5000}
if [[ -n "${2:-}" ]]; then
    export CRMO_FUZZ_SEED=$2
fi
exec cargo test --release --test fuzz_scenarios -- \
    mutants_go_through_check_and_run_on_the_command_line --nocapture
