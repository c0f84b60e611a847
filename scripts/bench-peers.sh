#!/usr/bin/env bash
# Throughput of crmo-sim beside the numpy peer script, measured in the same run.
#
# Both simulate the two-state course model (scenarios/two-state.toml): flares
# of mean 30 days, 2 flares per year in remission, 10 years. The numpy script
# is ../shared/peers/numpy_relapse.py (relative to the repository root) in
# its continuous-time mode; crmo-sim's throughput is read from the
# `patient_years` and `wall_seconds` of its manifest.json.
#
# Usage: scripts/bench-peers.sh [PATIENTS] [THREADS] [RUNS]
#   PATIENTS  cohort size for both programs (default 2000000)
#   THREADS   crmo-sim worker threads (default 1: per-core comparison;
#             the numpy script is single-threaded)
#   RUNS      runs of each program, alternating (default 1); with more than
#             one, each run's figures are printed and the ratio is best
#             against best (both programs' times vary by run on a shared
#             machine, the numpy script's by up to a third)
# Environment: PEERS_VENV (default .bench-venv, git-ignored) holds a Python
# venv with numpy, created on first use; CARGO_TARGET_DIR is honoured.
# Prints both throughputs in patient-years per second and their ratio.
# Exit status: 0 when both ran (whatever the ratio), 2 when either failed.

set -euo pipefail

cd "$(dirname "$0")/.."
patients=${1:-2000000}
threads=${2:-1}
runs=${3:-1}
years=10
peer=../shared/peers/numpy_relapse.py
venv=${PEERS_VENV:-.bench-venv}

if [[ ! -f "$peer" ]]; then
    echo "bench-peers: $peer not found (expected beside the repository)" >&2
    exit 2
fi
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import numpy' 2>/dev/null; then
    echo "bench-peers: creating $venv with numpy" >&2
    python3 -m venv "$venv" || exit 2
    "$venv/bin/pip" install --quiet numpy || exit 2
fi

cargo build --release --quiet || exit 2
bin="${CARGO_TARGET_DIR:-target}/release/crmo-sim"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crmo-sim-peers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for run in $(seq 1 "$runs"); do
    "$venv/bin/python" "$peer" ct "$patients" "$years" >"$tmp/numpy-$run.json" || exit 2
    "$bin" run scenarios/two-state.toml --patients "$patients" --threads "$threads" \
        --no-plots -q --out "$tmp/two-state-$run" || exit 2
done

"$venv/bin/python" - "$tmp" "$runs" "$threads" <<'PY'
import json
import sys

tmp, runs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ours, theirs = [], []
for run in range(1, runs + 1):
    manifest = json.load(open(f"{tmp}/two-state-{run}/manifest.json"))
    peer = json.load(open(f"{tmp}/numpy-{run}.json"))
    ours.append((manifest["patient_years"] / manifest["wall_seconds"], manifest))
    theirs.append((peer["patient_years_per_s"], peer))
    if runs > 1:
        print(f"run {run}: numpy {theirs[-1][0] / 1e6:6.2f} M/s, crmo-sim {ours[-1][0] / 1e6:6.2f} M/s,"
              f" ratio {ours[-1][0] / theirs[-1][0]:.2f}")
best_ours, manifest = max(ours, key=lambda r: r[0])
best_theirs, peer = max(theirs, key=lambda r: r[0])
label = " best" if runs > 1 else ""
print(f"numpy {peer['numpy']} (ct, 1 thread){label}: {best_theirs / 1e6:8.2f} M patient-years/s"
      f"  ({peer['N']} patients, {peer['wall_s']:.2f} s)")
print(f"crmo-sim ({threads} thread{'s' if threads > 1 else ''}){label}:      {best_ours / 1e6:8.2f} M patient-years/s"
      f"  ({manifest['patients']} patients, {manifest['wall_seconds']:.2f} s)")
print(f"ratio crmo-sim / numpy: {best_ours / best_theirs:.2f}")
PY
