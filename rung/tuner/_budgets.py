"""Budgets: when an experiment ends, and why. Every limit is checked here and nowhere else.

The first budget reached ends the run and names the reason (``max_trials``,
``max_wallclock``, ``metric_threshold``, ``max_failures``, ``initial_failures``,
``interrupted``, ``stop_requested``, ``search_exhausted``); :class:`StopSignal` keeps the
first one.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass
from typing import Any, Callable

from .._objective import Objective


def positive(name: str, value: Any, kind: type = float, allow_none: bool = True) -> Any:
    """``value`` as a positive ``kind``; a ValueError naming ``name`` otherwise."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind is int:
        ok = ok and float(value).is_integer()
    if not ok or not value > 0 or (isinstance(value, float) and not math.isfinite(value)):
        expected = "a positive integer" if kind is int else "a positive number"
        raise ValueError(f"{name} must be {expected}, got {name}={value!r}")
    return kind(value)


@dataclass(frozen=True)
class Budgets:
    """The limits of one experiment (None: no limit)."""

    max_trials: int | None = None
    max_wallclock: float | None = None
    metric_threshold: float | None = None
    max_failures: int | None = None
    trial_timeout: float | None = None
    #: The first this-many trials all failing the same way (none succeeding) end the run.
    max_initial_failures: int | None = 5

    @classmethod
    def checked(cls, *, max_trials: Any = None, max_wallclock: Any = None, metric_threshold: Any = None,
                max_failures: Any = None, trial_timeout: Any = None,
                max_initial_failures: Any = 5) -> "Budgets":
        """Budgets from user input, each checked with its own name in the error."""
        if metric_threshold is not None and (
            isinstance(metric_threshold, bool) or not isinstance(metric_threshold, numbers.Real)
        ):
            raise ValueError(f"metric_threshold must be a number, got metric_threshold={metric_threshold!r}")
        if metric_threshold is not None and not math.isfinite(metric_threshold):
            # nan is never reached and an infinite threshold only by an infinite value
            raise ValueError(f"metric_threshold must be a finite number, got metric_threshold={metric_threshold!r}")
        return cls(
            max_trials=positive("max_trials", max_trials, int),
            max_wallclock=positive("max_wallclock", max_wallclock),
            metric_threshold=None if metric_threshold is None else float(metric_threshold),
            max_failures=positive("max_failures", max_failures, int),
            trial_timeout=positive("trial_timeout", trial_timeout),
            max_initial_failures=positive("max_initial_failures", max_initial_failures, int),
        )

    def require_an_end(self, searcher_is_finite: bool) -> None:
        """Refuse an experiment that nothing would ever stop."""
        if self.max_trials is None and self.max_wallclock is None and self.metric_threshold is None \
                and not searcher_is_finite:
            raise ValueError(
                "the experiment has no end: set max_trials, max_wallclock or metric_threshold "
                "(or use a finite searcher such as grid)"
            )

    def as_dict(self) -> dict[str, Any]:
        return {"max_trials": self.max_trials, "max_wallclock": self.max_wallclock,
                "metric_threshold": self.metric_threshold, "max_failures": self.max_failures,
                "trial_timeout": self.trial_timeout, "max_initial_failures": self.max_initial_failures}

    # -- the checks ------------------------------------------------------------------------
    def allows_new_trial(self, n_trials: int) -> bool:
        return self.max_trials is None or n_trials < self.max_trials

    def trial_deadline(self, now: float) -> float | None:
        return None if self.trial_timeout is None else now + self.trial_timeout

    def timeout_reason(self) -> str:
        return f"timed out after trial_timeout={self.trial_timeout:g} s"

    def wallclock_spent(self, now: float) -> str | None:
        if self.max_wallclock is not None and now >= self.max_wallclock:
            return f"max_wallclock={self.max_wallclock:g} s reached"
        return None

    def threshold_reached(self, objective: Objective, value: float, trial_id: int) -> str | None:
        if self.metric_threshold is not None and objective.at_least_as_good(value, self.metric_threshold):
            return (f"trial {trial_id} reached {objective.metric}={value:g} "
                    f"(threshold {self.metric_threshold:g})")
        return None

    def failures_spent(self, n_failed: int) -> str | None:
        if self.max_failures is not None and n_failed >= self.max_failures:
            return f"max_failures={self.max_failures} reached"
        return None

    def end_of_search(self, n_trials: int) -> str:
        """Why a run with nothing left to do ended."""
        return "search_exhausted" if self.allows_new_trial(n_trials) else "max_trials"


#: Stops of the whole experiment that cut trials short without judging them: a resume
#: continues those trials (from their checkpoints) instead of leaving them stopped.
RESUMABLE_STOPS = ("stop_requested", "interrupted", "max_wallclock")


class StopSignal:
    """The first reason the experiment must end; later ones are ignored."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self.detail = ""

    def __bool__(self) -> bool:
        return self.reason is not None

    def request(self, reason: str, detail: str = "") -> None:
        if self.reason is None:
            self.reason = reason
            self.detail = detail or reason

    def message(self) -> str:
        return f"experiment stopped: {self.detail}"


class StopRequests:
    """Asks the store whether someone ran ``rung stop NAME``, at most every ``interval`` s."""

    def __init__(self, poll: Callable[[], bool] | None, interval: float = 1.0) -> None:
        self.poll = poll
        self.interval = interval
        self._next = 0.0

    def due_and_set(self) -> bool:
        now = time.monotonic()
        if self.poll is None or now < self._next:
            return False
        self._next = now + self.interval
        return self.poll()
