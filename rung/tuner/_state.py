"""The state of a run, built by applying its events: the same code live, on resume and on load.

A :class:`RunState` holds the trials, the accepted reports, the incumbent and its
trajectory, and the rung levels at which the scheduler decided. The running tuner changes it
through the same few methods that rebuild it from a stored log (:meth:`RunState.from_log`,
:meth:`RunState.apply`), so a resumed run and ``rung.load`` see exactly what the live run saw,
and a reader of the store (the dashboard) can keep one up to date with incremental reads.

It knows nothing of searchers, schedulers, backends or clocks: times are passed in.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .._objective import Objective
from ..results._result import TrajectoryPoint
from ..storage._records import ReportRecord
from ..trial._record import Report, Trial, TrialStatus

if TYPE_CHECKING:
    from ..storage._records import LogEntry, LogSlice, TrialRecord

#: A stored status string to its member, without the enum lookup's cost per row.
_STATUS: dict[str, TrialStatus] = {status.value: status for status in TrialStatus}


class RunState:
    """Trials, reports and the incumbent of one experiment, for one :class:`Objective`."""

    def __init__(self, objective: Objective) -> None:
        self.objective = objective
        self.trials: dict[int, Trial] = {}
        self.reports: list[Report] = []
        self.trajectory: list[TrajectoryPoint] = []
        self.decision_rungs: set[float] = set()
        self.n_finished = 0
        self.n_failed = 0
        #: Ids of the trials counted in ``n_finished`` (a trial a stop cut short and a resume
        #: continued is counted again only when it ends again).
        self.closed_ids: set[int] = set()
        #: Ids of the trials on a worker now.
        self.running_ids: set[int] = set()
        #: Sequence number of the next report or event (reports and events share one log).
        self.next_seq = 0
        #: Latest time seen in the log (seconds since the experiment's start).
        self.last_time = 0.0

    # -- the incumbent ---------------------------------------------------------------------
    @property
    def best_value(self) -> float | None:
        return self.trajectory[-1].best_value if self.trajectory else None

    @property
    def n_running(self) -> int:
        return len(self.running_ids)

    def take_seq(self) -> int:
        """Allocate the sequence number of one new log entry."""
        seq = self.next_seq
        self.next_seq += 1
        return seq

    # -- the rules, shared by the live run and the replay of a log -------------------------
    def add_trial(self, config: dict[str, Any], now: float) -> Trial:
        """A new trial with the next id."""
        trial = Trial(trial_id=len(self.trials), config=config, created_at=now)
        self.trials[trial.trial_id] = trial
        return trial

    def launch(self, trial: Trial, kind: str, now: float, resource: float | None) -> None:
        """The trial goes to a worker: started, resumed after a pause, or restarted after a crash."""
        trial.status = TrialStatus.RUNNING
        if kind != "restart":
            trial.resource = resource
        trial.n_starts += 1
        if trial.started_at is None:
            trial.started_at = now
        self.running_ids.add(trial.trial_id)

    def leave(self, trial: Trial, now: float, ran_for: float) -> None:
        """The trial left its worker after ``ran_for`` seconds there."""
        self.running_ids.discard(trial.trial_id)
        trial.run_time += ran_for
        trial.ended_at = now

    def take_report(self, trial: Trial, step: int, now: float, metrics: Mapping[str, Any]) -> Report:
        """An accepted report: it becomes the trial's latest metrics and value."""
        metrics = dict(metrics)
        trial.n_reports = step
        trial.last_metrics = metrics
        value = metrics.get(self.objective.metric)
        trial.metric_value = None if value is None else float(value)
        report = Report(trial.trial_id, step, now, metrics)
        self.reports.append(report)
        if now > self.last_time:  # max(self.last_time, now), without the call
            self.last_time = now
        return report

    def note_decision(self, details: Mapping[str, Any] | None) -> None:
        """Remember the rung level of a pause or stop (plots mark these levels)."""
        level = (details or {}).get("rung")
        if isinstance(level, numbers.Real) and not isinstance(level, bool):
            self.decision_rungs.add(float(level))

    @staticmethod
    def note_end(trial: Trial, action: str, reason: str | None, details: Mapping[str, Any] | None) -> None:
        """Keep the details of a scheduler's PAUSE or STOP on the trial (``end_details``)."""
        if action in ("pause", "stop"):
            trial.end_details = {"reason": reason, **(details or {})}

    def close_trial(self, trial: Trial, now: float) -> None:
        """A trial ended for good (not paused): counts, and the incumbent if it improved."""
        self.last_time = max(self.last_time, now)
        if trial.trial_id not in self.closed_ids:
            self.closed_ids.add(trial.trial_id)
            self.n_finished += 1
            if trial.status is TrialStatus.FAILED:
                self.n_failed += 1
        if trial.status is TrialStatus.FAILED:
            return
        value = trial.metric_value
        if value is None or not math.isfinite(value):
            return
        if self.objective.better(value, self.best_value):
            self.trajectory.append(TrajectoryPoint(now, value, trial.trial_id))

    def reopen(self, trial: Trial) -> None:
        """A trial that ended (cut short by a stop of the experiment) will run again."""
        if trial.trial_id in self.closed_ids:
            self.closed_ids.discard(trial.trial_id)
            self.n_finished -= 1

    # -- rebuilding from a stored log ------------------------------------------------------
    @classmethod
    def from_log(cls, objective: Objective, log: "LogSlice") -> "RunState":
        """The state of an experiment from its whole stored log."""
        state = cls(objective)
        state.apply(log)
        return state

    def apply(self, log: "LogSlice") -> None:
        """Bring the state up to date with a slice of the log (``read_log(after_seq)``).

        Trial rows are the authority for what only they store (timings, reasons,
        tracebacks); the reports are the authority for each trial's metrics, since a trial
        that was running when its tuner died has reports newer than its row.
        """
        self._take_rows(log.trials)
        for entry in log.entries:
            self.apply_entry(entry)
        self.next_seq = max(self.next_seq, log.last_seq + 1)

    def apply_entry(self, entry: "LogEntry") -> None:
        """One stored report or event."""
        if entry.time > self.last_time:  # max(self.last_time, entry.time), without the call
            self.last_time = entry.time
        trial = self.trials.get(entry.trial_id)
        if trial is None:
            return
        if isinstance(entry, ReportRecord):
            self.take_report(trial, entry.step, entry.time, entry.metrics)
            if entry.action is not None:
                self.note_decision(entry.details)
                self.note_end(trial, entry.action, entry.reason, entry.details)
            return
        if entry.kind in ("restart", "resume"):
            self.reopen(trial)  # a stop had cut it short; a resumed run continued it
        if entry.kind == "end":
            status = entry.payload.get("status")
            if status != TrialStatus.PAUSED.value:
                self._close_stored(trial, TrialStatus(status), entry.time)

    def _close_stored(self, trial: Trial, status: TrialStatus, now: float) -> None:
        # The row holds the trial's latest status; the event says how it ended at that time.
        current = trial.status
        trial.status = status
        self.close_trial(trial, now)
        trial.status = current

    def _take_rows(self, rows: Iterable["TrialRecord"]) -> None:
        trials, running = self.trials, self.running_ids
        for row in rows:
            status = _STATUS.get(row.status) or TrialStatus(row.status)  # unknown: ValueError
            trial = trials.get(row.trial_id)
            if trial is None:  # a new trial, built in one call (most of rebuilding a large log)
                trial = Trial(row.trial_id, dict(row.config), status, row.created_at, row.started_at, row.ended_at,
                              row.run_time or 0.0, n_starts=row.n_starts or 0, resource=row.resource,
                              end_reason=row.end_reason, error=row.error, traceback=row.traceback)
                trials[row.trial_id] = trial
            else:
                trial.status = status
                trial.created_at = row.created_at
                trial.started_at = row.started_at
                trial.ended_at = row.ended_at
                trial.run_time = row.run_time or 0.0
                trial.n_starts = row.n_starts or 0
                trial.resource = row.resource
                trial.end_reason = row.end_reason
                trial.error = row.error
                trial.traceback = row.traceback
            if status is TrialStatus.RUNNING:
                running.add(trial.trial_id)
            else:
                running.discard(trial.trial_id)
