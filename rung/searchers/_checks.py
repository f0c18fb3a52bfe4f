"""Argument checks shared by the searchers' constructors (each error names the argument)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def int_at_least(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int if it is one (not a bool) and ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {name}={value!r}")
    return int(value)


def fraction(name: str, value: Any, *, closed: bool) -> float:
    """``value`` as a float in [0, 1] (``closed``) or (0, 1)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (0 <= value <= 1 if closed else 0 < value < 1)
    if not ok:
        interval = "[0, 1]" if closed else "(0, 1)"
        raise ValueError(f"{name} must be a number in {interval}, got {name}={value!r}")
    return float(value)


def positive_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive number, got {name}={value!r}")
    return float(value)


def flag(name: str, value: Any) -> bool:
    """``value`` if it is a bool: a string such as ``"false"`` would otherwise count as True."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {name}={value!r}")
    return bool(value)


def one_of(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)
