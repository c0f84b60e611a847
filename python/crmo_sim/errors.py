"""The exceptions crmo-sim raises.

Every error the library reports is a :class:`CrmoSimError`; the message is
exactly what the ``crmo-sim`` command prints after ``error:``. A scenario
that cannot be used raises :class:`ScenarioError`, a :class:`ValueError`
whose ``path``, ``line`` and ``column`` say where (when known). Ctrl-C
during a run raises :class:`KeyboardInterrupt`, as anywhere in Python.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "CrmoSimError",
    "ScenarioError",
    "UsageError",
    "OutputError",
    "NotFoundError",
    "PlotError",
    "CrmoSimWarning",
]


class CrmoSimError(Exception):
    """An error reported by crmo-sim.

    Attributes:
        message: the message, as ``crmo-sim`` prints it after ``error:``.
        path: the file concerned (the scenario, an output file), if any.
        line: 1-based line in the scenario, when known.
        column: 1-based column in the scenario, when known.
    """

    def __init__(
        self,
        message: str,
        path: Optional[str] = None,
        line: Optional[int] = None,
        column: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return self.message


class ScenarioError(CrmoSimError, ValueError):
    """The scenario cannot be read, does not parse, or a value is not
    allowed; nothing was simulated or written."""


class UsageError(CrmoSimError, ValueError):
    """An argument is not allowed (an unknown arm, a replicate that does
    not exist, a chart style...); nothing was simulated or written."""


class OutputError(CrmoSimError, OSError):
    """Results or a chart could not be written where asked (including a
    file or directory crmo-sim refuses to replace)."""

    def __init__(self, message, path=None, line=None, column=None):
        CrmoSimError.__init__(self, message, path, line, column)

    def __str__(self) -> str:
        return self.message


class NotFoundError(CrmoSimError, LookupError):
    """Nothing matched a search, e.g. no patient tells the story asked for."""


class PlotError(CrmoSimError, RuntimeError):
    """A chart could not be drawn."""


class CrmoSimWarning(UserWarning):
    """Something the user should know that did not stop the work, e.g.
    that a previous file was kept aside, or that per-patient files will be
    large (issued with :func:`warnings.warn`)."""
