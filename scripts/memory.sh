#!/usr/bin/env bash
# Peak memory of a natural-history run at 100,000 and at 1,000,000 patients.
#
# The engine folds patients into fixed-size accumulators in batches of
# chunks, so memory should not grow with the cohort: the target is a peak
# resident set (RSS) at 1M patients within 10% of the one at 100k.
#
# Usage: scripts/memory.sh   (from anywhere; builds the release binary first)
# Environment: CARGO_TARGET_DIR is honoured; THREADS sets --threads (default: all cores).
# Exit status: 0 if the target is met, 1 if not, 2 on a failed build or run.

set -euo pipefail

cd "$(dirname "$0")/.."
scenario=scenarios/natural-history.toml

cargo build --release --quiet || exit 2
bin="${CARGO_TARGET_DIR:-target}/release/crmo-sim"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crmo-sim-memory.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

threads=()
if [[ -n "${THREADS:-}" ]]; then
    threads=(--threads "$THREADS")
fi

# peak_kb N: runs N patients and prints "peak_kb wall_seconds".
peak_kb() {
    local n=$1 out="$tmp/out-$1" start end
    start=$(date +%s.%N)
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f '%M' -o "$tmp/time-$n" \
            "$bin" run "$scenario" --patients "$n" -q --out "$out" "${threads[@]}" || exit 2
        end=$(date +%s.%N)
        echo "$(tail -n 1 "$tmp/time-$n") $(echo "$end - $start" | bc)"
    else
        # No GNU time: poll the high-water mark (VmHWM) while the run lasts.
        "$bin" run "$scenario" --patients "$n" -q --out "$out" "${threads[@]}" &
        local pid=$! hwm=0 v
        while kill -0 "$pid" 2>/dev/null; do
            v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
            [[ -n "$v" && "$v" -gt "$hwm" ]] && hwm=$v
            sleep 0.02
        done
        wait "$pid" || exit 2
        end=$(date +%s.%N)
        echo "$hwm $(echo "$end - $start" | bc)"
    fi
    rm -rf "$out"
}

read -r small small_s < <(peak_kb 100000)
read -r large large_s < <(peak_kb 1000000)

ratio=$(echo "scale=4; $large / $small" | bc)
printf '%-18s %12s %10s\n' "patients" "peak RSS" "wall"
printf '%-18s %9.1f MiB %8.2f s\n' "100,000" "$(echo "$small / 1024" | bc -l)" "$small_s"
printf '%-18s %9.1f MiB %8.2f s\n' "1,000,000" "$(echo "$large / 1024" | bc -l)" "$large_s"
printf 'ratio 1M / 100k: %.3f (target <= 1.10)\n' "$ratio"

if (( $(echo "$ratio <= 1.10" | bc) )); then
    echo "OK: memory does not grow with the cohort"
else
    echo "FAIL: peak memory grows with the cohort"
    exit 1
fi
