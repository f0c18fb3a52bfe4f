"""Callbacks: how progress views, dashboards and loggers follow a run without editing the loop.

Subclass :class:`Callback`, override the hooks you need and pass instances as
``Tuner(..., callbacks=[...])``. Hooks run in the tuner's process, between decisions, so
they should be quick; what they are given is the live state: read it, do not change it.
An exception in a callback propagates (a broken logger should not go unnoticed).

>>> class PrintBest(rung.Callback):
...     def on_trial_end(self, state, trial):
...         print(trial.trial_id, trial.status.value, state.best_value)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from ..results import TuningResult
    from ..schedulers import Decision
    from ..trial import Report, Trial
    from ._state import RunState


class Callback:
    """Hooks called by the tuner at each event of a run; every hook does nothing by default."""

    def on_experiment_start(self, state: "RunState") -> None:
        """The run begins (after a resume, ``state`` already holds the earlier trials)."""

    def on_trial_start(self, state: "RunState", trial: "Trial", kind: str) -> None:
        """A trial was launched; ``kind`` is ``"start"``, ``"resume"`` (after a pause) or ``"restart"``."""

    def on_report(self, state: "RunState", trial: "Trial", report: "Report", decision: "Decision") -> None:
        """A report was accepted and recorded, with the scheduler's decision on it."""

    def on_trial_end(self, state: "RunState", trial: "Trial") -> None:
        """A trial left its worker: ``trial.status`` says how (paused trials may come back)."""

    def on_experiment_end(self, state: "RunState", result: "TuningResult") -> None:
        """The run is over (also after a failure or an interrupt)."""


class CallbackList(Callback):
    """Calls each of several callbacks in order."""

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be rung.Callback instances, got {callback!r}")

    def on_experiment_start(self, state: "RunState") -> None:
        for callback in self.callbacks:
            callback.on_experiment_start(state)

    def on_trial_start(self, state: "RunState", trial: "Trial", kind: str) -> None:
        for callback in self.callbacks:
            callback.on_trial_start(state, trial, kind)

    def on_report(self, state: "RunState", trial: "Trial", report: "Report", decision: "Decision") -> None:
        for callback in self.callbacks:
            callback.on_report(state, trial, report, decision)

    def on_trial_end(self, state: "RunState", trial: "Trial") -> None:
        for callback in self.callbacks:
            callback.on_trial_end(state, trial)

    def on_experiment_end(self, state: "RunState", result: "TuningResult") -> None:
        for callback in self.callbacks:
            callback.on_experiment_end(state, result)
