"""crmo_sim.run: frames equal the CSV files of ``crmo-sim run`` for the same
scenario and seed, whatever the thread count; rows, out=, two arms."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmo_sim

# Row files are compared as frames, the other CSV files as text too.
ROW_FILES = {"patients.csv", "events.csv"}

TWO_ARMS_WITH_ROWS = """\
name = "two-arms"
seed = 7
horizon_years = 6

[output]
patients = true
events = true

[[arm]]
name = "nsaid-first"
ladder = ["nsaid", "pamidronate"]

[[arm]]
name = "pamidronate-first"
ladder = ["pamidronate", "nsaid"]
"""


def csv_files(directory: Path) -> dict:
    """Every CSV table of a result directory but the row files, by stem."""
    return {
        p.name[: -len(".csv")]: p
        for p in sorted(directory.glob("*.csv"))
        if p.name not in ROW_FILES
    }


def assert_same_as_cli(res: crmo_sim.Results, out: Path) -> None:
    files = csv_files(out)
    assert sorted(res.tables) == sorted(files), "the same tables as files"
    for name, path in files.items():
        assert res.csv(name) == path.read_text(), f"{name}.csv text"
        pd.testing.assert_frame_equal(res.table(name), pd.read_csv(path), check_exact=True)


def test_reference_frames_equal_the_cli_files(repo, cli, tmp_path):
    scenario = repo / "scenarios" / "reference.toml"
    cli("run", scenario, "--patients", 2000, "--seed", 5, "--out", tmp_path / "cli", "--no-plots", "-q")
    res = crmo_sim.run(str(scenario), patients=2000, seed=5)
    assert_same_as_cli(res, tmp_path / "cli")
    pd.testing.assert_frame_equal(res.summary, pd.read_csv(tmp_path / "cli" / "summary.csv"), check_exact=True)
    assert res.differences is None, "one arm: no differences.csv"
    assert res.patients is None and res.events is None, "the reference asks for no rows"
    assert res.dir is None, "out=None keeps nothing"
    assert res.manifest["seed"] == 5 and res.manifest["patients"] == 2000
    assert res.manifest["arms"] == ["nsaid-pamidronate-tnf"]


def test_the_frames_have_the_documented_columns(repo):
    res = crmo_sim.run(repo / "scenarios" / "early-bisphosphonate.toml", patients=300, seed=1)
    assert list(res.summary.columns) == ["arm", "metric", "mean", "lower_95", "upper_95", "mcse"]
    assert list(res.differences.columns) == [
        "arm", "reference_arm", "metric", "paired_on", "mean_difference", "lower_95", "upper_95", "std_error",
    ]
    assert list(res.metrics.columns) == ["metric", "unit", "population", "definition"]
    assert list(res.km.columns) == [
        "arm", "endpoint", "time_days", "at_risk", "events", "censored", "survival", "lower_95", "upper_95",
    ]
    assert list(res.timeseries.columns[:4]) == ["arm", "week", "time_days", "active_frac"]
    assert list(res.timeseries_from_diagnosis.columns[:2]) == ["arm", "month_since_diagnosis"]
    assert set(res.summary.arm) == {"nsaid-first", "pamidronate-first"}
    assert res.summary["mean"].dtype == np.float64


def test_rows_and_out_equal_the_cli_files(cli, tmp_path):
    scenario = tmp_path / "two-arms.toml"
    scenario.write_text(TWO_ARMS_WITH_ROWS)
    cli("run", scenario, "--patients", 400, "--out", tmp_path / "cli", "--no-plots", "-q")
    out = tmp_path / "py"
    res = crmo_sim.run(scenario, patients=400, out=out)
    assert res.dir == out and (out / "manifest.json").is_file()
    assert_same_as_cli(res, tmp_path / "cli")
    for rows in ("patients", "events"):
        expected = pd.read_csv(tmp_path / "cli" / f"{rows}.csv")
        pd.testing.assert_frame_equal(getattr(res, rows), expected, check_exact=True)
        assert (out / f"{rows}.csv").read_bytes() == (tmp_path / "cli" / f"{rows}.csv").read_bytes()
    assert len(res.patients) == 2 * 400
    # Without out=, the rows come from a temporary directory that is gone after.
    again = crmo_sim.run(TWO_ARMS_WITH_ROWS, patients=400)
    assert again.dir is None
    pd.testing.assert_frame_equal(again.patients, res.patients, check_exact=True)


def test_threads_do_not_change_the_frames(repo):
    scenario = repo / "scenarios" / "early-bisphosphonate.toml"
    one = crmo_sim.run(scenario, patients=3000, seed=3, threads=1)
    two = crmo_sim.run(scenario, patients=3000, seed=3, threads=2)
    assert one.manifest["threads"] == 1 and two.manifest["threads"] == 2
    assert sorted(one.tables) == sorted(two.tables)
    for name in one.tables:
        assert one.csv(name) == two.csv(name), name
        pd.testing.assert_frame_equal(one.table(name), two.table(name), check_exact=True)


def product_limit(times: np.ndarray, observed: np.ndarray) -> pd.Series:
    """The Kaplan-Meier estimate at each distinct event time, computed here
    from (time, event) pairs: S(t) = prod over event times s <= t of
    (1 - d_s / n_s), where n_s counts those with time >= s."""
    survival, curve = 1.0, {}
    for t in np.unique(times[observed]):
        at_risk = np.sum(times >= t)
        events = np.sum((times == t) & observed)
        survival *= 1.0 - events / at_risk
        curve[t] = survival
    return pd.Series(curve)


def test_two_arms_give_a_kaplan_meier_curve_per_arm(tmp_path):
    res = crmo_sim.run(TWO_ARMS_WITH_ROWS, patients=600, seed=11)
    assert list(res.differences.arm.unique()) == ["pamidronate-first"]
    assert list(res.differences.reference_arm.unique()) == ["nsaid-first"]
    km = res.km[res.km.endpoint == "first_remission_from_onset"]
    assert set(km.arm) == {"nsaid-first", "pamidronate-first"}
    for arm, curve in km.groupby("arm"):
        assert curve.time_days.is_monotonic_increasing
        assert curve.survival.is_monotonic_decreasing
        assert ((curve.lower_95 <= curve.survival) & (curve.survival <= curve.upper_95)).all()
        # The same curve from the arm's patients: first remission, censored
        # at the end of observation, in whole days since onset (km.csv's
        # time_days).
        p = res.patients[res.patients.arm == arm]
        observed = p.first_remission_day.notna().to_numpy()
        times = np.floor(np.where(observed, p.first_remission_day, p.observed_days))
        ours = product_limit(times, observed)
        theirs = curve.set_index("time_days").survival
        expected = ours.reindex(theirs.index.astype(float), method="ffill").fillna(1.0)
        np.testing.assert_allclose(theirs.to_numpy(), expected.to_numpy(), atol=1e-6)


def test_toml_text_and_path_like_are_scenarios(repo):
    text = (repo / "scenarios" / "reference.toml").read_text()
    from_text = crmo_sim.run(text, patients=200, seed=2)
    from_path = crmo_sim.run(repo / "scenarios" / "reference.toml", patients=200, seed=2)
    from_builtin = crmo_sim.run(None, patients=200, seed=2)
    for name in from_path.tables:
        assert from_text.csv(name) == from_path.csv(name) == from_builtin.csv(name), name


def test_repr_names_the_run_and_its_frames(repo):
    res = crmo_sim.run(None, patients=100, seed=1)
    text = repr(res)
    assert "reference" in text and "100 patients" in text and "seed 1" in text
    assert "summary (" in text and "km (" in text


def test_out_refuses_a_directory_of_someone_elses_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    with pytest.raises(crmo_sim.CrmoSimError):
        crmo_sim.run(None, patients=100, out=out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"], "nothing staged is left"


def test_bad_arguments_are_refused_before_any_work():
    with pytest.raises(ValueError, match="patients = 0"):
        crmo_sim.run(None, patients=0)
    with pytest.raises(TypeError):
        crmo_sim.run(None, seed=1.5)
    with pytest.raises(ValueError, match="threads"):
        crmo_sim.run(None, threads=0)


def test_the_simulation_releases_the_gil():
    """Python keeps running while a run simulates in another thread: the
    longest pause of a loop in this thread stays far below the run's time
    (holding the GIL, the run would pause it for all of it)."""
    finished = {}

    def work():
        finished["res"] = crmo_sim.run(None, patients=400_000, seed=1, threads=1)

    worker = threading.Thread(target=work)
    worker.start()
    last, longest = time.monotonic(), 0.0
    while worker.is_alive():
        now = time.monotonic()
        longest, last = max(longest, now - last), now
        time.sleep(0.001)
    worker.join()
    wall = finished["res"].wall_seconds
    assert wall > 0.3, f"the run is long enough to tell ({wall:.2f} s)"
    assert longest < wall / 3, f"longest pause {longest:.3f} s in a {wall:.2f} s run"


def test_progress_is_reported_and_can_stop_the_run(tmp_path):
    calls = []
    res = crmo_sim.run(None, patients=100_000, seed=1, threads=1, progress=lambda d, t: calls.append((d, t)))
    done = [d for d, _ in calls]
    assert done == sorted(done), "patients done never go back"
    assert calls[-1] == (100_000, 100_000), "the last call says everything is done"
    assert res.manifest["patients"] == 100_000

    class Enough(Exception):
        pass

    def stop(done, total):
        raise Enough

    out = tmp_path / "result"
    with pytest.raises(Enough):
        crmo_sim.run(None, patients=2_000_000, threads=1, out=out, progress=stop)
    assert list(tmp_path.iterdir()) == [], "stopped: no result directory, nothing staged"
