"""crmo-sim from Python: simulate CRMO and Majeed syndrome cohorts and get
the results as pandas data frames.

>>> import crmo_sim
>>> res = crmo_sim.run("scenarios/reference.toml", patients=2000, seed=5)
>>> res.summary.head()

- :func:`run` simulates a scenario (a file, TOML text, or None for the
  built-in reference) and returns :class:`Results`, whose frames equal the
  CSV files ``crmo-sim run`` writes; ``out=`` also writes the result directory.
- :func:`check` validates a scenario and returns its resolved values.
- :func:`course_chart` draws one virtual patient's course (PNG or SVG).

The simulation runs in native code on a pool of worker threads, without
the GIL; Ctrl-C stops it cleanly (nothing is written) and raises
KeyboardInterrupt. Errors are the classes of :mod:`crmo_sim.errors`.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings as _warnings
from pathlib import Path
from typing import Callable, Optional, Union

from . import _native
from ._results import Results
from ._source import Scenario, scenario_source, whole
from .errors import (
    CrmoSimError,
    CrmoSimWarning,
    NotFoundError,
    OutputError,
    PlotError,
    ScenarioError,
    UsageError,
)

__all__ = [
    "run",
    "check",
    "course_chart",
    "Results",
    "CrmoSimError",
    "ScenarioError",
    "UsageError",
    "OutputError",
    "NotFoundError",
    "PlotError",
    "CrmoSimWarning",
    "__version__",
]

__version__ = _native.VERSION

PathLike = Union[str, "os.PathLike[str]"]


def _overrides(patients, seed):
    return (
        whole("patients", patients, 1, _native.MAX_PATIENTS),
        whole("seed", seed, 0, _native.MAX_SEED),
    )


def _warn(messages) -> None:
    """Issues each of the library's warnings as a CrmoSimWarning."""
    for message in messages:
        _warnings.warn(message, CrmoSimWarning, stacklevel=3)


def _years(years) -> tuple:
    """A time window ``(a, b)`` in years since onset, 0 <= a < b, finite."""
    try:
        a, b = (float(y) for y in years)
    except (TypeError, ValueError):
        raise TypeError(f"years must be a pair (a, b) of years since onset, not {years!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and 0.0 <= a < b):
        raise ValueError(f"years = {years!r} is not allowed: expected (a, b) with 0 <= a < b, in years since onset")
    return a, b


def check(scenario: Scenario = None, *, patients: Optional[int] = None, seed: Optional[int] = None) -> dict:
    """Validates a scenario and returns its resolved values.

    ``scenario`` is a path, TOML text, or None for the built-in reference.
    The dict holds what ``crmo-sim check`` prints, with every default filled
    in: ``name``, ``source``, ``seed``, ``patients``, ``replicates``,
    ``horizon_years``, ``cohort``, ``natural_history`` (and
    ``natural_history_majeed`` where Majeed syndrome differs),
    ``site_weights``, ``imaging``, ``output``, ``drugs`` (the values
    replicate 0 uses), ``arms``, ``reference_arm``, ``differential``,
    ``economics``, ``drawn`` (values replicate 0 drew from distributions),
    ``sweep``, and ``listing`` (the text ``crmo-sim check`` prints).
    A parameter given as a distribution shows as the text ``check`` prints.

    Raises:
        ScenarioError: the scenario is not valid; the message names the
            file, line and column, as the command line's does.
    """
    kind, value = scenario_source(scenario)
    patients, seed = _overrides(patients, seed)
    return _native.check(kind, value, patients, seed)


def run(
    scenario: Scenario = None,
    patients: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    out: Optional[PathLike] = None,
    *,
    replace: bool = False,
    plots: bool = False,
    reference_arm: Optional[str] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> Results:
    """Simulates a scenario's cohort and returns its results as data frames.

    Args:
        scenario: a scenario file, TOML text (a string holding a newline or
            ``=``), or None for the built-in reference scenario.
        patients: patients per replicate (overrides the scenario's).
        seed: seed, 0 to 2**63-1 (overrides the scenario's).
        threads: worker threads (default: RAYON_NUM_THREADS, else all cores).
            The results do not depend on it.
        out: also write the result directory here, as ``crmo-sim run --out``
            does (an existing directory is replaced only if it holds nothing
            but an earlier result's own files).
        replace: replace ``out`` even if it holds other files (the old
            directory is moved aside to ``<out>.old-<time>``, never deleted).
        plots: also draw the cohort plots into ``out``.
        reference_arm: the arm ``differences`` pairs every other arm against
            (default: the scenario's ``reference_arm``, else the first arm).
        progress: called as ``progress(done, total)`` (patients simulated,
            per arm) about 20 times a second while the run goes, and once
            at its end, in the calling thread; an exception it raises stops
            the run (nothing is written) and propagates.

    Returns:
        :class:`Results`.

    Raises:
        ScenarioError: the scenario is not valid (nothing runs).
        KeyboardInterrupt: Ctrl-C; the run stops and nothing is written.
    """
    kind, value = scenario_source(scenario)
    patients, seed = _overrides(patients, seed)
    threads = whole("threads", threads, 1, _native.MAX_THREADS)
    command = ["crmo_sim.run", f"scenario={value if kind == 'path' else '<' + kind + '>'}"]
    for name, given in (("patients", patients), ("seed", seed), ("threads", threads), ("out", out)):
        if given is not None:
            command.append(f"{name}={os.fspath(given) if name == 'out' else given}")
    args = dict(
        kind=kind,
        value=value,
        patients=patients,
        seed=seed,
        threads=threads,
        replace=replace,
        plots=plots,
        reference_arm=reference_arm,
        command=command,
        progress=progress,
    )
    if out is not None:
        tables, written, warnings, wall = _native.run(out=os.fspath(out), **args)
        results = Results.from_written(tables, Path(written), warnings, wall, keep_dir=True)
    else:
        with tempfile.TemporaryDirectory(prefix="crmo-sim-") as tmp:
            tables, written, warnings, wall = _native.run(out=os.path.join(tmp, "result"), **args)
            results = Results.from_written(tables, Path(written), warnings, wall, keep_dir=False)
    _warn(warnings)
    return results


def course_chart(
    scenario: Scenario = None,
    patient: Optional[int] = None,
    story: Optional[str] = None,
    style: str = "slide",
    path: Optional[PathLike] = None,
    arm: Optional[str] = None,
    *,
    replicate: int = 0,
    rank: int = 1,
    title: Optional[str] = None,
    replace: bool = False,
    width: Optional[int] = None,
    height: Optional[int] = None,
    years: Optional[tuple] = None,
    patients: Optional[int] = None,
    seed: Optional[int] = None,
) -> Path:
    """Draws one virtual patient's course chart and returns its path.

    Args:
        scenario: a scenario file, TOML text, or None for the reference.
        patient: the patient's index (0 to patients-1); or give ``story``.
        story: draw the first patient whose course tells this story (one of
            monophasic, relapsing, persistent, relapse-after-taper,
            top-of-ladder, adverse-event, fracture, silent-lesions,
            late-diagnosis, majeed; ``_`` may stand for ``-``).
        style: ``"slide"`` (1920x1080, large text) or ``"paper"`` (1600x900).
        path: the image file, ``.png`` or ``.svg`` (default:
            ``output/charts/<scenario>/course-<patient>.png``). An existing
            file is replaced only if it is a chart crmo-sim wrote, unchanged.
        arm: the arm to follow (default: the first).
        replicate: the replicate to draw the patient from.
        rank: with ``story``, draw the rank-th most typical patient who
            tells it (1 = the most typical).
        title: the chart's title (default: patient, sex, onset age, genotype).
        replace: move a file crmo-sim did not write aside to
            ``<file>.old-<time>`` instead of refusing (nothing is deleted).
        width, height: pixels (default: the style's size).
        years: ``(a, b)``, the time window in years since onset.
        patients, seed: override the scenario's (they pick the patients).

    Raises:
        UsageError: the file exists and is not crmo-sim's, or an argument is
            not allowed; nothing is written.
        NotFoundError: no patient tells the story.
    """
    kind, value = scenario_source(scenario)
    patients, seed = _overrides(patients, seed)
    patient = whole("patient", patient, 0, _native.MAX_PATIENTS - 1)
    replicate = whole("replicate", replicate, 0, 2**32 - 1)
    rank = whole("rank", rank, 1, 1_000_000)
    width = whole("width", width, 400, 8000)
    height = whole("height", height, 300, 8000)
    if years is not None:
        years = _years(years)
    drawn, _patient, _why, warnings = _native.course_chart(
        kind,
        value,
        patient,
        story,
        style,
        None if path is None else os.fspath(path),
        arm,
        replicate,
        replace,
        width,
        height,
        years,
        patients,
        seed,
        rank,
        title,
    )
    _warn(warnings)
    return Path(drawn)
