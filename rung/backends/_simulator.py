"""Simulator backend: the real tuner loop on a virtual clock, for benchmarks.

Each trial is a :class:`~rung.backends.SimulatedObjective` (see ``_simulated.py``): per
step, ``steps(config, start_step)`` yields ``(duration_seconds, metrics)``. The step is
computed instantly in real time; the simulator schedules its report ``duration_seconds``
later on a virtual clock, and ``n_workers`` simulated workers run trials side by side. The
tuner, searcher and scheduler are the real ones: the backend supplies the tuner's clock
(:attr:`Backend.clock`), so budgets (``max_wallclock``), ``trial_timeout``, trial timings,
report times and the trajectory are all in simulated seconds, and thousands of simulated
hours take seconds.

How it runs:

* ``launch`` asks the trial for its first step and puts the step's end on an event heap
  ordered by (virtual time, sequence number); a resumed trial (the same trial id launched
  again after a pause) starts at ``start_step`` = the steps it had done, as a checkpoint
  would give.
* ``wait(timeout)`` takes the next event if it is due within ``timeout`` of now, moves the
  clock to it and delivers the report (then ``commit``), as ``rung.report`` would. On
  "continue" the next step is scheduled, or, when the trial has no more steps, it ends as
  having returned None at that same time; on "stop" or "pause" it ends as stopped (the
  tuner knows which it decided), keeping its step count for a resume. When nothing is due
  in time the clock moves forward by ``timeout`` (the tuner's next deadline). One event
  per ``wait``, so the tuner refills a freed worker before the next event, as it would if
  it were infinitely fast.
* An exception raised while producing a step fails the trial at the virtual time the step
  began, with the error and traceback a real run would record.
* ``terminate`` ends a trial at once, as killed, at the current virtual time.
* A run in which time stands still (steps of zero duration, or trials that all fail before
  their first step, with only ``max_wallclock`` to end it) would spin forever; after
  ``stall_limit`` events in a row at one virtual time, ``wait`` raises ``RuntimeError``.

``count_decision_time=False`` (default): the tuner's own work is free, so a run depends on
nothing but the seeds and the problem: same seed, same results and same virtual times on
any machine. ``True``: the real time the tuner spends in its own code (searcher and
scheduler decisions, bookkeeping, store writes: between ``wait`` calls and inside the
report callbacks) is added to the virtual clock, so a slow searcher costs simulated time
as it would cost real time; such runs are no longer exactly reproducible.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ._base import Backend, OutcomeKind, TrialEvents, TrialLaunch, TrialOutcome
from ._resources import TrialResources
from ._capture import run_objective
from ._simulated import SimulatedObjective, as_simulated, check_step
from ._virtual_clock import VirtualClock

_REPORT, _END = "report", "end"
_EXHAUSTED = object()


class _SimulatedSession:
    """The session installed while a simulated trial computes a step.

    Simulated objectives yield their metrics instead of reporting them, but their code
    can read the launch's ``trial_id``, ``trial_dir`` and ``resource`` as any trial can.
    """

    def __init__(self, launch: TrialLaunch) -> None:
        self.trial_id = launch.trial_id
        self.trial_dir = launch.trial_dir
        self.resource = launch.resource

    def report(self, metrics: dict[str, Any]) -> str:
        raise RuntimeError(
            "a simulated objective yields (duration_seconds, metrics) for each step instead of "
            "calling rung.report()"
        )


@dataclass
class _Run:
    """A trial on a simulated worker."""

    trial_id: int
    steps: Iterator[Any] | None
    done: int  # steps completed (reported), those before a pause included
    pending: int = -1  # sequence number of its scheduled event; others are stale
    session: _SimulatedSession | None = None


class SimulatorBackend(Backend):
    """Run simulated objectives on ``n_workers`` virtual workers with a virtual clock.

    ``count_decision_time``: charge the tuner's real time to the virtual clock (see the
    module docstring). ``n_workers``: workers when the tuner is not given ``n_workers``
    (default 1; giving both, they must agree). ``max_workers``: an upper bound the tuner
    enforces (None: no bound).
    """

    name = "simulator"
    #: Events in a row at one virtual time before the run is declared stuck.
    stall_limit: int = 100_000

    def __init__(
        self, *, count_decision_time: bool = False, n_workers: int | None = None, max_workers: int | None = None
    ) -> None:
        for label, value in (("n_workers", n_workers), ("max_workers", max_workers)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{label} must be a positive integer or None, got {label}={value!r}")
        self.count_decision_time = bool(count_decision_time)
        self._default_workers = n_workers
        self._max_workers = max_workers
        self._clock = VirtualClock(self.count_decision_time)
        self.clock: Callable[[], float] | None = self._clock.now
        self._objective: SimulatedObjective | None = None
        self._events: TrialEvents | None = None
        self._n_workers = 0
        self._running: dict[int, _Run] = {}
        self._done: dict[int, int] = {}  # steps done by trials that left their worker
        self._heap: list[tuple[float, int, int, str, Any]] = []
        self._seq = 0
        self._stalled = 0  # events delivered since the clock last moved
        self._last_event = -math.inf  # virtual time of the last event delivered

    @property
    def max_workers(self) -> int | None:
        return self._max_workers

    def default_workers(self) -> int:
        return self._default_workers or 1

    def check_resources(self, resources: TrialResources, n_workers: int) -> None:
        """Simulated trials use nothing real: any resources are accepted (and only recorded)."""

    @property
    def now(self) -> float:
        """Virtual seconds since the backend started."""
        return self._clock.now()

    # -- the contract ------------------------------------------------------------------------
    def start(self, objective: Callable[[dict], Any], events: TrialEvents, n_workers: int) -> None:
        if self._default_workers is not None and n_workers != self._default_workers:
            raise ValueError(
                f"SimulatorBackend(n_workers={self._default_workers}) but the tuner has n_workers={n_workers}; "
                "set the number of simulated workers in one place"
            )
        self._objective = as_simulated(objective)
        self._events = events
        self._n_workers = n_workers
        self._running.clear()
        self._done.clear()
        self._heap.clear()
        self._seq = 0
        self._stalled = 0
        self._last_event = -math.inf
        self._clock.reset()

    def free_slots(self) -> int:
        return max(self._n_workers - len(self._running), 0)

    def launch(self, launch: TrialLaunch) -> None:
        with self._clock.backend_work():
            if launch.trial_id in self._running:
                raise RuntimeError(f"trial {launch.trial_id} is already running on the simulator")
            if self.free_slots() <= 0:
                raise RuntimeError(f"no free simulated worker for trial {launch.trial_id}")
            run = _Run(launch.trial_id, None, self._done.pop(launch.trial_id, 0), session=_SimulatedSession(launch))
            self._running[run.trial_id] = run
            objective, config = self._objective, dict(launch.config)
            assert objective is not None
            run.steps, outcome = _attempt(lambda: iter(objective.steps(config, run.done)), run.session)
            if outcome is None:
                outcome = self._next_step(run)
            if outcome is not None:
                # Nothing to simulate (no steps, or a failure): the trial ends at this virtual
                # time, in the next wait, like a real trial that fails on its first line.
                self._schedule(run, self._clock.now(), _END, outcome)

    def wait(self, timeout: float | None) -> None:
        with self._clock.backend_work():
            span = math.inf if timeout is None else max(timeout, 0.0)
            event = self._pop_due(self._clock.now() + span)
            if event is None:
                if 0.0 < span < math.inf:
                    self._advance_by(span)
                return
            when, _, trial_id, kind, payload = event
            self._clock.advance_to(when)
            self._check_progress()
            run = self._running[trial_id]
            if kind == _END:
                self._end(run, payload)
            else:
                self._deliver(run, payload)

    def terminate(self, trial_id: int) -> None:
        with self._clock.backend_work():
            run = self._running.get(trial_id)
            if run is not None:
                self._end(run, TrialOutcome(OutcomeKind.KILLED))

    def shutdown(self) -> None:
        self._clock.freeze()
        for run in list(self._running.values()):
            self._close(run)
        self._running.clear()
        self._heap.clear()

    # -- events ------------------------------------------------------------------------------
    def _deliver(self, run: _Run, metrics: dict[str, Any]) -> None:
        """A step ended: report it and carry out the tuner's answer."""
        assert self._events is not None
        run.done += 1
        with self._clock.tuner_work():
            action = self._events.on_report(run.trial_id, dict(metrics))
            self._events.commit()
        if self._running.get(run.trial_id) is not run:
            return  # the tuner ended it meanwhile
        if action != "continue":
            # A real trial lets TrialStopped / TrialPaused propagate: both end as STOPPED.
            self._end(run, TrialOutcome(OutcomeKind.STOPPED))
            return
        outcome = self._next_step(run)
        if outcome is not None:
            self._end(run, outcome)

    def _next_step(self, run: _Run) -> TrialOutcome | None:
        """Schedule the trial's next step; or return how it ended (no more steps, failure)."""
        steps, step = run.steps, run.done
        assert steps is not None
        item, outcome = _attempt(lambda: _next_checked(steps, step), run.session)
        if outcome is not None:
            return outcome
        if item is _EXHAUSTED:
            return TrialOutcome(OutcomeKind.RETURNED, value=None)
        duration, metrics = item
        self._schedule(run, self._clock.now() + duration, _REPORT, metrics)
        return None

    def _end(self, run: _Run, outcome: TrialOutcome) -> None:
        """The trial leaves its worker; the tuner hears of it now."""
        assert self._events is not None
        del self._running[run.trial_id]
        run.pending = -1
        self._done[run.trial_id] = run.done
        self._close(run)
        with self._clock.tuner_work():
            self._events.on_end(run.trial_id, outcome)

    def _check_progress(self) -> None:
        """Refuse to spin forever when time stands still (a real run would at least age)."""
        now = self._clock.now()
        self._stalled = self._stalled + 1 if now <= self._last_event else 0
        self._last_event = now
        if self._stalled > self.stall_limit:
            raise RuntimeError(
                f"the simulation is stuck: {self.stall_limit} events in a row at virtual time "
                f"{self._clock.now():g} s; its steps take no time, or its trials fail before their "
                "first step, and no budget ends that (set max_trials or max_failures)"
            )

    # -- the heap ----------------------------------------------------------------------------
    def _schedule(self, run: _Run, when: float, kind: str, payload: Any) -> None:
        run.pending = self._seq
        heapq.heappush(self._heap, (when, self._seq, run.trial_id, kind, payload))
        self._seq += 1

    def _pop_due(self, limit: float) -> tuple[float, int, int, str, Any] | None:
        """The next live event if it is due by ``limit``; stale ones (ended trials) are dropped."""
        while self._heap:
            when, seq, trial_id, _, _ = self._heap[0]
            run = self._running.get(trial_id)
            if run is None or run.pending != seq:
                heapq.heappop(self._heap)
                continue
            return heapq.heappop(self._heap) if when <= limit else None
        return None

    def _advance_by(self, span: float) -> None:
        """Nothing is due within ``span``: move that far, and always forward, however small."""
        now = self._clock.now()
        later = now + span
        self._clock.advance_to(later if later > now else math.nextafter(now, math.inf))

    @staticmethod
    def _close(run: _Run) -> None:
        """Let the trial's generator run its ``finally`` blocks, as a real trial would."""
        close = getattr(run.steps, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                pass


def _attempt(work: Callable[[], Any], session: _SimulatedSession | None) -> tuple[Any, TrialOutcome | None]:
    """Run trial code as a real backend would: its value, or how it ended (failed, stopped)."""
    outcome = run_objective(lambda _config: work(), {}, session, catch_exit=True)
    if outcome.kind is OutcomeKind.RETURNED:
        return outcome.value, None
    return None, outcome


def _next_checked(steps: Iterator[Any], step: int) -> Any:
    """The next ``(duration, metrics)`` of ``steps`` (checked), or ``_EXHAUSTED``."""
    item = next(steps, _EXHAUSTED)
    return item if item is _EXHAUSTED else check_step(item, step)
