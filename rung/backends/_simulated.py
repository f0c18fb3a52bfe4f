"""Simulated objectives: problems that say how long each step takes instead of taking it.

A benchmark run on :class:`~rung.backends.SimulatorBackend` does not train anything: it asks
the problem, step by step, what the step would cost and what it would report. That is the
:class:`SimulatedObjective` protocol::

    def steps(config, start_step) -> Iterator[(duration_seconds, metrics)]

yielding one pair per step (e.g. per epoch) from ``start_step`` on: 0 for a new trial, the
number of steps already done for a trial resumed after a pause (what a checkpoint would
give). ``metrics`` is what the step would ``rung.report``, resource attribute included,
e.g. ``(12.5, {"epoch": 3, "loss": 0.41})``.

:class:`SimulatedProblem` is a base class for such problems that makes them ordinary
callable objectives too: called by a real backend, an instance reports the same metrics
with ``rung.report`` (optionally sleeping ``time_scale * duration``), so one problem runs
both simulated and for real, which is how the simulator is checked against the real event
loop. ``simulated(...)`` (:class:`Simulated`) adapts any object with ``steps`` or a
single-step function ``f(config) -> (duration_seconds, metrics)`` the same way. The tuner
takes only callable objectives, so pass problems in one of these two forms.
"""

from __future__ import annotations

import json
import math
import numbers
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, runtime_checkable

from ..trial._session import TrialPaused, current_session, report

#: Where a real run of a :class:`SimulatedProblem` remembers its step count across a pause.
PROGRESS_FILE = "simulated_steps.json"


@runtime_checkable
class SimulatedObjective(Protocol):
    """A problem that describes each step of a trial: its duration and its report."""

    def steps(self, config: dict[str, Any], start_step: int) -> Iterator[tuple[float, dict[str, Any]]]:
        """Yield ``(duration_seconds, metrics)`` for every step from ``start_step`` on."""


class SimulatedProblem:
    """Base class of simulated problems: define :meth:`steps`; the instance is also an objective.

    Called as ``objective(config)`` by a real backend, it reports each step with
    ``rung.report`` after sleeping ``time_scale * duration`` real seconds (0, the default:
    no sleep), and after a pause resumes from the step count it saved in its checkpoint
    directory. So one problem runs both on the simulator and for real, which is how the
    simulator is checked against the real event loop.
    """

    time_scale: float = 0.0

    def steps(self, config: dict[str, Any], start_step: int) -> Iterator[tuple[float, dict[str, Any]]]:
        """Yield ``(duration_seconds, metrics)`` for every step from ``start_step`` on."""
        raise NotImplementedError(f"{type(self).__name__} must define steps(config, start_step)")

    def __call__(self, config: dict[str, Any]) -> None:
        """Run the problem as a real trial: report every step through ``rung.report``."""
        done = _load_progress()
        for duration, metrics in checked_steps(self.steps(config, done), done):
            if self.time_scale:
                time.sleep(duration * self.time_scale)
            try:
                report(**metrics)
            except TrialPaused:
                _save_progress(done + 1)
                raise
            done += 1


class Simulated(SimulatedProblem):
    """A :class:`SimulatedProblem` made from an object with ``steps`` or a single-step function.

    ``source`` is an object with ``steps(config, start_step)`` (used as it is), or a
    function ``f(config) -> (duration_seconds, metrics)`` for single-step problems (one
    step, one report; nothing left when resumed). ``time_scale``: see
    :class:`SimulatedProblem`.
    """

    def __init__(self, source: SimulatedObjective | Callable[[dict[str, Any]], Any], time_scale: float = 0.0) -> None:
        if not (hasattr(source, "steps") or callable(source)):
            raise TypeError(
                "simulated() needs an object with steps(config, start_step) or a function "
                f"f(config) -> (duration_seconds, metrics), got {source!r}"
            )
        if isinstance(time_scale, bool) or not isinstance(time_scale, numbers.Real) or not time_scale >= 0:
            raise ValueError(f"time_scale must be a number >= 0, got time_scale={time_scale!r}")
        self.source: SimulatedObjective | Callable[[dict[str, Any]], Any] = source
        self.time_scale = float(time_scale)

    def steps(self, config: dict[str, Any], start_step: int) -> Iterator[tuple[float, dict[str, Any]]]:
        steps = getattr(self.source, "steps", None)
        if steps is not None:
            return iter(steps(config, start_step))
        return self._single_step(config, start_step)

    def _single_step(self, config: dict[str, Any], start_step: int) -> Iterator[tuple[float, dict[str, Any]]]:
        if start_step == 0:
            assert callable(self.source)
            yield self.source(config)

    def __repr__(self) -> str:
        return f"simulated({self.source!r})"


def simulated(source: SimulatedObjective | Callable[[dict[str, Any]], Any], time_scale: float = 0.0) -> SimulatedProblem:
    """Wrap a steps object or a single-step function ``f(config) -> (duration, metrics)``."""
    if isinstance(source, SimulatedProblem) and time_scale == source.time_scale:
        return source
    return Simulated(source, time_scale)


def as_simulated(objective: Any) -> SimulatedObjective:
    """The tuner's objective as the simulator needs it: steps objects as they are, functions wrapped."""
    if hasattr(objective, "steps"):
        return objective
    if callable(objective):
        return Simulated(objective)
    raise TypeError(
        "the simulator needs an objective with steps(config, start_step) or a function "
        f"f(config) -> (duration_seconds, metrics), got {objective!r}"
    )


def check_step(item: Any, step: int) -> tuple[float, dict[str, Any]]:
    """``item`` as ``(duration, metrics)``, or a clear error naming the (0-based) ``step``."""
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise TypeError(
            f"step {step} of the simulated objective gave {item!r}; each step must be a pair "
            "(duration_seconds, metrics), e.g. (12.5, {'epoch': 1, 'loss': 0.4})"
        )
    duration, metrics = item
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real) or not math.isfinite(duration) or duration < 0:
        raise ValueError(f"step {step} of the simulated objective has duration {duration!r}; it must be a finite number >= 0")
    if not isinstance(metrics, Mapping):
        raise TypeError(f"step {step} of the simulated objective has metrics {metrics!r}; they must be a dict")
    return float(duration), dict(metrics)


def checked_steps(steps: Iterator[Any], start_step: int) -> Iterator[tuple[float, dict[str, Any]]]:
    """Validate every step of ``steps``, numbering them from ``start_step``."""
    for step, item in enumerate(steps, start_step):
        yield check_step(item, step)


def _progress_file() -> Path | None:
    session = current_session()
    return None if session is None else Path(session.trial_dir) / "checkpoint" / PROGRESS_FILE


def _load_progress() -> int:
    path = _progress_file()
    if path is None or not path.exists():
        return 0
    return int(json.loads(path.read_text())["steps"])


def _save_progress(steps: int) -> None:
    path = _progress_file()
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"steps": steps}))
    tmp.replace(path)
