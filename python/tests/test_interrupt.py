"""Ctrl-C during crmo_sim.run: KeyboardInterrupt within seconds, and no
result directory (nor anything staged) is left."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

LONG_RUN = """
import sys, crmo_sim
print("starting", flush=True)
crmo_sim.run(None, patients=10_000_000, threads=1, out=sys.argv[1])
print("finished", flush=True)
"""


def test_sigint_stops_a_long_run_and_leaves_nothing(tmp_path):
    out = tmp_path / "result"
    proc = subprocess.Popen(
        [sys.executable, "-c", LONG_RUN, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "starting"
        time.sleep(1.5)  # well into the simulation, which takes a minute
        assert proc.poll() is None, "the run is still going"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "KeyboardInterrupt" in stderr, stderr
    assert proc.returncode != 0 and "finished" not in stdout
    assert took < 5.0, f"stopped {took:.1f} s after SIGINT"
    assert list(tmp_path.iterdir()) == [], "no result directory, nothing staged"
