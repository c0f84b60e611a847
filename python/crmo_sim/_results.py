"""The results of a run as pandas data frames.

Every table is parsed with :func:`pandas.read_csv` from the exact CSV text
the result directory holds (the library's own writer produced it), so a
frame has the same columns and values as the file ``crmo-sim run`` writes.
Per-patient and per-event rows (when the scenario's ``[output]`` asks for
them) are read from the files written.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Dict, List, Optional

import pandas as pd

# The tables every run may write, as attributes of Results, in file order.
TABLES = (
    "summary",
    "differences",
    "metrics",
    "timeseries",
    "timeseries_from_diagnosis",
    "km",
)
# The row files a scenario may ask for in [output].
ROWS = ("patients", "events")


def read_table(text: str) -> pd.DataFrame:
    """A frame from CSV text, as pandas reads the file."""
    return pd.read_csv(io.StringIO(text))


def row_file(directory: Path, name: str) -> Optional[Path]:
    """``name``.csv or ``name``.csv.gz in ``directory``, if written."""
    for candidate in (f"{name}.csv", f"{name}.csv.gz"):
        path = directory / candidate
        if path.is_file():
            return path
    return None


class Results:
    """The results of one run of a scenario.

    Attributes (pandas DataFrames, the same columns and values as the CSV
    files of ``crmo-sim run``; None when the run has no such file, e.g.
    ``differences`` with a single arm):

    - ``summary``: arm, metric, mean, 95% interval, MCSE.
    - ``differences``: paired differences of every arm against the reference arm.
    - ``metrics``: what each metric measures, its unit and population.
    - ``timeseries``: weekly state occupancy, pain and drug exposure per arm.
    - ``timeseries_from_diagnosis``: monthly course after diagnosis.
    - ``km``: Kaplan-Meier curves with Greenwood intervals, per arm and endpoint.
    - ``patients``, ``events``: per-patient and per-event rows, when the
      scenario's ``[output]`` asks for them.

    Also: ``manifest`` (dict, the run's ``manifest.json``), ``dir`` (the
    result directory when ``out=`` was given, else None), ``warnings``,
    ``wall_seconds``, ``tables`` (every CSV table by name) and
    :meth:`csv` (the CSV text of a table).
    """

    def __init__(
        self,
        csv_texts: Dict[str, str],
        manifest: dict,
        directory: Optional[Path],
        rows: Dict[str, pd.DataFrame],
        warnings: List[str],
        wall_seconds: float,
    ) -> None:
        self._csv = csv_texts
        self._frames: Dict[str, pd.DataFrame] = {}
        self._rows = rows
        self.manifest = manifest
        self.dir = directory
        self.warnings = warnings
        self.wall_seconds = wall_seconds

    @classmethod
    def from_written(
        cls,
        tables: List[tuple],
        written: Path,
        warnings: List[str],
        wall_seconds: float,
        keep_dir: bool,
    ) -> "Results":
        """Results from the native run's tables and the directory it wrote;
        rows are read now, as the directory may be temporary."""
        csv_texts = {name.removesuffix(".csv"): text for name, text in tables}
        with open(written / "manifest.json", encoding="utf-8") as f:
            manifest = json.load(f)
        rows = {}
        for name in ROWS:
            path = row_file(written, name)
            if path is not None:
                rows[name] = pd.read_csv(path)
        return cls(csv_texts, manifest, written if keep_dir else None, rows, warnings, wall_seconds)

    def csv(self, name: str) -> str:
        """The CSV text of table ``name`` (e.g. ``"summary"``), exactly as
        the file in the result directory."""
        try:
            return self._csv[name]
        except KeyError:
            raise KeyError(f"no table {name!r} in this run; tables: {', '.join(self._csv)}") from None

    def table(self, name: str) -> pd.DataFrame:
        """The frame of table ``name`` (parsed once, then kept)."""
        if name not in self._frames:
            self._frames[name] = read_table(self.csv(name))
        return self._frames[name]

    @property
    def tables(self) -> Dict[str, pd.DataFrame]:
        """Every CSV table of the run (the files other than row files), by name."""
        return {name: self.table(name) for name in self._csv}

    def _optional(self, name: str) -> Optional[pd.DataFrame]:
        return self.table(name) if name in self._csv else None

    @property
    def summary(self) -> Optional[pd.DataFrame]:
        """summary.csv: arm, metric, mean, lower_95, upper_95, mcse."""
        return self._optional("summary")

    @property
    def differences(self) -> Optional[pd.DataFrame]:
        """differences.csv: paired differences against the reference arm
        (None with a single arm)."""
        return self._optional("differences")

    @property
    def metrics(self) -> Optional[pd.DataFrame]:
        """metrics.csv: metric, unit, population, definition."""
        return self._optional("metrics")

    @property
    def timeseries(self) -> Optional[pd.DataFrame]:
        """timeseries.csv: weekly occupancy, pain and drug exposure per arm."""
        return self._optional("timeseries")

    @property
    def timeseries_from_diagnosis(self) -> Optional[pd.DataFrame]:
        """timeseries_from_diagnosis.csv: the course by month since diagnosis."""
        return self._optional("timeseries_from_diagnosis")

    @property
    def km(self) -> Optional[pd.DataFrame]:
        """km.csv: Kaplan-Meier curves (arm, endpoint, time_days, at_risk,
        events, censored, survival, lower_95, upper_95)."""
        return self._optional("km")

    @property
    def patients(self) -> Optional[pd.DataFrame]:
        """patients.csv: one row per patient (None unless the scenario's
        ``[output] patients = true``)."""
        return self._rows.get("patients")

    @property
    def events(self) -> Optional[pd.DataFrame]:
        """events.csv: one row per event (None unless the scenario's
        ``[output] events = true``)."""
        return self._rows.get("events")

    @property
    def arms(self) -> List[str]:
        """The arms, in scenario order."""
        return list(self.manifest.get("arms", []))

    def __repr__(self) -> str:
        m = self.manifest
        head = (
            f"<crmo_sim.Results of scenario {m.get('scenario')!r}: "
            f"{m.get('patients')} patients x {m.get('replicates')} replicate(s), "
            f"seed {m.get('seed')}, arms {', '.join(self.arms)}; {self.wall_seconds:.2f} s"
        )
        frames = [f"{name} ({self._csv[name].count(chr(10)) - 1} rows)" for name in self._csv]
        frames += [f"{name} ({len(frame)} rows)" for name, frame in self._rows.items()]
        lines = [head, "  frames: " + ", ".join(frames)]
        lines.append(f"  written to {self.dir}" if self.dir is not None else "  not written (out=None)")
        for w in self.warnings:
            lines.append(f"  warning: {w}")
        return "\n".join(lines) + ">"
