#!/usr/bin/env bash
# The reference ladder against no treatment, paired on the same patients: the
# table of docs/calibration.md, "The reference ladder against no treatment".
#
# Takes scenarios/reference.toml, adds an `untreated = true` arm listed first
# (so it is the reference arm of `differences.csv`), runs it, and prints one
# Markdown row per outcome: the untreated arm's mean and the paired difference
# (ladder minus no treatment) with its 95% interval.
#
# Usage: scripts/ladder-vs-untreated.sh [PATIENTS] [OUT_DIR]
#   PATIENTS  cohort size (default: the scenario's, 20000)
#   OUT_DIR   where the run is written (default: a temporary directory,
#             removed afterwards)
# Exit status: 0 on success, 2 when the build or the run failed.

set -euo pipefail

cd "$(dirname "$0")/.."
patients=${1:-}
out=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[[ -n "$out" ]] || out="$work/out"

scenario="$work/reference-vs-untreated.toml"
awk -v patients="$patients" '
    /^\[\[arm\]\]/ && !added { print "[[arm]]\nname = \"untreated\"\nuntreated = true\n"; added = 1 }
    /^name = "reference"/ { print "name = \"reference-vs-untreated\""; next }
    /^patients = / && patients != "" { print "patients = " patients; next }
    { print }
' scenarios/reference.toml >"$scenario"

cargo build --release --quiet || exit 2
bin="${CARGO_TARGET_DIR:-target}/release/crmo-sim"
"$bin" run "$scenario" --out "$out" --no-plots -q || exit 2

python3 - "$out" <<'EOF' || exit 2
import csv, sys
out = sys.argv[1]
rows = [
    ("time_in_flare_after_diagnosis_frac", "time in flare after diagnosis (share of each patient's time)", 3),
    ("flares_per_patient", "flares per patient (from onset)", 2),
    ("flares_per_patient_year_after_diagnosis", "flares per patient-year after diagnosis", 3),
    ("ever_relapsed_after_diagnosis_frac", "relapsed after diagnosis (share)", 3),
    ("activity_score_mean_year_1", "activity score 1 year after diagnosis", 2),
    ("pedcno30_12_months_frac", "PedCNO30 at 12 months", 3),
    ("pedcno50_12_months_frac", "PedCNO50 at 12 months", 3),
    ("pedcno70_12_months_frac", "PedCNO70 at 12 months", 3),
    ("active_seen_lesions_year_1_mean", "active lesions seen 1 year after diagnosis", 2),
    ("course_monophasic_frac", "monophasic course (share)", 3),
    ("course_relapsing_frac", "relapsing course (share)", 3),
    ("course_persistent_frac", "persistent course (share)", 3),
    ("untreated_while_active_frac", "in a flare while given no drug after diagnosis (share)", 3),
]
untreated = {r["metric"]: float(r["mean"] or "nan") for r in csv.DictReader(open(f"{out}/summary.csv")) if r["arm"] == "untreated"}
diff = {r["metric"]: r for r in csv.DictReader(open(f"{out}/differences.csv")) if r["reference_arm"] == "untreated"}
print("| outcome | no treatment | ladder − no treatment [95% interval] |")
print("|---|---|---|")
for metric, label, digits in rows:
    d = diff[metric]
    f = lambda x: f"{float(x):+.{digits}f}".replace("-", "−")
    print(f"| {label} | {untreated[metric]:.{digits}f} | {f(d['mean_difference'])} [{f(d['lower_95'])}, {f(d['upper_95'])}] |")
EOF
