#!/usr/bin/env bash
# The README's workload timings, as users run them:
#   psa    a probabilistic sensitivity analysis of 1,000 replicates x 2,000
#          patients x 3 arms with [economics]: scenarios/cost-effectiveness.toml
#          with its first three arms and `replicates = 1000`;
#   power  a power curve of 1,000 virtual trials at 5 sizes per arm:
#          scenarios/trial-nsaid-vs-pamidronate.toml with
#          --per-arm 20,40,80,160,320 --trials 1000.
# Prints, for each, the wall time, the CPU time and the peak memory (RSS),
# and the patient-years per wall second of the PSA (from its manifest.json).
# Needs GNU time (/usr/bin/time, Debian package `time`).
#
# Usage: scripts/bench-workloads.sh [THREADS]   (default: all cores)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/crmo-sim"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crmo-sim-workloads.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The PSA scenario: drop the fourth [[arm]] table, 1,000 replicates.
awk '
    /^\[\[arm\]\]/ { arms++ }
    /^\[/ { skip = (arms == 4 && $0 == "[[arm]]") }
    !skip
' scenarios/cost-effectiveness.toml |
    sed -e 's/^replicates = .*/replicates = 1000/' -e 's/^name = "cost-effectiveness"/name = "psa-1000"/' \
        >"$tmp/psa-1000.toml"

# Runs a command under GNU time; prints "wall_s cpu_s peak_rss_mib".
measure() {
    /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >/dev/null
    awk '{ printf "%.2f %.2f %.0f\n", $1, $2 + $3, $4 / 1024 }' "$tmp/time"
}

echo "commit $(git rev-parse --short HEAD), $threads thread(s) of $(nproc) cores, $(date -u +%Y-%m-%d)"
read -r wall cpu rss < <(measure "$bin" run "$tmp/psa-1000.toml" --threads "$threads" \
    --no-plots -q --out "$tmp/psa")
py=$(python3 -c "import json; m = json.load(open('$tmp/psa/manifest.json')); print(f\"{m['patient_years'] / m['wall_seconds'] / 1e6:.2f}\")")
echo "| PSA 1,000 replicates x 2,000 patients x 3 arms, economics | $wall s | $cpu s CPU | $rss MiB | $py M patient-years/s |"
read -r wall cpu rss < <(measure "$bin" trial scenarios/trial-nsaid-vs-pamidronate.toml \
    --per-arm 20,40,80,160,320 --trials 1000 --threads "$threads" --no-plots -q --out "$tmp/power")
echo "| power curve, 1,000 trials x 5 sizes (20-320 per arm) | $wall s | $cpu s CPU | $rss MiB | |"
