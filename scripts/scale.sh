#!/usr/bin/env bash
# The scale figure of docs/performance.md: the reference scenario with PATIENTS patients
# (default 10,000,000) x 10 years, once as one run and once as 4 shards run
# one after another and merged; prints wall time and peak memory (RSS) of
# each step and checks that the merged CSVs equal the single run's byte for
# byte. Needs GNU time (/usr/bin/time, Debian package `time`).
#
# Usage: scripts/scale.sh            PATIENTS=1000000 scripts/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
patients=${PATIENTS:-10000000}
shards=${SHARDS:-4}
cargo build --release --quiet
bin=target/release/crmo-sim
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crmo-sim-scale.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Runs a command under GNU time; prints "wall_seconds peak_rss_mib".
measure() {
    /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null
    awk '{ printf "%.1f %.0f\n", $1, $2 / 1024 }' "$tmp/time"
}

echo "reference scenario, $patients patients x 10 years, $(nproc) cores"
read -r wall rss < <(measure "$bin" run --patients "$patients" --out "$tmp/one" -q --no-plots)
echo "| one run | $wall s | $rss MiB |"
total=0
peak=0
for ((k = 0; k < shards; k++)); do
    read -r wall rss < <(measure "$bin" run --patients "$patients" --shard "$k/$shards" \
        --out "$tmp/shard-$k" -q --no-plots)
    echo "| shard $k/$shards | $wall s | $rss MiB |"
    total=$(echo "$total + $wall" | bc)
    ((rss > peak)) && peak=$rss
done
dirs=()
for ((k = 0; k < shards; k++)); do dirs+=("$tmp/shard-$k"); done
read -r wall rss < <(measure "$bin" merge "${dirs[@]}" --out "$tmp/merged" -q --no-plots)
echo "| merge | $wall s | $rss MiB |"
total=$(echo "$total + $wall" | bc)
((rss > peak)) && peak=$rss
echo "| $shards shards + merge, in sequence | $total s | $peak MiB (largest step) |"
for f in "$tmp"/one/*.csv; do
    cmp -s "$f" "$tmp/merged/$(basename "$f")" || { echo "FAIL: $(basename "$f") differs" >&2; exit 1; }
done
echo "merged CSVs byte-identical to the single run: $(ls "$tmp"/one/*.csv | wc -l) files"
