#!/usr/bin/env bash
# Rewrites the golden outputs under tests/golden/ from the current code: small
# runs of every shipped scenario (scenarios/*.toml), the reference scenario
# with patients.csv and events.csv, and its calibration. Review the diff of
# tests/golden/ and say in the commit message why the outputs changed.
#
# Usage: scripts/regen-golden.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CRMO_SIM_REGEN_GOLDEN=1 cargo test --release --test golden -- --test-threads 1
git status --short tests/golden/
