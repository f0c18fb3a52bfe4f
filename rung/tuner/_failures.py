"""Failing trials, seen at once: each distinct error on the console, and an early end when
the first trials all fail the same way.

A mistake in the objective (a typo, a wrong path, a missing package) fails every trial
identically. Without this, a 50-trial run spent its whole budget and ended with "no trial
produced a value". Now the console shows each distinct error once, with its traceback, the
moment it first happens (:class:`FailureConsole`), and when the first
``max_initial_failures`` trials (default 5) have all failed the same way and none has
succeeded, the loop stops the experiment with stop reason ``initial_failures``
(:class:`FailureWatch`), and a ``RuntimeWarning`` carries the error to Python callers.

"The same way" is :func:`error_signature`: the exception type and the line of the
user's code it was raised from (so ``lr=0.1`` and ``lr=0.3`` in the message do not count
as different errors), or, for failures without a traceback (a nonzero exit, a NaN metric),
the reason with its numbers blanked.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..trial._record import Trial, TrialStatus
from ._callbacks import Callback

if TYPE_CHECKING:
    from ._state import RunState

INITIAL_FAILURES = 5
_EXCEPTION_TYPE = re.compile(r"^[A-Za-z_][\w.]*$")
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def error_signature(error: str | None, traceback: str | None) -> str:
    """What makes two failures "the same": exception type and raising line, or the reason
    with its numbers blanked when there is no traceback."""
    text = (error or "failed").strip()
    head = text.split(": ", 1)[0]
    frames = _FRAME.findall(traceback or "")
    if frames and _EXCEPTION_TYPE.match(head):
        path, line = frames[-1]
        return f"{head} at {path}:{line}"
    return _NUMBER.sub("#", text)


def _succeeded(trial: Trial) -> bool:
    return trial.status is not TrialStatus.FAILED and trial.metric_value is not None


class FailureWatch:
    """Decides when failing trials end the experiment early (see the module docstring).

    ``observe(trial)`` is called for every trial that ended for good in this run; it returns
    the stop detail the first time the rule holds, None otherwise. ``limit=None`` turns the
    rule off.
    """

    def __init__(self, limit: int | None = INITIAL_FAILURES) -> None:
        self.limit = limit
        self.succeeded = False
        self.signatures: list[str] = []
        self.first: Trial | None = None  # the first failure, whose error is shown
        self.fired = False

    def observe(self, trial: Trial) -> str | None:
        if _succeeded(trial):
            self.succeeded = True
        if trial.status is not TrialStatus.FAILED:
            return None
        self.signatures.append(error_signature(trial.error, trial.traceback))
        if self.first is None:
            self.first = trial
        if self.fired or self.succeeded or self.limit is None or len(self.signatures) < self.limit:
            return None
        if len(set(self.signatures)) != 1:
            return None
        self.fired = True
        return (
            f"the first {len(self.signatures)} trials all failed with the same error and none succeeded: "
            f"{self.first.error} (trial {self.first.trial_id}; set max_initial_failures=None to run on "
            "regardless)"
        )

    def warning_text(self, detail: str) -> str:
        """The RuntimeWarning a Python caller gets: the detail and the first traceback."""
        traceback = (self.first.traceback or "").rstrip() if self.first is not None else ""
        return f"experiment stopped: {detail}" + (f"\n{traceback}" if traceback else "")


class FailureConsole(Callback):
    """Prints each distinct trial error once, with its traceback, when it first happens.

    Later failures with the same signature print nothing (the progress display counts
    them); the end of the run says how many failures each distinct error caused.
    """

    def __init__(self, console: Any) -> None:
        self.console = console
        self.seen: dict[str, list[int]] = {}

    def on_trial_end(self, state: "RunState", trial: Trial) -> None:
        if trial.status is not TrialStatus.FAILED:
            return
        signature = error_signature(trial.error, trial.traceback)
        trials = self.seen.setdefault(signature, [])
        trials.append(trial.trial_id)
        if len(trials) > 1:
            return
        self.console.print(f"[red]trial {trial.trial_id} failed:[/] {_escape(trial.error or 'failed')}",
                           soft_wrap=True, highlight=False)
        if trial.traceback:
            self.console.print(_escape(trial.traceback.rstrip()), style="dim", soft_wrap=True,
                               highlight=False, markup=True)
        self.console.print("(later trials failing the same way are counted, not shown again)",
                           style="dim", soft_wrap=True, highlight=False)

    def on_experiment_end(self, state: "RunState", result: Any) -> None:
        repeated = [(s, ids) for s, ids in self.seen.items() if len(ids) > 1]
        for signature, ids in repeated:
            shown = ", ".join(str(i) for i in ids[:8]) + (", ..." if len(ids) > 8 else "")
            self.console.print(f"[red]{len(ids)} trials failed with[/] {_escape(signature)} (trials {shown})",
                               soft_wrap=True, highlight=False)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
