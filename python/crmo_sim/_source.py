"""How a scenario argument is read: the built-in reference (None), a file
(a path-like object, or a string naming an existing file), or TOML text (a
string holding a newline or ``=``)."""

from __future__ import annotations

import operator
import os
from typing import Optional, Tuple, Union

Scenario = Union[None, str, "os.PathLike[str]"]


def scenario_source(scenario: Scenario) -> Tuple[str, Optional[str]]:
    """The (kind, value) pair the native module takes: ``("builtin", None)``,
    ``("path", path)`` or ``("text", toml_text)``."""
    if scenario is None:
        return "builtin", None
    if isinstance(scenario, os.PathLike):
        return "path", os.fspath(scenario)
    if not isinstance(scenario, str):
        raise TypeError(
            "scenario must be a path (str or os.PathLike), TOML text (str) or None "
            f"for the built-in reference scenario, not {type(scenario).__name__}"
        )
    if os.path.exists(scenario):
        return "path", scenario
    if "\n" in scenario or "=" in scenario:
        return "text", scenario
    return "path", scenario


def whole(name: str, value: Optional[int], low: int, high: int) -> Optional[int]:
    """``value`` checked to be None or a whole number in [low, high]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = operator.index(value)  # numpy integers, for one
        except TypeError:
            raise TypeError(
                f"{name} must be a whole number from {low} to {high}, not {value!r}"
            ) from None
    if not low <= value <= high:
        raise ValueError(
            f"{name} = {value} is not allowed: expected a whole number from {low} to {high}"
        )
    return int(value)
