"""Field checks that turn a bad value into a SpecError naming its file, field path and line."""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .._names import name_problem
from ._errors import SpecError
from ._source import FieldPath

# PyYAML follows YAML 1.1, where a float needs a dot and a signed exponent: 1e-4 and 1.0e4
# are strings. Users trip on this constantly, so errors about such strings say so.
_YAML11_FLOATISH = re.compile(r"[-+]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)[eE][-+]?\d+")


def format_path(path: Iterable[Any]) -> str:
    """``("searcher", "points_to_evaluate", 0)`` -> ``"searcher.points_to_evaluate[0]"``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def number_hint(value: Any) -> str:
    """A hint when ``value`` is a string YAML 1.1 did not read as the number it looks like."""
    if isinstance(value, str) and _YAML11_FLOATISH.fullmatch(value.strip()):
        return (
            f" (YAML reads {value} as a string: write floats with a dot and a signed exponent, "
            "e.g. 1.0e-4 or 1.0e+3)"
        )
    return ""


def describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def closest(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` when ``name`` looks like a typo of a known name, else a list."""
    known = list(known)
    match = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    if match:
        return f"; did you mean {match[0]!r}?"
    return f" (known: {', '.join(known)})"


class Checker:
    """Checks values of one spec, knowing its file name and the line of each field path."""

    def __init__(self, file: str, lines: Mapping[FieldPath, int] | None = None) -> None:
        self.file = file
        self.lines = dict(lines or {})

    def line(self, path: FieldPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor written in the file."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def error(self, path: FieldPath, reason: str) -> SpecError:
        return SpecError(reason, self.file, format_path(path) or None, self.line(path))

    # -- shapes ------------------------------------------------------------------------------
    def mapping(
        self, value: Any, path: FieldPath, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> dict[str, Any]:
        """``value`` as a dict whose keys are all ``allowed`` and include every ``required``."""
        allowed = list(allowed)
        if not isinstance(value, Mapping):
            what = "the spec" if not path else "this field"
            raise self.error(path, f"{what} must be a mapping with fields {', '.join(allowed)}; got {describe(value)}")
        for key in value:
            if key not in allowed:
                raise self.error((*path, key), f"unknown field{closest(key, allowed)}")
        for key in required:
            if key not in value:
                raise self.error((*path, key), "required field is missing")
            if value[key] is None:
                raise self.error((*path, key), "required field is empty")
        return dict(value)

    def string(self, value: Any, path: FieldPath, choices: Iterable[str] | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, f"must be a non-empty string, got {describe(value)}")
        if choices is not None:
            choices = list(choices)
            if value not in choices:
                raise self.error(path, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def experiment_name(self, value: Any, path: FieldPath) -> str:
        """A valid experiment name (``rung._names``: one plain path component)."""
        name = self.string(value, path)
        problem = name_problem(name)
        if problem is not None:
            raise self.error(path, problem)
        return name

    def string_list(self, value: Any, path: FieldPath) -> list[str]:
        """A string or a list of strings, as a list."""
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.error(path, f"must be a string or a list of strings, got {describe(value)}")
        return [self.string(item, (*path, index)) for index, item in enumerate(value)]

    # -- numbers -----------------------------------------------------------------------------
    def number(self, value: Any, path: FieldPath, positive: bool = False) -> float | int | None:
        """A finite real number (None passes), strictly positive if ``positive``."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            kind = "a positive number" if positive else "a finite number"
            raise self.error(path, f"must be {kind}, got {describe(value)}{number_hint(value)}")
        if positive and not float(value) > 0:
            raise self.error(path, f"must be a positive number, got {value!r}")
        return value if isinstance(value, int) else float(value)

    def integer(self, value: Any, path: FieldPath, positive: bool = False) -> int | None:
        """An int (None passes), strictly positive if ``positive``."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            kind = "a positive integer" if positive else "an integer"
            raise self.error(path, f"must be {kind}, got {describe(value)}{number_hint(value)}")
        if positive and value <= 0:
            raise self.error(path, f"must be a positive integer, got {value!r}")
        return value
