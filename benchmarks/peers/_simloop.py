"""An event-driven loop that runs an ask/tell optimizer on a benchmark problem.

The peers' own tuners run real processes on a real clock; to compare them with rung on the
same problems, budgets, seeds and worker counts, each peer is driven through a small
:class:`Peer` interface by :func:`simulate`:

- ``n_workers`` workers. Whenever one is free (and the budget allows), the peer is asked
  for a config and the trial starts on it at the current time.
- A trial advances one fidelity step at a time: ``problem.steps(config)`` gives each
  step's ``(duration_seconds, metrics)``; the step's report arrives ``duration`` later.
  Reports are delivered in time order (ties in the order they were scheduled); after
  each one the peer says whether the trial goes on, and a worker that frees up is refilled
  at once, before the next report.
- A trial ends after its last step (completed) or when the peer stops it; a step that
  raises fails the trial.

Clocks. On synthetic and tabulated problems time is simulated: a virtual clock that jumps
to the next report, so thousands of simulated hours take seconds; the real seconds the
peer spends deciding (ask, report, finish) are measured with ``perf_counter`` and, as in
rung's simulator by default, *not* added to the virtual clock unless
``budget.count_decision_time``. On real problems (``kind == "real"``) steps really train:
time is wall-clock seconds since the run started, with one worker (as the harness runs
rung there).

Budget: ``max_evaluations`` caps the trials started (running ones still finish);
``max_time`` ends the run at that time: no trial starts at or after it and reports that
would arrive later are dropped. A simulated run whose clock stands still (every trial
failing at once, with only a time budget) raises ``RuntimeError`` after ``STALL_LIMIT``
trials.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from benchmarks.harness._method import Budget, EvaluationLog, RunResult

if TYPE_CHECKING:
    from benchmarks.problems import Problem

COMPLETED, STOPPED, FAILED = "completed", "stopped", "failed"
#: Trials started at one simulated time before the loop gives up (as rung's simulator does
#: when time stands still, e.g. every config fails at once and only ``max_time`` is set).
STALL_LIMIT = 10_000


class Peer(Protocol):
    """An optimizer seen as ask/tell, as :func:`simulate` drives it."""

    def ask(self) -> tuple[Any, dict[str, Any]] | None:
        """``(handle, config)`` for a new trial (a rung config of the problem's space), or
        None when the peer has nothing more to propose."""

    def report(self, handle: Any, step: int, metrics: Mapping[str, Any]) -> bool:
        """Step ``step`` (0-based) of trial ``handle`` reported ``metrics``; whether the
        trial should go on (ignored after its last step)."""

    def finish(self, handle: Any, status: str, metrics: Mapping[str, Any] | None) -> None:
        """Trial ``handle`` ended: ``"completed"`` (all steps), ``"stopped"`` (the peer
        said stop) or ``"failed"``; ``metrics`` are its last report (None if it had none)."""


@dataclass
class TrialRecord:
    """One trial of a simulated run: its config, reports ``(time, metrics)`` and status
    (``"running"`` if the run ended while it was on a worker)."""

    trial_id: int
    config: dict[str, Any]
    started: float
    reports: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    status: str = "running"
    error: str | None = None


@dataclass
class SimOutcome:
    """What :func:`simulate` observed; :meth:`result` turns it into a ``RunResult``."""

    problem: Problem
    seed: int
    trials: list[TrialRecord]
    decision_time: float
    real_time: float
    elapsed: float
    n_workers: int
    max_in_flight: int
    stop_reason: str
    clock: str

    def result(self, method: str, info: Mapping[str, Any] | None = None) -> RunResult:
        """The harness result: every report in time order through ``EvaluationLog``."""
        log = EvaluationLog(self.problem, method, self.seed)
        reports = [(t, trial.trial_id, m) for trial in self.trials for t, m in trial.reports]
        for t, trial_id, metrics in sorted(reports, key=lambda r: r[0]):
            log.report(t, metrics, trial=trial_id)
        notes = {"n_workers": self.n_workers, "clock": self.clock, "stop_reason": self.stop_reason,
                 "max_in_flight": self.max_in_flight, **(info or {})}
        return log.result(
            n_evaluations=len(self.trials), decision_time=self.decision_time,
            real_time=self.real_time, elapsed=self.elapsed,
            n_failed=sum(trial.status == FAILED for trial in self.trials), info=notes,
        )


@dataclass
class _Running:
    record: TrialRecord
    handle: Any
    steps: Iterator[tuple[float, dict[str, Any]]]
    done: int = 0


class _Loop:
    """State of one run of :func:`simulate` (see the module docstring)."""

    def __init__(self, problem: Problem, peer: Peer, budget: Budget) -> None:
        self.problem = problem
        self.peer = peer
        self.budget = budget
        self.real = problem.kind == "real"
        self.n_workers = 1 if self.real else budget.n_workers
        self.count_decisions = budget.count_decision_time and not self.real
        self.now = 0.0
        self.decision_time = 0.0
        self.events: list[tuple[float, int, _Running, dict[str, Any]]] = []
        self.sequence = 0
        self.running = 0
        self.max_in_flight = 0
        self.trials: list[TrialRecord] = []
        self.exhausted = False
        self.started_at = time.perf_counter()
        self.stall_time, self.stall_starts = 0.0, 0

    # -- clock and decisions -----------------------------------------------------------
    def clock(self) -> float:
        if self.real:
            return time.perf_counter() - self.started_at
        return self.now

    def _decide(self, call: Any, *args: Any) -> Any:
        began = time.perf_counter()
        try:
            return call(*args)
        finally:
            spent = time.perf_counter() - began
            self.decision_time += spent
            if self.count_decisions:
                self.now += spent

    # -- trials ------------------------------------------------------------------------
    def can_start(self) -> bool:
        budget = self.budget
        if self.exhausted or self.running >= self.n_workers:
            return False
        if budget.max_evaluations is not None and len(self.trials) >= budget.max_evaluations:
            return False
        return budget.max_time is None or self.clock() < budget.max_time

    def start(self) -> None:
        if self.now != self.stall_time:
            self.stall_time, self.stall_starts = self.now, 0
        self.stall_starts += 1
        if not self.real and self.stall_starts > STALL_LIMIT:
            raise RuntimeError(f"{STALL_LIMIT} trials started at simulated time {self.now:g} "
                               "without the clock moving (every trial fails at once?)")
        proposal = self._decide(self.peer.ask)
        if proposal is None:
            self.exhausted = True
            return
        handle, config = proposal
        record = TrialRecord(len(self.trials), dict(config), self.clock())
        self.trials.append(record)
        self.running += 1
        self.max_in_flight = max(self.max_in_flight, self.running)
        try:
            steps = iter(self.problem.steps(config, 0))
        except Exception as err:  # noqa: BLE001 - a bad config fails its trial
            self._fail(_Running(record, handle, iter(())), err)
            return
        self._schedule(_Running(record, handle, steps))

    def _schedule(self, trial: _Running) -> None:
        """Compute the trial's next step and put its report on the event heap."""
        try:
            duration, metrics = next(trial.steps)
        except StopIteration:
            self._end(trial, COMPLETED, trial.record.reports[-1][1] if trial.record.reports else None)
            return
        except Exception as err:  # noqa: BLE001 - a failing step fails its trial
            self._fail(trial, err)
            return
        due = self.clock() if self.real else self.now + float(duration)
        heapq.heappush(self.events, (due, self.sequence, trial, dict(metrics)))
        self.sequence += 1

    def _fail(self, trial: _Running, err: Exception) -> None:
        trial.record.error = f"{type(err).__name__}: {err}"
        last = trial.record.reports[-1][1] if trial.record.reports else None
        self._end(trial, FAILED, last)

    def _end(self, trial: _Running, status: str, metrics: Mapping[str, Any] | None) -> None:
        trial.record.status = status
        self.running -= 1
        self._decide(self.peer.finish, trial.handle, status, metrics)

    def deliver(self, due: float, trial: _Running, metrics: dict[str, Any]) -> None:
        """The report of ``trial``'s next step arrives at ``due``."""
        self.now = max(self.now, due)
        trial.record.reports.append((due if self.real else self.now, metrics))
        step = trial.done
        trial.done += 1
        go_on = self._decide(self.peer.report, trial.handle, step, metrics)
        if trial.done >= self.problem.n_steps:
            self._end(trial, COMPLETED, metrics)
        elif not go_on:
            self._end(trial, STOPPED, metrics)
        else:
            self._schedule(trial)

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> str:
        max_time = self.budget.max_time
        while True:
            while self.can_start():
                self.start()
            if not self.events:
                if self.exhausted:
                    return "exhausted"
                if max_time is not None and self.clock() >= max_time:
                    return "max_time"
                return "max_evaluations"
            due, _, trial, metrics = heapq.heappop(self.events)
            arrival = due if self.real else max(self.now, due)
            if max_time is not None and arrival > max_time:
                return "max_time"
            self.deliver(due, trial, metrics)


def simulate(problem: Problem, peer: Peer, seed: int, budget: Budget) -> SimOutcome:
    """Run ``peer`` on ``problem`` within ``budget`` (see the module docstring)."""
    loop = _Loop(problem, peer, budget)
    reason = loop.run()
    real_time = time.perf_counter() - loop.started_at
    if reason == "max_time" and budget.max_time is not None:
        elapsed = budget.max_time
    else:
        elapsed = real_time if loop.real else loop.now
    return SimOutcome(
        problem=problem, seed=seed, trials=loop.trials, decision_time=loop.decision_time,
        real_time=real_time, elapsed=elapsed, n_workers=loop.n_workers,
        max_in_flight=loop.max_in_flight, stop_reason=reason,
        clock="wall-clock" if loop.real else "simulated",
    )
