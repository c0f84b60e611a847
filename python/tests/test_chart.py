"""crmo_sim.course_chart: PNG and SVG through the library's chart file,
never over a file crmo-sim did not write."""

from __future__ import annotations

import pytest

import crmo_sim

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_a_png_course_chart(tmp_path):
    path = crmo_sim.course_chart(None, patient=3, path=tmp_path / "p3.png")
    assert path == tmp_path / "p3.png"
    assert path.read_bytes().startswith(PNG_MAGIC)
    # Its own chart is replaced without asking.
    again = crmo_sim.course_chart(None, patient=4, style="paper", path=path)
    assert again.read_bytes().startswith(PNG_MAGIC)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p3.png"], "nothing staged is left"


def test_an_svg_chart_by_story(tmp_path):
    path = crmo_sim.course_chart(None, story="relapsing", path=tmp_path / "story.svg")
    assert path.read_text().lstrip().startswith(("<svg", "<?xml"))
    second = crmo_sim.course_chart(None, story="relapsing", rank=2, title="Relapsing", path=tmp_path / "second.png")
    assert second.read_bytes().startswith(PNG_MAGIC)
    # The command line's spelling, or underscores.
    for story in ("relapse-after-taper", "relapse_after_taper"):
        drawn = crmo_sim.course_chart(None, story=story, path=tmp_path / f"{story}.png")
        assert drawn.read_bytes().startswith(PNG_MAGIC)


def test_a_users_file_is_never_overwritten(tmp_path):
    mine = tmp_path / "figure.png"
    mine.write_bytes(b"my own figure")
    with pytest.raises(crmo_sim.UsageError, match="not a chart crmo-sim wrote"):
        crmo_sim.course_chart(None, patient=0, path=mine)
    assert mine.read_bytes() == b"my own figure"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png"]
    # replace=True moves it aside, never deletes it, and says so.
    with pytest.warns(crmo_sim.CrmoSimWarning, match="figure.png"):
        crmo_sim.course_chart(None, patient=0, path=mine, replace=True)
    assert mine.read_bytes().startswith(PNG_MAGIC)
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("figure.png.old-")]
    assert len(aside) == 1 and aside[0].read_bytes() == b"my own figure"


def test_the_default_path_is_under_output_charts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = crmo_sim.course_chart(None, patient=2)
    assert path.as_posix() == "output/charts/reference/course-2.png"
    assert (tmp_path / path).read_bytes().startswith(PNG_MAGIC)


def test_bad_requests_are_refused(tmp_path):
    with pytest.raises(crmo_sim.UsageError, match="give patient=N"):
        crmo_sim.course_chart(None, path=tmp_path / "x.png")
    with pytest.raises(crmo_sim.UsageError, match="not a story"):
        crmo_sim.course_chart(None, story="happy", path=tmp_path / "x.png")
    with pytest.raises(crmo_sim.UsageError, match="png or .svg"):
        crmo_sim.course_chart(None, patient=1, path=tmp_path / "x.jpg")
    with pytest.raises(crmo_sim.UsageError, match="arm"):
        crmo_sim.course_chart(None, patient=1, arm="nope", path=tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
