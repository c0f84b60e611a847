"""crmo_sim.check: the resolved scenario; bad scenarios raise ScenarioError
with the file, line and column, exactly as the command line reports them."""

from __future__ import annotations

import math

import pytest

import crmo_sim

LOTS = 'name = "bad"\n[natural_history]\nflare_rate_per_year = "lots"\n'


def cli_message(proc) -> str:
    """The message of a failed command, without its ``error: `` prefix."""
    assert proc.returncode == 2, proc.stderr
    return proc.stderr.rstrip("\n").removeprefix("error: ")


def test_a_bad_value_names_file_line_and_column_like_the_cli(cli, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(LOTS)
    with pytest.raises(crmo_sim.ScenarioError) as caught:
        crmo_sim.check(str(path))
    e = caught.value
    assert isinstance(e, ValueError)
    assert (e.path, e.line, e.column) == (str(path), 3, 23)
    assert str(e) == cli_message(cli("check", path, check=False))
    assert "line 3, column 23" in str(e)
    # run refuses it the same way, before any work.
    with pytest.raises(crmo_sim.ScenarioError, match="line 3, column 23"):
        crmo_sim.run(str(path), patients=10)


def test_a_cross_field_error_has_its_location_too(cli, tmp_path):
    path = tmp_path / "ladder.toml"
    path.write_text('[[arm]]\nname = "a"\nladder = ["nsaid", "bogus"]\n')
    with pytest.raises(crmo_sim.ScenarioError) as caught:
        crmo_sim.check(path)
    assert (caught.value.line, caught.value.column) == (3, 20)
    assert str(caught.value) == cli_message(cli("check", path, check=False))
    assert "unknown drug `bogus`" in str(caught.value)


def test_toml_text_errors_name_the_string():
    with pytest.raises(crmo_sim.ScenarioError) as caught:
        crmo_sim.check(LOTS)
    assert str(caught.value).startswith("<string>: ")
    assert (caught.value.line, caught.value.column) == (3, 23)


def test_a_missing_file_is_a_scenario_error(tmp_path):
    with pytest.raises(crmo_sim.ScenarioError, match="cannot read scenario"):
        crmo_sim.check(str(tmp_path / "nowhere.toml"))


def test_check_returns_the_resolved_values(repo, cli):
    resolved = crmo_sim.check(repo / "scenarios" / "reference.toml")
    assert resolved["name"] == "reference"
    assert resolved["seed"] == 20261125 and resolved["patients"] == 20000
    assert resolved["horizon_years"] == 10.0
    assert resolved["cohort"]["female_frac"] == 0.65
    assert resolved["natural_history"]["flare_rate_per_year"] == 3.0
    assert math.isinf(resolved["natural_history_majeed"]["resolution_median_years"])
    assert resolved["site_weights"]["tibia"] == 0.22
    assert [a["name"] for a in resolved["arms"]] == ["nsaid-pamidronate-tnf"]
    assert resolved["arms"][0]["ladder"] == [["nsaid"], ["pamidronate"], ["tnf_inhibitor"]]
    assert resolved["drugs"]["pamidronate"]["course_days"] == 3.0
    assert resolved["output"] == {
        "patients": False, "events": False, "compression": "none", "timeseries_step_weeks": 1,
    }
    # Every value check prints is there, and the listing is what it prints.
    listing = cli("check", repo / "scenarios" / "reference.toml").stdout
    assert resolved["listing"] == listing
    for name, value in resolved["natural_history"].items():
        assert f"  {name} = " in listing, name


def test_check_defaults_fill_in_what_text_leaves_out():
    resolved = crmo_sim.check('name = "tiny"\npatients = 50\n', seed=9)
    assert (resolved["name"], resolved["patients"], resolved["seed"]) == ("tiny", 50, 9)
    assert resolved["natural_history"] == crmo_sim.check(None)["natural_history"]
    assert resolved["arms"][0]["untreated"] is True
