#!/usr/bin/env bash
# Throughput of crmo-sim beside the numpy peer script, measured in the same run.
#
# Both simulate the two-state course model (scenarios/two-state.toml): flares
# of mean 30 days, 2 flares per year in remission, 10 years. The numpy script
# is ../shared/peers/numpy_relapse.py (relative to the repository root) in
# its continuous-time mode; crmo-sim's throughput is read from the
# `patient_years` and `wall_seconds` of its manifest.json.
#
# Usage: scripts/bench-peers.sh [PATIENTS] [THREADS]
#   PATIENTS  cohort size for both programs (default 2000000)
#   THREADS   crmo-sim worker threads (default 1: per-core comparison;
#             the numpy script is single-threaded)
# Environment: PEERS_VENV (default .bench-venv, git-ignored) holds a Python
# venv with numpy, created on first use; CARGO_TARGET_DIR is honoured.
# Prints both throughputs in patient-years per second and their ratio.
# Exit status: 0 when both ran (whatever the ratio), 2 when either failed.

set -euo pipefail

cd "$(dirname "$0")/.."
patients=${1:-2000000}
threads=${2:-1}
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

numpy_json=$("$venv/bin/python" "$peer" ct "$patients" "$years") || exit 2
"$bin" run scenarios/two-state.toml --patients "$patients" --threads "$threads" \
    --no-plots -q --out "$tmp/two-state" || exit 2

"$venv/bin/python" - "$tmp/two-state/manifest.json" "$numpy_json" "$threads" <<'PY'
import json
import sys

manifest = json.load(open(sys.argv[1]))
peer = json.loads(sys.argv[2])
threads = int(sys.argv[3])
ours = manifest["patient_years"] / manifest["wall_seconds"]
theirs = peer["patient_years_per_s"]
print(f"numpy {peer['numpy']} (ct, 1 thread): {theirs / 1e6:8.2f} M patient-years/s"
      f"  ({peer['N']} patients, {peer['wall_s']:.2f} s)")
print(f"crmo-sim ({threads} thread{'s' if threads > 1 else ''}):      {ours / 1e6:8.2f} M patient-years/s"
      f"  ({manifest['patients']} patients, {manifest['wall_seconds']:.2f} s)")
print(f"ratio crmo-sim / numpy: {ours / theirs:.2f}")
PY
