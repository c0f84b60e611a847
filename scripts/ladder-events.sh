#!/usr/bin/env bash
# How the reference ladder runs, read from events.csv (the figures of the
# "value stability" note of docs/calibration.md; `tests/ladder.rs` asserts the first two):
# diagnosed patients who spend more than 6 weeks at a stretch in a flare with
# no drug, failed drugs started after an adverse event, how many NSAID
# responders and non-responders reach the second step, and the 5th percentile
# of the diagnostic delay (onset is day 0 of each patient).
#
# Usage: scripts/ladder-events.sh [PATIENTS]
#   PATIENTS  cohort size (default 5000)
# Exit status: 0 on success, 2 when the build or the run failed.

set -euo pipefail

cd "$(dirname "$0")/.."
patients=${1:-5000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

awk -v patients="$patients" '
    /^patients = / { print "patients = " patients; next }
    /^\[\[arm\]\]/ && !added { print "[output]\nevents = true\n"; added = 1 }
    { print }
' scenarios/reference.toml >"$work/reference.toml"
cargo build --release --quiet || exit 2
"${CARGO_TARGET_DIR:-target}/release/crmo-sim" run "$work/reference.toml" --out "$work/out" --no-plots -q || exit 2

python3 - "$work/out" <<'PY' || exit 2
import csv, sys, collections, math
ev = collections.defaultdict(list)
for r in csv.DictReader(open(f"{sys.argv[1]}/events.csv")):
    ev[r["patient"]].append(r)
diagnosed = long_untreated = failed_after_ae = ae_stops = 0
reached = {True: [0, 0], False: [0, 0]}
delays = []
for rows in ev.values():
    dx = False; in_flare = False; on = set(); failed = set(); after_ae = False
    since = None; longest = 0.0; nsaid = None; second = False
    for r in rows:
        t, e, d = float(r["time_days"]), r["event"], r["drug"]
        if e == "diagnosis": dx = True; delays.append(t)
        elif e == "flare_start": in_flare = True
        elif e in ("flare_end", "end", "lost_to_follow_up"): in_flare = False
        elif e == "drug_effect":
            if r["responder"] == "false": failed.add(d)
            if d == "nsaid" and nsaid is None: nsaid = r["responder"] == "true"
        elif e == "drug_start":
            failed_after_ae += after_ae and d in failed
            after_ae = False; on.add(d); second |= r["step"] != "1"
        elif e == "drug_stop":
            on.discard(d)
            if r["reason"] == "adverse_event": after_ae = True; ae_stops += 1
        untreated = dx and in_flare and not on
        if untreated and since is None: since = t
        if not untreated and since is not None: longest = max(longest, t - since); since = None
    if dx:
        diagnosed += 1; long_untreated += longest > 42
        if nsaid is not None: reached[nsaid][0] += 1; reached[nsaid][1] += second
print(f"diagnosed patients more than 6 weeks in a flare with no drug: {long_untreated} of {diagnosed} ({long_untreated / diagnosed:.4f})")
print(f"failed drugs started after an adverse event: {failed_after_ae} (after {ae_stops} adverse-event stops)")
# The smallest delay with at least 5% of the diagnosed patients at or below it.
delays.sort()
p5 = delays[max(math.ceil(0.05 * len(delays)) - 1, 0)]
print(f"5th percentile of the diagnostic delay: {p5:.1f} days ({len(delays)} diagnosed patients)")
for resp, (n, k) in sorted(reached.items(), reverse=True):
    print(f"NSAID {'responders' if resp else 'non-responders'} reaching the second step within the horizon: {k} of {n} ({k / max(n, 1):.3f})")
PY
