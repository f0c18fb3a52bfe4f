"""One experiment held in columns, fed by the store's log: what the dashboard draws from.

A 100,000-trial experiment has a million reports; as Python objects (``RunState``) they
would take gigabytes, so the dashboard keeps trials and reports in growing numpy arrays
(a few dozen bytes per report) and only what is rare as Python objects: configs, failure
texts, and the reasons and details of decisions other than a plain "continue".

:class:`ExperimentData` is filled by :meth:`take_trials` (trial rows) and :meth:`take_log`
(slices of the log, in sequence order) and read under :attr:`lock` by the views.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Iterable

import numpy as np

from ..storage import EventRecord, ExperimentRecord, LogSlice, ReportRecord, TrialRecord

STATUSES = ("running", "paused", "completed", "stopped", "failed")
STATUS_CODE = {name: code for code, name in enumerate(STATUSES)}
ACTIONS = (None, "continue", "pause", "stop")
ACTION_CODE = {name: code for code, name in enumerate(ACTIONS)}
#: At most this many metrics besides the objective are kept per report (numeric only).
MAX_EXTRA_METRICS = 32


class _Column:
    """A numpy array that grows by doubling; ``view()`` is the filled part."""

    def __init__(self, dtype: Any, fill: Any) -> None:
        self.fill = fill
        self.data = np.full(1024, fill, dtype=dtype)
        self.size = 0

    def reserve(self, size: int) -> None:
        if size > len(self.data):
            grown = np.full(max(size, 2 * len(self.data)), self.fill, dtype=self.data.dtype)
            grown[: len(self.data)] = self.data
            self.data = grown
        self.size = max(self.size, size)

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class ExperimentData:
    """Trials, reports and trial segments (start to end on a worker) of one experiment."""

    def __init__(self, record: ExperimentRecord) -> None:
        self.lock = threading.RLock()
        self.record = record
        self.name = record.name
        self.metric = record.metric
        self.mode = record.mode
        self.sign = 1.0 if record.mode == "min" else -1.0  # value * sign: smaller is better
        params = record.settings.get("scheduler_params") or {}
        attr = params.get("resource_attr") if isinstance(params, dict) else None
        self.resource_attr: str | None = attr if isinstance(attr, str) else None
        self.parameter_names: list[str] = list(record.space) if isinstance(record.space, dict) else []
        #: Bumped by every change; pages poll it to know when to redraw.
        self.version = 0
        self.last_seq = -1
        self.last_time = 0.0  # latest time in the log read so far (seconds since the start)
        self.log_complete = False  # the reader has caught up with the log at least once
        self.trials_complete = False  # every trial row has been read once
        self.expected_trials: int | None = None  # trial rows in the store when reading began
        self.decision_rungs: set[float] = set()
        # -- trials, indexed by trial id
        self.t_status = _Column(np.int8, -1)
        self.t_row_value = _Column(np.float64, np.nan)
        self.t_log_value = _Column(np.float64, np.nan)
        self.t_created = _Column(np.float64, np.nan)
        self.t_started = _Column(np.float64, np.nan)
        self.t_ended = _Column(np.float64, np.nan)
        self.t_run_time = _Column(np.float64, 0.0)
        self.t_reports = _Column(np.int32, 0)
        self.t_stop_rung = _Column(np.float64, np.nan)
        self.configs: dict[int, dict[str, Any]] = {}
        self.texts: dict[int, dict[str, Any]] = {}  # end_reason, error, traceback, last_metrics
        # -- reports, in log order
        self.r_trial = _Column(np.int32, -1)
        self.r_step = _Column(np.int32, 0)
        self.r_time = _Column(np.float64, np.nan)
        self.r_value = _Column(np.float64, np.nan)
        self.r_resource = _Column(np.float64, np.nan)
        self.r_action = _Column(np.int8, 0)
        self.r_seq = _Column(np.int64, -1)
        self.extra: dict[str, _Column] = {}
        self.dropped_metrics: set[str] = set()
        self.decisions: dict[int, tuple[str | None, dict[str, Any]]] = {}  # report index -> reason, details
        # -- segments: a trial's time on a worker
        self.s_trial = _Column(np.int32, -1)
        self.s_start = _Column(np.float64, np.nan)
        self.s_end = _Column(np.float64, np.nan)
        self.s_status = _Column(np.int8, -1)
        self.open_segment: dict[int, int] = {}
        self.events: dict[int, list[tuple[int, str, float, dict[str, Any]]]] = {}

    # -- feeding -----------------------------------------------------------------------------
    def take_record(self, record: ExperimentRecord) -> None:
        """The experiment's own row (status, elapsed, stop flag) as read again."""
        with self.lock:
            if record != self.record:
                self.record = record
                self.version += 1

    def take_trials(self, rows: Iterable[TrialRecord]) -> None:
        """Trial rows: the authority for status, timings, reasons and tracebacks. Built into
        arrays first and stored in one go, so the lock is held only for the assignment."""
        rows = list(rows)
        if not rows:
            with self.lock:
                self.version += 1
            return

        def column(values: Iterable[Any], dtype: Any = np.float64) -> np.ndarray:
            return np.fromiter((np.nan if v is None else v for v in values), dtype=dtype, count=len(rows))

        ids = np.fromiter((row.trial_id for row in rows), dtype=np.int64, count=len(rows))
        fields = [
            (self.t_status, np.fromiter((STATUS_CODE.get(row.status, -1) for row in rows), np.int8, len(rows))),
            (self.t_row_value, column(row.metric_value for row in rows)),
            (self.t_created, column(row.created_at for row in rows)),
            (self.t_started, column(row.started_at for row in rows)),
            (self.t_ended, column(row.ended_at for row in rows)),
            (self.t_run_time, column((row.run_time or 0.0) for row in rows)),
            (self.t_reports, np.fromiter(((row.n_reports or 0) for row in rows), np.int32, len(rows))),
        ]
        configs = {row.trial_id: row.config for row in rows}
        texts = {row.trial_id: _texts(row) for row in rows}
        size = int(ids.max()) + 1
        with self.lock:
            for target in (self.t_status, self.t_row_value, self.t_log_value, self.t_created, self.t_started,
                           self.t_ended, self.t_run_time, self.t_reports, self.t_stop_rung):
                target.reserve(size)
            for target, values in fields:
                target.data[ids] = values
            self.configs.update(configs)
            for tid, text in texts.items():
                if text:
                    self.texts[tid] = text
                else:
                    self.texts.pop(tid, None)
            self.version += 1

    def _take_row(self, row: TrialRecord) -> None:
        tid = row.trial_id
        for column in (self.t_status, self.t_row_value, self.t_log_value, self.t_created, self.t_started,
                       self.t_ended, self.t_run_time, self.t_reports, self.t_stop_rung):
            column.reserve(tid + 1)
        self.t_status.data[tid] = STATUS_CODE.get(row.status, -1)
        self.t_row_value.data[tid] = np.nan if row.metric_value is None else row.metric_value
        self.t_created.data[tid] = row.created_at
        self.t_started.data[tid] = np.nan if row.started_at is None else row.started_at
        self.t_ended.data[tid] = np.nan if row.ended_at is None else row.ended_at
        self.t_run_time.data[tid] = row.run_time or 0.0
        self.t_reports.data[tid] = row.n_reports or 0
        self.configs[tid] = row.config
        texts = _texts(row)
        if texts:
            self.texts[tid] = texts
        else:
            self.texts.pop(tid, None)

    def take_log(self, page: LogSlice) -> None:
        """A slice of the log after :attr:`last_seq`, with its trial rows."""
        with self.lock:
            for row in page.trials:
                self._take_row(row)
            for entry in page.entries:
                if entry.seq <= self.last_seq:
                    continue  # already read
                self.last_time = max(self.last_time, entry.time)
                if isinstance(entry, ReportRecord):
                    self._take_report(entry)
                else:
                    self._take_event(entry)
            self.last_seq = max(self.last_seq, page.last_seq)
            self.version += 1

    def _take_report(self, report: ReportRecord) -> None:
        index = self.r_trial.size
        for column in (self.r_trial, self.r_step, self.r_time, self.r_value, self.r_resource, self.r_action,
                       self.r_seq):
            column.reserve(index + 1)
        self.r_trial.data[index] = report.trial_id
        self.r_step.data[index] = report.step
        self.r_time.data[index] = report.time
        self.r_seq.data[index] = report.seq
        value = _number(report.metrics.get(self.metric))
        self.r_value.data[index] = value
        resource = _number(report.metrics.get(self.resource_attr)) if self.resource_attr else math.nan
        self.r_resource.data[index] = report.step if math.isnan(resource) else resource
        self.r_action.data[index] = ACTION_CODE.get(report.action, 0)
        for key, raw in report.metrics.items():
            if key == self.metric:
                continue
            number = _number(raw)
            if math.isnan(number) and not isinstance(raw, float):
                continue  # not a number: not kept in columns
            found = self.extra.get(key)
            if found is None:
                if len(self.extra) >= MAX_EXTRA_METRICS:
                    self.dropped_metrics.add(key)
                    continue
                found = self.extra[key] = _Column(np.float64, np.nan)
            column = found
            column.reserve(index + 1)
            column.data[index] = number
        if report.reason or report.details:
            self.decisions[index] = (report.reason, dict(report.details))
        rung = report.details.get("rung") if report.details else None
        if isinstance(rung, (int, float)) and not isinstance(rung, bool) and report.action is not None:
            self.decision_rungs.add(float(rung))  # the levels the scheduler decided at (as RunState)
            if report.action in ("pause", "stop") and report.trial_id < self.t_stop_rung.size:
                self.t_stop_rung.data[report.trial_id] = float(rung)
        if report.trial_id < self.t_log_value.size and not math.isnan(value):
            self.t_log_value.data[report.trial_id] = value

    def _take_event(self, event: EventRecord) -> None:
        tid = event.trial_id
        self.events.setdefault(tid, []).append((event.seq, event.kind, event.time, dict(event.payload)))
        if event.kind in ("start", "resume", "restart"):
            self._close_segment(tid, event.time, -1)
            index = self.s_trial.size
            for column in (self.s_trial, self.s_start, self.s_end, self.s_status):
                column.reserve(index + 1)
            self.s_trial.data[index] = tid
            self.s_start.data[index] = event.time
            self.open_segment[tid] = index
        elif event.kind == "end" and not event.payload.get("abandoned"):
            self._close_segment(tid, event.time, STATUS_CODE.get(str(event.payload.get("status")), -1))

    def _close_segment(self, tid: int, now: float, status: int) -> None:
        index = self.open_segment.pop(tid, None)
        if index is not None:
            self.s_end.data[index] = now
            self.s_status.data[index] = status

    # -- reading (callers hold the lock) -------------------------------------------------------
    @property
    def n_trials(self) -> int:
        return int(np.count_nonzero(self.t_status.view() >= 0))

    @property
    def n_reports(self) -> int:
        return self.r_trial.size

    def trial_ids(self) -> np.ndarray:
        return np.flatnonzero(self.t_status.view() >= 0)

    def values(self) -> np.ndarray:
        """Each trial's value: the row's for finished trials (their final one), else the
        latest report's (a running trial's row is older than its reports)."""
        status = self.t_status.view()
        row = self.t_row_value.view()
        log = self.t_log_value.view()
        live = (status == STATUS_CODE["running"]) | (status == STATUS_CODE["paused"]) | np.isnan(row)
        return np.where(live & ~np.isnan(log), log, row)

    def best_trial(self) -> int | None:
        values = self.values() * self.sign
        ok = (self.t_status.view() != STATUS_CODE["failed"]) & (self.t_status.view() >= 0) & np.isfinite(values)
        if not ok.any():
            return None
        candidates = np.flatnonzero(ok)
        return int(candidates[np.argmin(values[candidates])])


def _texts(row: TrialRecord) -> dict[str, Any]:
    """What of a trial row is kept as Python objects: reasons, failure, resource, last metrics."""
    texts: dict[str, Any] = {key: value for key, value in (("end_reason", row.end_reason), ("error", row.error),
                                                           ("traceback", row.traceback), ("resource", row.resource))
                             if value is not None}
    if row.last_metrics:
        texts["last_metrics"] = row.last_metrics
    return texts


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
