#!/usr/bin/env bash
# The placebo rule of docs/calibration.md ("Calibration"): the reference
# scenario with every drug's p_response, p_response_majeed and partial_effect
# set to 0 (a ladder of useless drugs), calibrated against C1-C15 beside the
# reference scenario itself. `tests/placebo.rs` asserts the rule.
#
# Usage: scripts/placebo.sh [SEED]
#   SEED  seed of both runs (default: the scenario's, 20261125)
# Exit status: 0 on success, 2 when the build or a run failed.

set -euo pipefail

cd "$(dirname "$0")/.."
seed=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet || exit 2
bin="${CARGO_TARGET_DIR:-target}/release/crmo-sim"
awk -v seed="$seed" '/^seed = / && seed != "" { print "seed = " seed; next } { print }' \
    scenarios/reference.toml >"$work/reference.toml"
"$bin" calibrate "$work/reference.toml" --out "$work/working" --no-plots -q >"$work/working.txt" || exit 2
# Every drug the run used (the received_<drug>_frac metrics), made useless.
drugs=$(awk -F, '$2 ~ /^received_.*_frac$/ { sub(/^received_/, "", $2); sub(/_frac$/, "", $2); print $2 }' \
    "$work/working/summary.csv" | sort -u)
{
    awk '/^\[\[arm\]\]/ { exit } { print }' "$work/reference.toml"
    for d in $drugs; do
        printf '[drugs.%s]\np_response = 0\np_response_majeed = 0\npartial_effect = 0\n\n' "$d"
    done
    awk '/^\[\[arm\]\]/ { on = 1 } on { print }' "$work/reference.toml"
} >"$work/placebo.toml"
"$bin" calibrate "$work/placebo.toml" --out "$work/placebo" --no-plots -q >"$work/placebo.txt" || exit 2

python3 - "$work" <<'PY' || exit 2
import csv, sys
work = sys.argv[1]
rows = lambda name: {r["id"]: r for r in csv.DictReader(open(f"{work}/{name}/calibration.csv"))}
w, p = rows("working"), rows("placebo")
print("| id | target | published ± tolerance | working ladder | useless drugs |")
print("|---|---|---|---|---|")
for i in w:
    f = lambda r: f"{float(r['simulated']):.3f} ({'inside' if r['inside'] == 'true' else 'outside'})"
    print(f"| {i} | {w[i]['target']} | {w[i]['published']} ± {w[i]['tolerance']} | {f(w[i])} | {f(p[i])} |")
outside = [i for i in ("C10", "C11", "C12", "C13", "C14", "C15") if p[i]["inside"] != "true"]
gap = float(w["C13"]["simulated"]) - float(p["C13"]["simulated"])
print(f"\nuseless drugs fall outside {len(outside)} of C10-C15 ({', '.join(outside)}); PedCNO70 at 12 months {gap:.3f} below the working ladder")
PY
