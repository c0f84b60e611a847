"""Shared fixtures: the repository root and the ``crmo-sim`` binary the
Python results are compared with (``CRMO_SIM_BIN``, else built with cargo
in release mode, honouring ``CARGO_TARGET_DIR``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root (scenarios/ lives there)."""
    return REPO


@pytest.fixture(scope="session")
def cli_bin() -> Path:
    """The crmo-sim binary."""
    given = os.environ.get("CRMO_SIM_BIN")
    if given:
        return Path(given)
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--bin", "crmo-sim"],
        cwd=REPO,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    return target / "release" / "crmo-sim"


@pytest.fixture
def cli(cli_bin, tmp_path):
    """Runs ``crmo-sim ARGS...`` in the repository root; returns the
    completed process (stdout and stderr as text)."""

    def run(*args, check=True):
        proc = subprocess.run(
            [str(cli_bin), *map(str, args)],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"crmo-sim {' '.join(map(str, args))} failed:\n{proc.stderr}")
        return proc

    return run
