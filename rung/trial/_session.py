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
to the tuner). A training program started by :class:`rung.script.Script` has no installed
session; it finds its trial through environment variables instead (``RUNG_REPORT_FD``, a
socket inherited from the Script, and ``RUNG_TRIAL_DIR`` / ``RUNG_CHECKPOINT_DIR``), so the
same ``rung.report`` calls work in a script as in a function.
"""

from __future__ import annotations

import contextvars
import os
import stat
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Mapping, Protocol


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
    """What a backend provides to trial code while a trial runs.

    ``resource`` is the launch's cap on the scheduler's resource attribute (e.g. the epoch
    a paused trial may run to before its next rung), None when uncapped.
    """

    trial_id: int
    trial_dir: Path
    resource: float | None

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


REPORT_FD_VARIABLE = "RUNG_REPORT_FD"
RESOURCE_VARIABLE = "RUNG_RESOURCE"


class ScriptSession:
    """Session of a program started by ``rung.script.Script``, described by its environment.

    Reports travel as ``("report", metrics)`` over the socket whose fd is in
    ``RUNG_REPORT_FD``; the Script answers ``("decision", action)`` after asking the
    tuner. The socket is opened on the first report, so ``trial_dir()`` and
    ``checkpoint_dir()`` also work in processes that did not inherit it. ``RUNG_RESOURCE``
    (absent when uncapped) carries the launch's resource cap.
    """

    def __init__(self, fd_text: str, environ: Mapping[str, str]) -> None:
        self._fd_text = fd_text
        self.trial_id = int(environ.get("RUNG_TRIAL_ID", "-1"))
        self.trial_dir = Path(environ.get("RUNG_TRIAL_DIR", "."))
        resource = environ.get(RESOURCE_VARIABLE)
        self.resource: float | None = float(resource) if resource else None
        self.checkpoint_dir = Path(environ.get("RUNG_CHECKPOINT_DIR", self.trial_dir / "checkpoint"))
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def report(self, metrics: dict[str, Any]) -> str:
        with self._lock:
            conn = self._connect()
            try:
                conn.send(("report", dict(metrics)))
                message = conn.recv()
            except (EOFError, OSError):
                return "stop"  # the Script (and so the trial) is gone: nobody reads this any more
        if not (isinstance(message, tuple) and len(message) == 2 and message[0] == "decision"):
            raise RuntimeError(f"rung.report() got an unexpected answer from the tuner: {message!r}")
        return message[1]

    def _connect(self) -> Connection:
        if self._conn is None:
            try:
                fd = int(self._fd_text)
                is_socket = stat.S_ISSOCK(os.fstat(fd).st_mode)
            except (ValueError, OSError):
                is_socket = False
            if not is_socket:
                raise RuntimeError(
                    f"{REPORT_FD_VARIABLE}={self._fd_text!r} is not an open socket in this process; only "
                    "the program started by rung.script.Script can call rung.report() (other processes "
                    'can print lines like RUNG_REPORT {"loss": 0.2} instead)'
                )
            self._conn = Connection(fd)
            sys.excepthook = _quiet_about_stops(sys.excepthook)
        return self._conn


def _quiet_about_stops(previous: Any) -> Any:
    """An uncaught TrialStopped ends a script as planned: one line instead of a traceback."""

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if issubclass(kind, TrialStopped):
            sys.stderr.write(f"rung: {value}\n")
        else:
            previous(kind, value, tb)

    return hook


_script_session: ScriptSession | None = None


def _environment_session() -> ScriptSession | None:
    """The session of a script run by ``rung.script.Script``, or None outside one."""
    global _script_session
    fd_text = os.environ.get(REPORT_FD_VARIABLE)
    if fd_text is None:
        return None
    if _script_session is None:
        _script_session = ScriptSession(fd_text, os.environ)
    return _script_session


def report(**metrics: Any) -> None:
    """Report this step's metrics to the tuner (call once per step, e.g. per epoch).

    Raises :class:`TrialStopped` (or :class:`TrialPaused`) when the scheduler ends the
    trial, and ``RuntimeError`` when called outside a trial run by rung.
    """
    session = _current_session.get() or _environment_session()
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
    session = _current_session.get() or _environment_session()
    if session is None:
        raise RuntimeError("rung.trial_dir() was called outside a trial")
    session.trial_dir.mkdir(parents=True, exist_ok=True)
    return session.trial_dir


def checkpoint_dir() -> Path:
    """Directory where the running trial may save state to resume from after a pause."""
    script = _environment_session() if _current_session.get() is None else None
    if script is not None:
        script.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        return script.checkpoint_dir
    path = trial_dir() / "checkpoint"
    path.mkdir(exist_ok=True)
    return path
