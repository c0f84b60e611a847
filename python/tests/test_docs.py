"""The Python examples of the README and of docs/python.md run as shown
(in a scratch directory beside the shipped scenarios, plots drawn off
screen), so the documentation cannot drift from the package."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

DOCS = ("README.md", "docs/python.md")


def python_blocks(text: str) -> list:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def examples():
    for doc in DOCS:
        path = REPO / doc
        if path.is_file():
            for i, block in enumerate(python_blocks(path.read_text())):
                yield pytest.param(block, id=f"{doc}#{i}")


@pytest.mark.parametrize("block", list(examples()))
def test_the_example_runs(block, repo, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").symlink_to(repo / "scenarios")
    exec(compile(block, "<example>", "exec"), {"__name__": "__example__"})


def test_the_guides_have_examples():
    assert len(list(examples())) >= 5
