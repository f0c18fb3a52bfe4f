"""A warm worker process of the process backend (run as ``python -m rung.backends._worker FD``).

The worker is started once per slot with a fresh interpreter, imports what the objective
needs and unpickles the objective once; if the objective has a ``rung_warm_up()`` method, the
worker calls it then, once (e.g. rung.torch loads its data and pays torch.optim's first-use
cost there, so forked trials start warm). Then, for every trial, it either

* forks a child that runs the trial and exits (``isolation="fork"``, the default): each
  trial gets a pristine copy of the warm process, so nothing leaks between trials, a crash
  only kills the child, and a start costs a fork (milliseconds) instead of an interpreter
  start with imports (tenths of a second); or
* runs the trial itself (``isolation="none"``): no fork at all, state may leak between
  trials, and a crash costs a worker restart.

The child inherits the worker's socket to the tuner and uses it for its reports while the
worker waits in ``waitpid``; messages on that socket therefore stay in order: the child's
``started``/``report``/``end``, then the worker's ``exited``.

Protocol: tuples as framed JSON (:class:`rung.trial._session.Channel`; data only, so
nothing a trial writes to the socket is ever unpickled):
tuner -> worker: ``("init", {...})`` (the one pickle: the objective, cloudpickled by the tuner
that started this worker, base64 in the ``objective`` field), ``("run", trial_id, config,
trial_dir, resource, environment)`` (``environment``: variables set for that trial only, e.g.
its ``CUDA_VISIBLE_DEVICES``), ``("shutdown",)``; tuner -> child: ``("decision", trial_id, action)``.
worker -> tuner: ``("ready", pid)``, ``("init_error", message, traceback)``,
``("exited", trial_id, returncode)``; child -> tuner: ``("started", trial_id, pid)``,
``("report", trial_id, metrics)``, ``("end", trial_id, kind, value, error, traceback)``.

A trial process that loses its socket (the tuner is gone, or the trial closed its file
descriptors) exits with :data:`EXIT_CHANNEL_LOST`; the tuner says which it was.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import importlib
import os
import pickle
import signal
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn

from ..trial._session import Channel, ChannelError, UnsendableError, open_private, private_dir, unsendable_metrics
from ._base import EXIT_CHANNEL_LOST, OutcomeKind, TrialOutcome
from ._capture import describe_exception, run_objective

EXIT_TUNER_GONE = EXIT_CHANNEL_LOST
EXIT_INTERNAL = 70  # rung itself failed in the trial process and could not say why


def _channel_lost() -> NoReturn:
    """The socket to the tuner is gone (the tuner died, or the trial closed it): nobody
    will read this trial's results."""
    os._exit(EXIT_CHANNEL_LOST)


class _PipeSession:
    """Reporting session of a trial running in a worker: one round trip per report."""

    def __init__(self, conn: Channel, trial_id: int, trial_dir: Path, resource: float | None = None) -> None:
        self.conn = conn
        self.trial_id = trial_id
        self.trial_dir = trial_dir
        self.resource = resource

    def report(self, metrics: dict[str, Any]) -> str:
        try:
            self.conn.send(("report", self.trial_id, metrics))
            while True:
                message = self.conn.recv()
                if message[0] == "decision" and len(message) == 3 and message[1] == self.trial_id:
                    return str(message[2])
        except UnsendableError as exc:
            raise TypeError(unsendable_metrics(metrics, exc)) from None
        except (EOFError, OSError, ChannelError):
            _channel_lost()


def _redirect_output(trial_dir: Path) -> tuple[int, int]:
    """Point fds 1 and 2 at the trial's log files; return copies of the old fds."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    for fd, name in ((1, "stdout.log"), (2, "stderr.log")):
        target = open_private(trial_dir / name, os.O_WRONLY | os.O_APPEND)
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


def _run_trial(conn: Channel, objective: Callable, run: _Run) -> None:
    private_dir(run.trial_dir)
    saved = _redirect_output(run.trial_dir)
    try:
        _send(conn, ("started", run.trial_id, os.getpid()))
        session = _PipeSession(conn, run.trial_id, run.trial_dir, run.resource)
        with _environment(run.environment):
            outcome = run_objective(objective, run.config, session, catch_exit=True, catch_interrupt=True)
    finally:
        _restore_output(saved)
    _send_end(conn, run.trial_id, outcome)


def _send(conn: Channel, message: tuple) -> None:
    try:
        conn.send(message)
    except OSError:
        _channel_lost()


def _send_end(conn: Channel, trial_id: int, outcome: TrialOutcome) -> None:
    try:
        conn.send(("end", trial_id, outcome.kind.value, outcome.value, outcome.error, outcome.traceback))
    except UnsendableError as exc:
        _send(
            conn,
            (
                "end",
                trial_id,
                OutcomeKind.FAILED.value,
                None,
                f"the objective returned {type(outcome.value).__name__}, which cannot be sent "
                f"to the tuner ({exc}); return a number or a dict of numbers",
                None,
            ),
        )
    except OSError:
        _channel_lost()


def _internal_failure(conn: Channel, run: _Run, exc: BaseException) -> None:
    """rung failed around the trial (e.g. its directory cannot be created): say so."""
    _send(conn, ("end", run.trial_id, OutcomeKind.FAILED.value, None,
                 f"rung could not run the trial in {run.trial_dir}: {describe_exception(exc)}",
                 traceback.format_exc()))


def _run_forked(conn: Channel, objective: Callable, run: _Run) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.setpgid(0, 0)  # its own process group, so a kill reaches its subprocesses too
            try:
                _run_trial(conn, objective, run)
            except BaseException as exc:
                _internal_failure(conn, run, exc)
        except BaseException:
            code = EXIT_INTERNAL
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _run_in_worker(conn: Channel, objective: Callable, run: _Run) -> int:
    try:
        _run_trial(conn, objective, run)
    except Exception as exc:
        _internal_failure(conn, run, exc)
    return 0


def read_init(conn: Channel) -> dict | None:
    """The options of the worker's first message, if it is a well-formed ``init``; else None
    (the tuner is gone, or the peer is not one). Only this message carries a pickle, and it
    arrives before any trial exists: nothing a trial sends later is ever unpickled."""
    try:
        first = conn.recv()
    except (EOFError, OSError, ChannelError):
        return None
    if not (isinstance(first, (list, tuple)) and len(first) == 2 and first[0] == "init"
            and isinstance(first[1], dict) and isinstance(first[1].get("objective"), str)):
        return None
    return first[1]


def unpickle_objective(options: dict) -> Callable:
    """The objective from an ``init`` message (:func:`read_init`).

    Trusted bytes: the objective cloudpickled by the tuner (or Ray driver) that started this
    worker, on a connection only the two of them hold (a socketpair; for Ray, a connection
    the slot actor opened to the driver and introduced with the slot's secret), never a file
    or a trial. Called once, on the first frame, before any trial process exists; every later
    frame is JSON (:class:`rung.trial._session.Channel`) and nothing else is ever unpickled,
    by the worker or by the tuner. cloudpickle is needed for ``__main__`` and notebook
    functions."""
    return pickle.loads(base64.b64decode(options["objective"]))


def warm(objective: Callable) -> None:
    """Warm the worker once, before any trial: the objective's ``rung_warm_up()`` if it has
    one (load its data, pay a library's first-use costs; forked trials inherit the result),
    then move everything loaded to the collector's permanent generation, so a forked trial's
    garbage collections leave it alone instead of touching (and so copying, page by page)
    the whole inherited heap."""
    warm_up = getattr(objective, "rung_warm_up", None)
    if callable(warm_up):
        warm_up()
    gc.freeze()


def _load_objective(options: dict) -> Callable:
    sys.path[:] = options["sys_path"]
    for module in options.get("preload", ()):
        importlib.import_module(module)
    return unpickle_objective(options)


def main(fd: int) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the tuner's to handle
    conn = Channel.from_fd(fd)
    options = read_init(conn)
    if options is None:
        return EXIT_TUNER_GONE
    try:
        objective = _load_objective(options)
        warm(objective)
    except BaseException as exc:
        conn.send(("init_error", describe_exception(exc), traceback.format_exc()))
        return 1
    run = _run_forked if options.get("isolation", "fork") == "fork" else _run_in_worker
    try:
        conn.send(("ready", os.getpid()))
    except OSError:  # the tuner died while this worker started: leave quietly
        return EXIT_TUNER_GONE
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, ChannelError):
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
