"""Local worker-process backend (the default): n trials at once, each isolated.

Workers are warm: each is a fresh interpreter started once (not a fork of the tuner, so
objectives defined in a script's ``__main__`` or a notebook work without an
``if __name__ == "__main__"`` guard: they travel by value through cloudpickle). See
``_worker.py`` for the per-trial isolation choices and their costs.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for_connections
from pathlib import Path
from typing import Any, Callable, Sequence

from ..trial._session import Channel, ChannelError
from ._base import EXIT_CHANNEL_LOST, Backend, OutcomeKind, TrialEvents, TrialLaunch, TrialOutcome, check_cpus, check_no_custom, describe_exit
from ._gpus import GpuPlacement, detect_gpus
from ._pickling import dumps_objective
from ._resources import TrialResources

__all__ = ["ProcessBackend", "WorkerStartError", "detect_gpus"]

ISOLATION_MODES = ("fork", "none")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class WorkerStartError(RuntimeError):
    """A worker process could not load the objective; raised before any trial runs."""


class _ProtocolViolation(Exception):
    """A message on a worker's socket that rung's own worker would never send (so a trial
    wrote it); the worker is replaced and the trial fails with this reason."""


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen
    conn: Channel
    ready: bool = False
    launch: TrialLaunch | None = None
    child_pid: int | None = None
    outcome: TrialOutcome | None = None
    kill_requested: bool = False
    #: A replacement worker holds the end of the trial whose worker died until it is ready,
    #: so the tuner keeps seeing the slot busy (and does not end the run for lack of one).
    held_end: TrialOutcome | None = None
    start_deadline: float | None = None
    broken: str | None = None  # why this worker's socket can no longer be trusted
    #: Its last trial process was killed by a signal, maybe between reading a frame's header
    #: and its body: the rest of that frame would be the worker's next read, so the worker is
    #: replaced once the trial's end is delivered.
    retiring: int | None = None  # that trial process's return code


class ProcessBackend(Backend):
    """Run trials in local worker processes, ``n_workers`` at a time.

    Parameters
    ----------
    isolation:
        ``"fork"`` (default): each trial runs in a fork of a warm worker, so trials cannot
        affect each other and a crash or a kill costs nothing but the trial. ``"none"``:
        trials run inside the worker itself, a little faster, but module-level state
        persists between trials and a crash restarts the worker.
    preload:
        Modules each worker imports before its first trial (e.g. ``["torch"]``), so that
        trials do not pay for the import.
    start_timeout:
        Seconds a worker may take to start and load the objective.
    gpus:
        The GPU ids trials are placed on. A trial launched with ``resources.gpus > 0`` gets
        devices of its own (or a share of one, for fractions) by the rules of
        :mod:`rung.backends._gpus`, as its ``CUDA_VISIBLE_DEVICES``. A trial asking for no
        GPU sees its worker's share, as before resources existed: worker i sees
        ``gpus[i % len]``, so each trial gets its own GPU when there are as many GPUs as
        workers. ``"auto"`` (default) uses the ids in ``CUDA_VISIBLE_DEVICES`` if set, else
        what ``nvidia-smi -L`` lists, else none (CPU-only machines: nothing is set); they are
        looked up when the workers start, never at construction. None: no GPUs.
    """

    name = "process"

    def __init__(
        self,
        *,
        isolation: str = "fork",
        preload: Sequence[str] = (),
        start_timeout: float = 120.0,
        gpus: "str | Sequence[str | int] | None" = "auto",
    ) -> None:
        if isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}, got isolation={isolation!r}")
        if isolation == "fork" and not hasattr(os, "fork"):
            isolation = "none"
        self.isolation = isolation
        self.preload = list(preload)
        self.start_timeout = start_timeout
        if isinstance(gpus, str) and gpus != "auto":
            raise ValueError(f"gpus must be 'auto', None or a list of device ids, got gpus={gpus!r}")
        self._placement = GpuPlacement(None if gpus == "auto" else [str(g) for g in (gpus or ())])
        self._workers: list[_Worker] = []
        self._events: TrialEvents | None = None
        self._init_message: tuple | None = None
        self._threads_per_worker = 1
        self._replies: list[tuple[_Worker, int, str]] = []
        self._worker_gpus: list[str] = []
        self._winding_down = False  # the experiment is ending: lost workers are not replaced

    @property
    def gpus(self) -> list[str]:
        """The GPU ids trials are placed on (found on first use with ``gpus="auto"``)."""
        return self._placement.devices

    def default_workers(self) -> int:
        return os.cpu_count() or 1

    def check_resources(self, resources: TrialResources, n_workers: int) -> None:
        """CPUs as the machine has them; GPUs among :attr:`gpus`, all ``n_workers`` trials at once."""
        check_cpus(resources)
        self._placement.check(resources.gpus, n_workers)
        check_no_custom(self.name, resources)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, objective: Callable[[dict], Any], events: TrialEvents, n_workers: int) -> None:
        try:
            payload = base64.b64encode(dumps_objective(objective)).decode("ascii")
        except Exception as exc:
            raise TypeError(
                f"the objective {objective!r} cannot be sent to worker processes ({exc}); "
                "use backend='inprocess' or make it picklable"
            ) from exc
        self._events = events
        self._init_message = (
            "init",
            {"objective": payload, "sys_path": list(sys.path), "preload": self.preload, "isolation": self.isolation},
        )
        self._threads_per_worker = max(1, (os.cpu_count() or 1) // n_workers)
        self._worker_gpus = self.gpus  # found now, when trials are about to run
        self._workers = [self._spawn(index) for index in range(n_workers)]
        deadline = time.monotonic() + self.start_timeout
        try:
            while not all(worker.ready for worker in self._workers):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WorkerStartError(f"worker processes did not start within {self.start_timeout} s")
                self.wait(remaining)
        except BaseException:
            self.shutdown()
            raise

    def _spawn(self, index: int) -> _Worker:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        # n workers each running a full-width BLAS/OpenMP pool would oversubscribe the CPUs.
        for variable in THREAD_VARIABLES:
            env.setdefault(variable, str(self._threads_per_worker))
        if self._worker_gpus:
            env["CUDA_VISIBLE_DEVICES"] = self._worker_gpus[index % len(self._worker_gpus)]
        process = subprocess.Popen(
            [sys.executable, "-m", "rung.backends._worker", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=env,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        conn = Channel(ours)
        assert self._init_message is not None
        conn.send(self._init_message)
        return _Worker(index=index, process=process, conn=conn,
                       start_deadline=time.monotonic() + self.start_timeout)

    def shutdown(self) -> None:
        for worker in self._workers:
            if worker.launch is not None and worker.held_end is None:
                self._kill(worker)
            try:
                worker.conn.send(("shutdown",))
            except OSError:
                pass
        for worker in self._workers:
            try:
                worker.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            worker.conn.close()
        self._workers = []

    def wind_down(self) -> None:
        self._winding_down = True

    # -- scheduling --------------------------------------------------------------------
    def free_slots(self) -> int:
        return sum(1 for worker in self._workers if worker.ready and worker.launch is None)

    def launch(self, launch: TrialLaunch) -> None:
        worker = next(w for w in self._workers if w.ready and w.launch is None)
        worker.launch = launch
        worker.child_pid = None
        worker.outcome = None
        worker.kill_requested = False
        environment: dict[str, str] = {}
        if launch.resources.gpus > 0:
            devices = self._placement.acquire(launch.trial_id, launch.resources.gpus)
            environment["CUDA_VISIBLE_DEVICES"] = ",".join(devices)
        worker.conn.send(
            ("run", launch.trial_id, launch.config, str(launch.trial_dir), launch.resource, environment)
        )

    def terminate(self, trial_id: int) -> None:
        for worker in self._workers:
            if worker.held_end is not None:
                continue  # that trial is over already; its end comes when the replacement is ready
            if worker.launch is not None and worker.launch.trial_id == trial_id:
                worker.kill_requested = True
                self._kill(worker)

    def _kill(self, worker: _Worker) -> None:
        if self.isolation == "none":
            worker.process.kill()
        elif worker.child_pid is not None:
            try:
                os.killpg(worker.child_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        # else: the child has not said "started" yet; it is killed when it does.

    # -- events ------------------------------------------------------------------------
    def wait(self, timeout: float | None) -> None:
        connections = [worker.conn.sock for worker in self._workers]
        if not connections:
            return
        starting = [w.start_deadline for w in self._workers if not w.ready and w.start_deadline is not None]
        if starting:
            remaining = max(0.0, min(starting) - time.monotonic())
            timeout = remaining if timeout is None else min(timeout, remaining)
        ready = wait_for_connections(connections, timeout)
        by_conn = {id(worker.conn.sock): worker for worker in self._workers}
        for conn in ready:
            worker = by_conn.get(id(conn))
            if worker is not None:
                self._drain(worker)
        self._send_replies()
        now = time.monotonic()
        for worker in self._workers:
            if not worker.ready and worker.start_deadline is not None and now >= worker.start_deadline:
                raise WorkerStartError(f"a worker process did not start within {self.start_timeout} s")

    def _send_replies(self) -> None:
        """Answer every report of this wake-up after one commit of all of them."""
        if not self._replies:
            return
        assert self._events is not None
        self._events.commit()
        replies, self._replies = self._replies, []
        for worker, trial_id, action in replies:
            if worker.launch is not None and worker.launch.trial_id == trial_id:
                try:
                    worker.conn.send(("decision", trial_id, action))
                except OSError:
                    pass  # the worker died meanwhile; its EOF is handled on the next wait

    def _drain(self, worker: _Worker) -> None:
        try:
            messages = worker.conn.receive_available()
        except ChannelError:
            messages = []
        for message in messages:
            try:
                self._handle(worker, message)
            except _ProtocolViolation as exc:
                self._break(worker, str(exc))
                return
            if worker.retiring is not None:
                self._retire(worker, worker.retiring)
                return
        if worker.conn.error is not None:
            self._break(worker, f"wrote something that is not a rung message to its connection to the tuner "
                                f"({worker.conn.error})")
        elif worker.conn.closed:
            self._worker_died(worker)

    def _break(self, worker: _Worker, problem: str) -> None:
        """The worker's socket carried something rung never sends: end the worker (and its
        trial), fail the trial saying so, and start a replacement."""
        worker.broken = (
            f"the trial {problem}; the worker socket is rung's own channel, a trial must not write to it"
        )
        if worker.child_pid is not None:
            try:
                os.killpg(worker.child_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        worker.process.kill()
        self._worker_died(worker)

    def _handle(self, worker: _Worker, message: tuple) -> None:
        kind = message[0]
        launch = worker.launch
        current = launch.trial_id if launch is not None and worker.held_end is None else None

        def expect(length: int, ok: bool = True) -> None:
            if len(message) != length or not ok:
                raise _ProtocolViolation(f"sent a malformed {kind!r} message {_short(message)}")

        if kind == "report":
            expect(3, current is not None and message[1] == current and isinstance(message[2], dict)
                   and all(isinstance(name, str) for name in message[2]))
            _, trial_id, metrics = message
            assert self._events is not None
            action = self._events.on_report(trial_id, metrics)
            self._replies.append((worker, trial_id, action))
        elif kind == "started":
            expect(3, current is not None and message[1] == current and type(message[2]) is int and message[2] > 0)
            worker.child_pid = message[2]
            if worker.kill_requested:
                self._kill(worker)
        elif kind == "end":
            expect(6, current is not None and message[1] == current
                   and message[2] in {k.value for k in OutcomeKind}
                   and all(part is None or isinstance(part, str) for part in message[4:]))
            _, _trial_id, outcome_kind, value, error, tb = message
            worker.outcome = TrialOutcome(OutcomeKind(outcome_kind), value, error, tb)
        elif kind == "exited":
            expect(3, current is not None and message[1] == current and type(message[2]) is int)
            if message[2] < 0:
                worker.retiring = message[2]
            else:
                self._finish(worker, returncode=message[2])
        elif kind == "ready" and not worker.ready:
            worker.ready = True
            worker.start_deadline = None
            if worker.held_end is not None:
                self._deliver_held(worker)
        elif kind == "init_error" and not worker.ready:
            expect(3)
            _, error, tb = message
            raise WorkerStartError(f"a worker process could not load the objective: {error}\n{tb}")
        else:
            raise _ProtocolViolation(f"sent an unexpected {kind!r} message")

    def _finish(self, worker: _Worker, returncode: int | None, worker_died: bool = False) -> None:
        launch = worker.launch
        if launch is None:
            return
        self._placement.release(launch.trial_id)
        outcome = self._outcome(worker, returncode, worker_died)
        worker.outcome = None
        worker.child_pid = None
        worker.kill_requested = False
        worker.launch = None
        assert self._events is not None
        self._events.on_end(launch.trial_id, outcome)

    def _outcome(self, worker: _Worker, returncode: int | None, worker_died: bool) -> TrialOutcome:
        if worker.kill_requested:
            return TrialOutcome(OutcomeKind.KILLED)
        if worker.broken is not None:
            return TrialOutcome(OutcomeKind.FAILED, error=worker.broken)
        if worker.outcome is not None and not worker_died:
            return worker.outcome
        where = "its worker process" if worker_died else "the trial process"
        how = describe_exit(returncode) if returncode is not None else "ended"
        error = f"{where} {how} before the trial finished"
        if returncode == EXIT_CHANNEL_LOST:
            error += (
                ": it lost its connection to the tuner (did the trial close file descriptors it did "
                "not open, e.g. with os.closerange? keep the ones rung passed it open)"
            )
        return TrialOutcome(OutcomeKind.FAILED, error=error)

    def _deliver_held(self, worker: _Worker) -> None:
        launch, outcome = worker.launch, worker.held_end
        worker.launch = None
        worker.held_end = None
        if launch is not None and outcome is not None:
            assert self._events is not None
            self._events.on_end(launch.trial_id, outcome)

    def _retire(self, worker: _Worker, returncode: int) -> None:
        """Replace a worker whose trial process was killed by a signal (``_Worker.retiring``);
        the trial's end waits for the replacement, as when a worker dies."""
        outcome = self._outcome(worker, returncode, worker_died=False)
        worker.process.kill()
        self._worker_died(worker, outcome)

    def _worker_died(self, worker: _Worker, outcome: TrialOutcome | None = None) -> None:
        try:
            returncode = worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            returncode = worker.process.wait()
        worker.conn.close()
        if not worker.ready:
            raise WorkerStartError(f"a worker process {describe_exit(returncode)} while starting")
        if self._winding_down:  # no replacement: its trial ends now, not after another warm-up
            self._workers.remove(worker)
            launch = worker.launch
            worker.launch = None
            if launch is not None:
                self._placement.release(launch.trial_id)
                assert self._events is not None
                self._events.on_end(launch.trial_id, outcome if outcome is not None
                                    else self._outcome(worker, returncode, worker_died=True))
            return
        replacement = self._spawn(worker.index)
        self._workers[self._workers.index(worker)] = replacement
        launch = worker.launch
        if launch is None:
            return
        # The slot stays busy until the replacement is ready: the trial's end is delivered
        # then, so the tuner never sees zero running trials and zero free slots at once.
        self._placement.release(launch.trial_id)
        replacement.launch = launch
        replacement.held_end = outcome if outcome is not None else self._outcome(worker, returncode, worker_died=True)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."
