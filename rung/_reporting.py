"""``rung.report``: how trial code talks to the tuner.

Trial code calls ``rung.report(epoch=3, validation_error=0.21)`` once per step. The call
sends the metrics to the tuner and waits for the scheduler's answer:

* CONTINUE: ``report`` returns ``None`` and the trial goes on;
* STOP: ``report`` raises :class:`TrialStopped`;
* PAUSE: ``report`` raises :class:`TrialPaused` (a subclass of ``TrialStopped``); the trial
  should have saved a checkpoint, since it may be resumed later from it.

Letting the exception propagate out of the objective is the normal way to end; an objective
may also catch it to clean up and then return. Either way the tuner records the trial as
stopped (or paused), never as failed. The exception derives from ``Exception`` so that
cleanup code in ``try/finally`` runs as usual.

Where the call goes depends on where the trial runs: the backend installs a *session*
for the duration of the trial (in-process, a context variable; in a worker process, a pipe
to the tuner).
"""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any, Protocol


class TrialStopped(Exception):
    """Raised by :func:`report` when the scheduler decided to stop this trial."""

    action = "stop"

    def __init__(self, message: str = "the scheduler stopped this trial") -> None:
        super().__init__(message)


class TrialPaused(TrialStopped):
    """Raised by :func:`report` when the scheduler paused this trial (it may resume later)."""

    action = "pause"

    def __init__(self, message: str = "the scheduler paused this trial") -> None:
        super().__init__(message)


class Session(Protocol):
    """What a backend provides to trial code while a trial runs."""

    trial_id: int
    trial_dir: Path

    def report(self, metrics: dict[str, Any]) -> str:
        """Deliver ``metrics``; return the scheduler's action ("continue", "stop", "pause")."""


_current_session: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "rung_session", default=None
)


def set_session(session: Session | None) -> contextvars.Token:
    return _current_session.set(session)


def reset_session(token: contextvars.Token) -> None:
    _current_session.reset(token)


def current_session() -> Session | None:
    return _current_session.get()


def report(**metrics: Any) -> None:
    """Report this step's metrics to the tuner (call once per step, e.g. per epoch).

    Raises :class:`TrialStopped` (or :class:`TrialPaused`) when the scheduler ends the
    trial, and ``RuntimeError`` when called outside a trial run by rung.
    """
    session = _current_session.get()
    if session is None:
        raise RuntimeError(
            "rung.report() was called outside a trial; call it from an objective run by rung.Tuner"
        )
    if not metrics:
        raise ValueError("rung.report() needs at least one metric, e.g. rung.report(loss=0.3)")
    action = session.report(metrics)
    if action == "continue":
        return None
    if action == "pause":
        raise TrialPaused()
    raise TrialStopped()


def trial_dir() -> Path:
    """The running trial's own directory (created on first use): logs and checkpoints go here."""
    session = _current_session.get()
    if session is None:
        raise RuntimeError("rung.trial_dir() was called outside a trial")
    session.trial_dir.mkdir(parents=True, exist_ok=True)
    return session.trial_dir


def checkpoint_dir() -> Path:
    """Directory where the running trial may save state to resume from after a pause."""
    path = trial_dir() / "checkpoint"
    path.mkdir(exist_ok=True)
    return path
