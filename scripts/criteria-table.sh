#!/usr/bin/env bash
# Regenerates the tables of docs/criteria.md ("Validating criteria"):
# `crmo-sim criteria` on the reference scenario (its [Jansson2009] case mix)
# and on the same patients in an orthopaedic clinic's case mix, printed as
# Markdown. Needs python3 (csv module) to format the tables.
#
# Usage: scripts/criteria-table.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/crmo-sim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" criteria scenarios/reference.toml --prevalence 0.05 --out "$tmp/reference" -q --no-plots
# An orthopaedic oncology clinic: few CRMO patients among many tumours and
# infections (an illustration, not a published mix).
{
  cat scenarios/reference.toml
  printf '\n[differential.case_mix]\ncrmo = 10\nbacterial_osteomyelitis = 20\nmalignant_tumour = 30\nbenign_tumour = 40\n'
} > "$tmp/orthopaedic.toml"
"$bin" criteria "$tmp/orthopaedic.toml" --out "$tmp/orthopaedic" -q --no-plots

python3 - "$tmp" <<'PY'
import csv, sys
tmp = sys.argv[1]
def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
def ci(r, name):
    return f"{float(r[name]):.3f} ({float(r[name + '_lower_95']):.3f}–{float(r[name + '_upper_95']):.3f})"
shown = {("jansson", t) for t in ("30", "33", "36", "39", "41", "45")} | {("bristol_1", "1")}
for case, title in (("reference", "Jansson2009 mix (102:22:48:52), prevalence 0.455, and at --prevalence 0.05"),
                    ("orthopaedic", "orthopaedic mix (10:20:30:40), prevalence 0.1")):
    rows = read(f"{tmp}/{case}/criteria.csv")
    print(f"\n{title}:\n")
    print("| criterion | cut-off | sensitivity (95% Wilson) | specificity (95% Wilson) | prevalence | PPV (95% logit) | NPV (95% logit) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if (r["criterion"], r["threshold"]) in shown:
            print(f"| {r['criterion']} | ≥ {r['threshold']} | {ci(r, 'sensitivity')} | {ci(r, 'specificity')} | "
                  f"{float(r['prevalence']):.3f} | {ci(r, 'ppv')} | {ci(r, 'npv')} |")
    for a in read(f"{tmp}/{case}/auc.csv"):
        print(f"\nAUC of {a['criterion']}: {float(a['auc']):.3f} (95% {float(a['auc_lower_95']):.3f}–{float(a['auc_upper_95']):.3f}, DeLong); "
              f"{a['cases']} CRMO patients at diagnosis, {a['controls']} mimics.")
print("\nJansson items, reference mix: share in each population and the odds ratio of CRMO against the pooled mimics:\n")
print("| item | points | published OR | simulated OR | CRMO | all mimics | bacterial osteomyelitis | malignant tumour | benign tumour |")
print("|---|---|---|---|---|---|---|---|---|")
for i in read(f"{tmp}/reference/items.csv"):
    f = lambda k: f"{float(i[k]):.2f}"
    print(f"| {i['item']} | {i['points']} | {i['published_odds_ratio']} | {float(i['simulated_odds_ratio']):.1f} | "
          f"{f('crmo_frac')} | {f('all_mimics_frac')} | {f('bacterial_osteomyelitis_frac')} | {f('malignant_tumour_frac')} | {f('benign_tumour_frac')} |")
PY
