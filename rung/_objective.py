"""What the experiment optimizes: one metric, minimized or maximized.

Every part that ranks values (the tuner's incumbent and threshold, the result, the
schedulers' rungs, the searchers' models, the CLI's tables) asks an :class:`Objective`
instead of writing out ``a < b if mode == "min" else a > b`` again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Literal, TypeVar, cast

MODES = ("min", "max")

Mode = Literal["min", "max"]
T = TypeVar("T")


def check_mode(mode: Any) -> Mode:
    """``mode`` if it is ``"min"`` or ``"max"``; otherwise a ValueError naming it."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'min' or 'max', got mode={mode!r}")
    return cast(Mode, mode)


def check_metric(metric: Any, *, required: bool = False) -> str | None:
    """``metric`` if it is a non-empty string (or None when not ``required``)."""
    if metric is None:
        if required:
            raise ValueError("metric is required: the name of the reported value to optimize")
        return None
    if not isinstance(metric, str) or not metric:
        raise ValueError(f"metric must be a non-empty string, got metric={metric!r}")
    return metric


@dataclass(frozen=True)
class Objective:
    """The metric to optimize and its direction; decides which of two values is better.

    >>> Objective("loss", "min").better(0.1, 0.2)
    True
    >>> Objective("accuracy", "max").oriented(0.9)
    -0.9
    """

    metric: str
    mode: str = "min"  #: ``"min"`` or ``"max"`` (checked)

    def __post_init__(self) -> None:
        check_metric(self.metric, required=True)
        check_mode(self.mode)

    @property
    def sign(self) -> float:
        """+1 when minimizing, -1 when maximizing: ``sign * value`` is a loss."""
        return 1.0 if self.mode == "min" else -1.0

    @property
    def worst(self) -> float:
        """A value every finite value beats (+inf when minimizing)."""
        return math.inf if self.mode == "min" else -math.inf

    def oriented(self, value: float) -> float:
        """``value`` as a loss: unchanged when minimizing, negated when maximizing."""
        return float(value) if self.mode == "min" else -float(value)

    def better(self, value: float, than: float | None) -> bool:
        """True if ``value`` is strictly better than ``than`` (anything beats None)."""
        if than is None:
            return True
        return value < than if self.mode == "min" else value > than

    def at_least_as_good(self, value: float, than: float) -> bool:
        """True if ``value`` is as good as ``than`` or better (a threshold is reached)."""
        return value <= than if self.mode == "min" else value >= than

    def best(self, values: Iterable[float]) -> float | None:
        """The best of ``values`` (None when there are none)."""
        best: float | None = None
        for value in values:
            if self.better(value, best):
                best = value
        return best

    def sort_key(self, value: float) -> float:
        """Key that sorts values best first."""
        return self.oriented(value)

    def ranked(self, items: Iterable[T], value: Any) -> list[T]:
        """``items`` sorted best first by ``value(item)`` (stable for ties)."""
        return sorted(items, key=lambda item: self.oriented(value(item)))
