"""The event loop: keep every worker busy, carry out the scheduler's decisions, record it all.

One loop, whatever the backend: fill free slots with what the scheduler suggests, wait
for events, pass each report to the scheduler and carry out its decision, and stop at the
first budget reached or when the search has nothing left. The loop is the backend's event
sink (:class:`rung.backends.TrialEvents`): reports and trial ends arrive through
:meth:`EventLoop.on_report` and :meth:`EventLoop.on_end` while the loop waits.

Every change of state goes through :class:`RunState` (the same rules rebuild it from the
store), every entry is written through the recorder before any decision depending on it is
carried out, and every call into the searcher or scheduler is timed as decision time.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any, Callable, TypeVar

from ..backends import Backend, OutcomeKind, TrialLaunch, TrialOutcome, TrialResources
from ..schedulers import Action, Decision, ResumeTrial, Scheduler, StartTrial
from ..searchers import _prefetch
from ..storage import EventRecord, Recorder, ReportRecord
from ..trial._record import Report, Trial, TrialStatus
from ._budgets import RESUMABLE_STOPS, Budgets, StopRequests, StopSignal
from ._callbacks import Callback
from ._failures import FailureWatch
from ._outcomes import PendingEnd, classify, metric_problem
from ._resource_check import STOP_REASON as RESOURCE_MISSING
from ._resource_check import ResourceCheck
from ._state import RunState

T = TypeVar("T")
_END_HOOKS = {TrialStatus.PAUSED: "on_pause", TrialStatus.STOPPED: "on_stop", TrialStatus.FAILED: "on_fail"}


class EventLoop:
    """Runs trials on ``backend`` as ``scheduler`` decides, until a budget or the search ends."""

    def __init__(self, *, state: RunState, scheduler: Scheduler, backend: Backend, budgets: Budgets,
                 recorder: Recorder | None, callbacks: Callback, workdir: Path, resources: TrialResources,
                 stop_requested: Callable[[], bool] | None = None) -> None:
        self.state = state
        self.objective = state.objective
        self.scheduler = scheduler
        self.backend = backend
        self.budgets = budgets
        self.recorder = recorder
        self.callbacks = callbacks
        self.workdir = workdir
        self.resources = resources
        self._stop_requests = StopRequests(stop_requested)
        self.stop = StopSignal()
        self.decision_time = 0.0
        self.clock: Callable[[], float] = backend.clock or time.perf_counter
        self._t0 = self.clock()
        self.relaunch: list[Trial] = []  # trials that were running when an earlier tuner died
        self.abandon_pending: dict[int, str] = {}  # given up on while still on their way to a pause
        self._pending: dict[int, PendingEnd] = {}
        self._deadlines: dict[int, float] = {}
        self._segment_start: dict[int, float] = {}
        self._terminating = False
        self._cut: set[int] = set()  # trials ended by the experiment's stop, not by a decision on them
        self.failures = FailureWatch(budgets.max_initial_failures)  # the first trials all failing alike
        self.resource_check = ResourceCheck(scheduler)  # reports must hold the scheduler's resource
        # Real time, workers beside the loop: model-based suggestions are computed ahead.
        self.prefetch = _prefetch.install(scheduler, backend)

    # -- time --------------------------------------------------------------------------------
    def start_clock(self, elapsed: float = 0.0) -> None:
        """Count time from now, continuing from ``elapsed`` seconds of earlier runs."""
        self._t0 = self.clock() - elapsed

    def now(self) -> float:
        return self.clock() - self._t0

    def _timed(self, call: Callable[..., T], *args: Any) -> T:
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            self.decision_time += time.perf_counter() - started

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        _prefetch.begin(self.scheduler, self.backend)
        while True:
            self.commit()
            if not self.stop:
                self._check_clock()
                self._poll_stop_request()
            if not self.stop:
                self._launch_trials()
            if not self.state.running_ids:
                if not self.stop:
                    self.stop.request(self.budgets.end_of_search(len(self.state.trials)))
                _prefetch.uninstall(self.scheduler)
                return
            if self.stop and not self._terminating:
                self._terminating = True
                self.backend.wind_down()
                for trial_id in list(self.state.running_ids):
                    self._cut.add(trial_id)
                    self._terminate(trial_id, TrialStatus.STOPPED, self.stop.message())
            self.backend.wait(self._wait_timeout())
            self._check_clock()

    def interrupt(self) -> None:
        """End the run now (Ctrl-C): stop and record every running trial."""
        self.stop.request("interrupted", "interrupted by the user")
        for trial_id in list(self.state.running_ids):
            self._cut.add(trial_id)
            self._terminate(trial_id, TrialStatus.STOPPED, "experiment interrupted")
            self.on_end(trial_id, TrialOutcome(OutcomeKind.KILLED))  # the backend will not report it

    def commit(self) -> None:
        """Make every accepted result durable; backends call this before answering trials."""
        if self.recorder is not None:
            self.recorder.flush()

    def _wait_timeout(self) -> float:
        # Real time: wake at least every 0.1 s (stop requests, deadlines). Simulated time:
        # only deadlines bound the wait; the backend jumps to its next event.
        timeout = 0.1 if self.backend.clock is None else math.inf
        now = self.now()
        if self._deadlines:
            timeout = min(timeout, min(self._deadlines.values()) - now)
        if self.budgets.max_wallclock is not None:
            timeout = min(timeout, self.budgets.max_wallclock - now)
        return max(timeout, 0.0)

    def _check_clock(self) -> None:
        now = self.now()
        spent = self.budgets.wallclock_spent(now)
        if spent is not None:
            self.stop.request("max_wallclock", spent)
        for trial_id, deadline in list(self._deadlines.items()):
            if now >= deadline:
                del self._deadlines[trial_id]
                self._terminate(trial_id, TrialStatus.FAILED, self.budgets.timeout_reason())

    def _poll_stop_request(self) -> None:
        """Honour ``rung stop NAME`` from another process (checked about once a second)."""
        if self._stop_requests.due_and_set():
            self.stop.request("stop_requested", "stop requested from the command line")

    def _terminate(self, trial_id: int, status: TrialStatus, reason: str) -> None:
        if trial_id not in self.state.running_ids:
            return
        pending = self._pending.setdefault(trial_id, PendingEnd())
        if pending.kill is None:
            pending.kill = (status, reason)
            self.backend.terminate(trial_id)

    # -- starting trials -----------------------------------------------------------------------
    def _launch_trials(self) -> None:
        self._collect_abandoned()
        self.commit()  # results accepted so far are durable before they cause any new decision
        while self.relaunch and self.backend.free_slots() > 0:
            self._start(self.relaunch.pop(0), None, "restart")
        while self.backend.free_slots() > 0:
            allow_new = self.budgets.allows_new_trial(len(self.state.trials))
            suggestion = self._timed(self.scheduler.suggest, allow_new)
            if suggestion is None:
                return
            if isinstance(suggestion, StartTrial):
                if not allow_new:
                    raise RuntimeError(f"{self.scheduler!r} started a new trial although the trial budget is spent")
                trial = self.state.add_trial(suggestion.config, self.now())
                self._start(trial, suggestion.resource, "start", allow_new)
            elif isinstance(suggestion, ResumeTrial):
                trial = self.state.trials[suggestion.trial_id]
                if trial.status is not TrialStatus.PAUSED:
                    raise RuntimeError(f"{self.scheduler!r} resumed trial {trial.trial_id}, which is {trial.status.value}")
                self._start(trial, suggestion.resource, "resume", allow_new)
            else:
                raise TypeError(f"scheduler.suggest() returned {suggestion!r}")

    def _start(self, trial: Trial, resource: float | None, kind: str, allow_new: bool = True) -> None:
        now = self.now()
        self.state.launch(trial, kind, now, resource)
        self._segment_start[trial.trial_id] = now
        deadline = self.budgets.trial_deadline(now)
        if deadline is not None:
            self._deadlines[trial.trial_id] = deadline
        self._record(EventRecord(self.state.take_seq(), kind, trial.trial_id, now,
                                 {"resource": trial.resource, "allow_new": allow_new,
                                  **_prefetch.logged_decisions(self.prefetch),
                                  **_prefetch.logged_handovers(self.scheduler)}), trial)
        self._timed(self.scheduler.on_start, trial)
        trial_dir = self.backend.trial_dir(self.workdir, trial.trial_id)
        resource = trial.resource  # a restart keeps the cap of the launch it repeats
        config = self.scheduler.launch_config(trial.config, resource)
        self.backend.launch(TrialLaunch(trial.trial_id, config, trial_dir, resource, self.resources))
        self.callbacks.on_trial_start(self.state, trial, kind)

    # -- events from the backend -----------------------------------------------------------
    def on_report(self, trial_id: int, metrics: dict[str, Any]) -> str:
        """Accept one report and return the scheduler's action for the trial.

        The report and the decision are recorded; the backend calls :meth:`commit` before
        it passes the action on to the trial.
        """
        trial = self.state.trials[trial_id]
        pending = self._pending.get(trial_id)
        if trial_id not in self.state.running_ids or (pending is not None and pending.kill is not None):
            return Action.STOP.value
        if not self.stop:
            self._poll_stop_request()  # in-process trials keep the loop from polling
        problem = metric_problem(self.objective.metric, metrics, f"report {trial.n_reports + 1}")
        missing = self.resource_check.problem(trial, metrics) if problem is None else None
        if missing is not None:  # the scheduler could decide nothing: stop, saying why
            problem = missing
            self.stop.request(RESOURCE_MISSING, missing)
            warnings.warn(missing, RuntimeWarning, stacklevel=2)
        if problem is not None:
            self._pending.setdefault(trial_id, PendingEnd()).bad_metric = problem
            return Action.STOP.value
        report = self._accept(trial, metrics)
        decision = self._decide(trial, metrics)
        if decision.action is not Action.CONTINUE:
            self._pending.setdefault(trial_id, PendingEnd()).decision = decision
            self.state.note_decision(decision.details)
            self.state.note_end(trial, decision.action.value, decision.reason or None, decision.details)
        self._record(ReportRecord(self.state.take_seq(), trial_id, report.step, report.time, metrics,
                                  decision.action.value, decision.reason or None, dict(decision.details)))
        self.callbacks.on_report(self.state, trial, report, decision)
        return decision.action.value

    def _accept(self, trial: Trial, metrics: dict[str, Any]) -> Report:
        report = self.state.take_report(trial, trial.n_reports + 1, self.now(), metrics)
        reached = self.budgets.threshold_reached(self.objective, float(metrics[self.objective.metric]), trial.trial_id)
        if reached is not None:
            self.stop.request("metric_threshold", reached)
        return report

    def _decide(self, trial: Trial, metrics: dict[str, Any]) -> Decision:
        if self.stop:
            self._cut.add(trial.trial_id)
            return Decision.stop(self.stop.message())
        now = self.now()
        deadline = self._deadlines.get(trial.trial_id)
        if deadline is not None and now >= deadline:
            reason = self.budgets.timeout_reason()
            self._pending.setdefault(trial.trial_id, PendingEnd()).kill = (TrialStatus.FAILED, reason)
            return Decision.stop(reason)
        spent = self.budgets.wallclock_spent(now)
        if spent is not None:
            self.stop.request("max_wallclock", spent)
            self._cut.add(trial.trial_id)
            return Decision.stop(self.stop.message())
        return self._timed(self.scheduler.on_report, trial, metrics)

    def on_end(self, trial_id: int, outcome: TrialOutcome) -> None:
        """Record how a trial left its worker and tell the scheduler."""
        trial = self.state.trials[trial_id]
        if trial_id not in self.state.running_ids:
            return
        now = self.now()
        self.state.leave(trial, now, now - self._segment_start.pop(trial_id, now))
        self._deadlines.pop(trial_id, None)
        verdict = classify(outcome, self._pending.pop(trial_id, PendingEnd()), metric=self.objective.metric,
                           reported=trial.metric_value is not None,
                           stop_message=self.stop.message() if self.stop else None)
        if verdict.final_metrics is not None:
            report = self._accept(trial, verdict.final_metrics)
            self._record(ReportRecord(self.state.take_seq(), trial_id, report.step, report.time,
                                      verdict.final_metrics, None, None, {}))
        trial.status = verdict.status
        if verdict.status is TrialStatus.FAILED:
            trial.error = verdict.reason
            trial.traceback = outcome.traceback
            trial.end_reason = None  # a reason from an earlier pause no longer applies
        else:
            trial.end_reason = verdict.reason
        self._tell_scheduler(trial)
        cut = trial_id in self._cut and trial.status is TrialStatus.STOPPED and self.stop.reason in RESUMABLE_STOPS
        self._cut.discard(trial_id)
        self.record_end(trial, now, interrupted=self.stop.reason if cut else None)
        if trial.status is not TrialStatus.PAUSED:
            self._close(trial, now)
        self.callbacks.on_trial_end(self.state, trial)  # sees the counts and incumbent updated
        if trial.status is TrialStatus.PAUSED:
            self._collect_abandoned()

    def _tell_scheduler(self, trial: Trial) -> None:
        if trial.status is TrialStatus.COMPLETED:
            self._timed(self.scheduler.on_complete, trial, trial.last_metrics)
        else:
            self._timed(getattr(self.scheduler, _END_HOOKS[trial.status]), trial)

    def _collect_abandoned(self) -> None:
        """Close paused trials the scheduler has given up on (e.g. not promoted)."""
        for trial_id, reason in self.scheduler.take_abandoned():
            self.abandon_pending[trial_id] = reason
        for trial_id, reason in list(self.abandon_pending.items()):
            trial = self.state.trials.get(trial_id)
            if trial is None or trial.status is not TrialStatus.PAUSED:
                continue  # still on its way to the pause: closed when it gets there
            del self.abandon_pending[trial_id]
            trial.status = TrialStatus.STOPPED
            trial.end_reason = reason
            now = self.now()
            self.record_end(trial, now, abandoned=True)
            self._close(trial, now)
            self.callbacks.on_trial_end(self.state, trial)

    def _close(self, trial: Trial, now: float) -> None:
        """A trial that will not run again: counts, the incumbent, the failure budget."""
        self.state.close_trial(trial, now)
        spent = self.budgets.failures_spent(self.state.n_failed) if trial.status is TrialStatus.FAILED else None
        if spent is not None:
            self.stop.request("max_failures", spent)
        alike = self.failures.observe(trial)
        if alike is not None and not self.stop:
            self.stop.request("initial_failures", alike)  # the tuner warns with the traceback

    def record_end(self, trial: Trial, now: float, abandoned: bool = False, interrupted: str | None = None) -> None:
        """Log that ``trial`` left its worker (or, ``abandoned``, that a pause became a stop).

        ``interrupted`` (the stop reason) marks a trial the experiment's own stop cut short
        (``rung stop``, Ctrl-C, ``max_wallclock``): a resume continues it from its checkpoint.
        """
        payload: dict[str, Any] = {"status": trial.status.value}
        if abandoned:
            payload["abandoned"] = True
        if interrupted is not None:
            payload["interrupted"] = interrupted
        self._record(EventRecord(self.state.take_seq(), "end", trial.trial_id, now, payload), trial)

    def _record(self, entry: EventRecord | ReportRecord, trial: Trial | None = None) -> None:
        if self.recorder is not None:
            self.recorder.append(entry)
            if trial is not None:
                self.recorder.save_trial(trial)
