"""In-process backend: trials run one at a time inside the tuner's own process.

For tests, debugging and objectives so small that a process boundary would dominate. A
trial that crashes the interpreter takes the tuner with it, and a hanging trial can only be
stopped at its next report; use the process backend when that matters.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections import deque
from pathlib import Path
from typing import Any, Callable

from ..trial._session import open_private, private_dir
from ._base import Backend, OutcomeKind, TrialEvents, TrialLaunch, TrialOutcome
from ._capture import run_objective


class _InProcessSession:
    """Session of a trial in the tuner's thread: each report is answered after a commit."""

    def __init__(self, trial_id: int, trial_dir: Path, events: TrialEvents, resource: float | None = None) -> None:
        self.trial_id = trial_id
        self.trial_dir = trial_dir
        self.resource = resource
        self._events = events

    def report(self, metrics: dict[str, Any]) -> str:
        action = self._events.on_report(self.trial_id, dict(metrics))
        self._events.commit()
        return action


class InProcessBackend(Backend):
    """Run each trial synchronously in the calling thread; ``n_workers`` must be 1.

    ``capture_output`` keeps what a trial prints (Python-level ``print`` and
    ``sys.stderr``) in ``stdout.log`` / ``stderr.log`` in its trial directory.
    """

    name = "inprocess"
    worker_limit = 1

    def __init__(self, *, capture_output: bool = True) -> None:
        self.capture_output = capture_output
        self._queue: deque[TrialLaunch] = deque()
        self._objective: Callable[[dict], Any] | None = None
        self._events: TrialEvents | None = None

    def check_timeout(self, trial_timeout: float | None) -> None:
        """Refuse ``trial_timeout``: a trial running in this thread cannot be interrupted,
        so one that never reports would hang the tuner past its timeout."""
        if trial_timeout is not None:
            raise ValueError(
                f"backend 'inprocess' cannot stop a running trial, so trial_timeout={trial_timeout!r} "
                "cannot be enforced; use backend='process'"
            )

    def start(self, objective: Callable[[dict], Any], events: TrialEvents, n_workers: int) -> None:
        if n_workers != 1:
            raise ValueError(
                f"backend 'inprocess' runs one trial at a time, got n_workers={n_workers}; "
                "use backend='process' for parallel trials"
            )
        self._objective = objective
        self._events = events

    def free_slots(self) -> int:
        return 0 if self._queue else 1

    def launch(self, launch: TrialLaunch) -> None:
        self._queue.append(launch)

    def wait(self, timeout: float | None) -> None:
        if not self._queue:
            return
        launch = self._queue.popleft()
        assert self._objective is not None and self._events is not None
        session = _InProcessSession(launch.trial_id, launch.trial_dir, self._events, launch.resource)
        if not self.capture_output:
            outcome = run_objective(self._objective, launch.config, session, catch_exit=True)
        else:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                outcome = run_objective(self._objective, launch.config, session, catch_exit=True)
            _save_output(launch.trial_dir, out.getvalue(), err.getvalue())
        self._events.on_end(launch.trial_id, outcome)

    def terminate(self, trial_id: int) -> None:
        # Only queued trials can be withdrawn; a running one ends at its next report.
        for launch in list(self._queue):
            if launch.trial_id == trial_id:
                self._queue.remove(launch)
                assert self._events is not None
                self._events.on_end(trial_id, TrialOutcome(OutcomeKind.KILLED))

    def shutdown(self) -> None:
        self._queue.clear()


def _save_output(trial_dir: Path, stdout: str, stderr: str) -> None:
    """Write captured output, touching the disk only when the trial printed something."""
    if not stdout and not stderr:
        return
    private_dir(trial_dir)
    for name, text in (("stdout.log", stdout), ("stderr.log", stderr)):
        if text:
            with os.fdopen(open_private(trial_dir / name, os.O_WRONLY | os.O_TRUNC), "w") as handle:
                handle.write(text)
