"""A warm worker process of the process backend (run as ``python -m rung.backends._worker FD``).

The worker is started once per slot with a fresh interpreter, imports what the objective
needs and unpickles the objective once. Then, for every trial, it either

* forks a child that runs the trial and exits (``isolation="fork"``, the default): each
  trial gets a pristine copy of the warm process, so nothing leaks between trials, a crash
  only kills the child, and a start costs a fork (milliseconds) instead of an interpreter
  start with imports (tenths of a second); or
* runs the trial itself (``isolation="none"``): no fork at all, state may leak between
  trials, and a crash costs a worker restart.

The child inherits the worker's socket to the tuner and uses it for its reports while the
worker waits in ``waitpid``; messages on that socket therefore stay in order: the child's
``started``/``report``/``end``, then the worker's ``exited``.

Protocol (tuples over a ``multiprocessing.connection.Connection``):
tuner -> worker: ``("init", {...})``, ``("run", trial_id, config, trial_dir, resource, environment)``
(``environment``: variables set for that trial only, e.g. its ``CUDA_VISIBLE_DEVICES``),
``("shutdown",)``; tuner -> child: ``("decision", trial_id, action)``.
worker -> tuner: ``("ready", pid)``, ``("init_error", message, traceback)``,
``("exited", trial_id, returncode)``; child -> tuner: ``("started", trial_id, pid)``,
``("report", trial_id, metrics)``, ``("end", trial_id, kind, value, error, traceback)``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import sys
import traceback
from multiprocessing.connection import Connection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ._base import OutcomeKind, TrialOutcome
from ._capture import run_objective

EXIT_TUNER_GONE = 75


class _PipeSession:
    """Reporting session of a trial running in a worker: one round trip per report."""

    def __init__(self, conn: Connection, trial_id: int, trial_dir: Path, resource: float | None = None) -> None:
        self.conn = conn
        self.trial_id = trial_id
        self.trial_dir = trial_dir
        self.resource = resource

    def report(self, metrics: dict[str, Any]) -> str:
        try:
            self.conn.send(("report", self.trial_id, metrics))
            while True:
                message = self.conn.recv()
                if message[0] == "decision" and message[1] == self.trial_id:
                    return message[2]
        except (EOFError, OSError):
            # The tuner is gone: nobody will read this trial's results.
            os._exit(EXIT_TUNER_GONE)


def _redirect_output(trial_dir: Path) -> tuple[int, int]:
    """Point fds 1 and 2 at the trial's log files; return copies of the old fds."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    for fd, name in ((1, "stdout.log"), (2, "stderr.log")):
        target = os.open(trial_dir / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(target, fd)
        os.close(target)
    return saved


def _restore_output(saved: tuple[int, int]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, old in zip((1, 2), saved):
        os.dup2(old, fd)
        os.close(old)


@dataclass(frozen=True)
class _Run:
    """One ``run`` message: the trial to run and the environment it runs in."""

    trial_id: int
    config: dict
    trial_dir: Path
    resource: float | None
    environment: dict[str, str]


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """Set ``variables`` for the trial, then restore what was there (a worker runs many trials)."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_trial(conn: Connection, objective: Callable, run: _Run) -> None:
    run.trial_dir.mkdir(parents=True, exist_ok=True)
    saved = _redirect_output(run.trial_dir)
    try:
        conn.send(("started", run.trial_id, os.getpid()))
        session = _PipeSession(conn, run.trial_id, run.trial_dir, run.resource)
        with _environment(run.environment):
            outcome = run_objective(objective, run.config, session)
    finally:
        _restore_output(saved)
    _send_end(conn, run.trial_id, outcome)


def _send_end(conn: Connection, trial_id: int, outcome: TrialOutcome) -> None:
    try:
        conn.send(("end", trial_id, outcome.kind.value, outcome.value, outcome.error, outcome.traceback))
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        conn.send(
            (
                "end",
                trial_id,
                OutcomeKind.FAILED.value,
                None,
                f"the objective returned {type(outcome.value).__name__}, which cannot be sent "
                f"to the tuner ({exc}); return a number or a dict of numbers",
                traceback.format_exc(),
            )
        )


def _run_forked(conn: Connection, objective: Callable, run: _Run) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.setpgid(0, 0)  # its own process group, so a kill reaches its subprocesses too
            _run_trial(conn, objective, run)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _run_in_worker(conn: Connection, objective: Callable, run: _Run) -> int:
    try:
        _run_trial(conn, objective, run)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        # The objective asked the interpreter to exit: honour it after reporting.
        conn.send(("exited", run.trial_id, code))
        os._exit(code)
    return 0


def main(fd: int) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the tuner's to handle
    conn = Connection(fd)
    try:
        _, options = conn.recv()
    except EOFError:
        return EXIT_TUNER_GONE
    try:
        sys.path[:] = options["sys_path"]
        for module in options.get("preload", ()):
            importlib.import_module(module)
        # Trusted bytes: the objective cloudpickled by the tuner process that started this
        # worker, received over a socketpair only the two of them hold (never a file or a
        # network peer). cloudpickle is needed for __main__ and notebook functions, which
        # multiprocessing's own pickling cannot send.
        objective = pickle.loads(options["objective"])
    except BaseException as exc:
        conn.send(("init_error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        return 1
    run = _run_forked if options.get("isolation", "fork") == "fork" else _run_in_worker
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return 0
        if message[0] == "run":
            _, trial_id, config, trial_dir, resource, environment = message
            returncode = run(conn, objective, _Run(trial_id, config, Path(trial_dir), resource, environment))
            try:
                conn.send(("exited", trial_id, returncode))
            except OSError:
                return EXIT_TUNER_GONE
        elif message[0] == "shutdown":
            return 0
        # Anything else is a decision for a trial that has already ended: drop it.


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
