#!/usr/bin/env bash
# One trial against an independent implementation: the log-rank p-value of
# trial 0 in trials.csv must equal the one lifelines (Python) computes from
# the same trial's patients in trial_patients.csv, to 1e-6, for every size.
#
# Runs `crmo-sim trial` on scenarios/trial-nsaid-vs-pamidronate.toml with
# --endpoint time_to_relapse (log-rank) at 20, 40 and 80 per arm, then
# lifelines.statistics.logrank_test on each trial 0.
#
# Usage: scripts/check-trial-lifelines.sh
# Environment: LIFELINES_VENV (default .lifelines-venv, git-ignored) holds a
# Python venv with lifelines, created on first use; CARGO_TARGET_DIR is honoured.
# Exit status: 0 when every p-value agrees, 1 when one differs, 2 on failure to run.

set -euo pipefail

cd "$(dirname "$0")/.."
venv=${LIFELINES_VENV:-.lifelines-venv}

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import lifelines' 2>/dev/null; then
    echo "check-trial-lifelines: creating $venv with lifelines" >&2
    python3 -m venv "$venv" || exit 2
    "$venv/bin/pip" install --quiet lifelines || exit 2
fi

cargo build --release --quiet || exit 2
bin="${CARGO_TARGET_DIR:-target}/release/crmo-sim"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crmo-sim-lifelines.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$bin" trial scenarios/trial-nsaid-vs-pamidronate.toml --endpoint time_to_relapse \
    --per-arm 20,40,80 --trials 10 --no-plots -q --out "$tmp/trial" || exit 2

"$venv/bin/python" - "$tmp/trial" <<'PY'
import sys

import pandas as pd
from lifelines.statistics import logrank_test

out = sys.argv[1]
patients = pd.read_csv(f"{out}/trial_patients.csv")
trials = pd.read_csv(f"{out}/trials.csv")
worst = 0.0
for (n, arm, control), row in trials[trials.trial == 0].groupby(
    ["per_arm", "arm", "control"]
):
    one = patients[(patients.per_arm == n) & (patients.trial == 0)]
    a = one[one.group == control]
    b = one[one.group == arm]
    assert len(a) == n and len(b) == n, f"{n} per arm: {len(a)} and {len(b)} patients"
    result = logrank_test(a.time_days, b.time_days, a.event, b.event)
    ours = float(row.p_value.iloc[0])
    diff = abs(result.p_value - ours)
    worst = max(worst, diff)
    print(f"{n} per arm, {arm} against {control}: crmo-sim p = {ours:.10f}, "
          f"lifelines p = {result.p_value:.10f}, difference {diff:.2e}")
if worst > 1e-6:
    print(f"check-trial-lifelines: p-values differ by {worst:.2e} > 1e-6")
    sys.exit(1)
print("check-trial-lifelines: every p-value agrees to 1e-6")
PY
