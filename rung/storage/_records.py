"""What a store hands back: frozen, typed records instead of database rows.

Every :class:`~rung.storage.Storage` returns these, so readers (the tuner on resume,
``rung.load``, the CLI, a dashboard) use attributes and never depend on column names.
JSON-valued fields (``space``, ``config``, ``metrics``...) come back as plain Python data,
freshly decoded for each read: changing them changes nothing in the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Union


@dataclass(frozen=True)
class ExperimentRecord:
    """One experiment as stored: what it optimizes, how it was set up, where it stands."""

    id: int
    name: str
    status: str
    metric: str
    mode: str
    seed: int | None
    space: dict[str, Any]
    spec: dict[str, Any] | None
    settings: dict[str, Any]
    workdir: str | None
    created_at: float
    updated_at: float
    elapsed: float
    decision_time: float
    stop_reason: str | None
    stop_requested: bool
    owner: str | None


@dataclass(frozen=True)
class ExperimentSummary:
    """An experiment for listings: its record's headline fields plus trial counts and the
    best value, computed by aggregate queries without reading any trial or report."""

    id: int
    name: str
    status: str
    metric: str
    mode: str
    created_at: float
    updated_at: float
    elapsed: float
    stop_reason: str | None
    owner: str | None
    trial_counts: dict[str, int]
    best_value: float | None

    @property
    def n_trials(self) -> int:
        return sum(self.trial_counts.values())


@dataclass(frozen=True)
class TrialRecord:
    """A trial's row as last saved (at its start, end and resume).

    ``metric_value`` is None when the value was not finite: the rows hold only finite
    values, the reports keep what was reported.
    """

    trial_id: int
    config: dict[str, Any]
    status: str
    created_at: float
    started_at: float | None
    ended_at: float | None
    run_time: float
    n_reports: int
    n_starts: int
    metric_value: float | None
    last_metrics: dict[str, Any]
    resource: float | None
    end_reason: str | None
    error: str | None
    traceback: str | None


@dataclass(frozen=True)
class ReportRecord:
    """One accepted report and the decision it caused (``action`` None: no decision asked)."""

    seq: int
    trial_id: int
    step: int
    time: float
    metrics: dict[str, Any]
    action: str | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


EVENT_KINDS = ("start", "resume", "restart", "end")


@dataclass(frozen=True)
class EventRecord:
    """A trial started, resumed, restarted (after a crash) or ended, at log position ``seq``."""

    seq: int
    kind: str
    trial_id: int
    time: float
    payload: dict[str, Any]


LogEntry = Union[ReportRecord, EventRecord]


@dataclass(frozen=True)
class LogSlice:
    """Part of an experiment's log: the entries after a sequence number, and the trials
    they touch (every trial when read from the start).

    ``last_seq`` is what to pass as ``after_seq`` next time to get only newer entries.
    """

    trials: list[TrialRecord]
    entries: list[LogEntry]
    last_seq: int

    @property
    def reports(self) -> list[ReportRecord]:
        return [entry for entry in self.entries if isinstance(entry, ReportRecord)]

    @property
    def events(self) -> list[EventRecord]:
        return [entry for entry in self.entries if isinstance(entry, EventRecord)]


class DeferredLog:
    """An experiment's whole log as read in one snapshot, with the trial events decoded only
    when :meth:`whole` is first called.

    A result's trials and reports need the trial rows and the reports only; the events (two
    or more per trial) matter for the incumbent's trajectory and the time on workers, which
    not every reader looks at. ``last_seq`` and ``last_time`` (the latest time of any entry,
    events included, and at least 0.0) are those of the whole log.
    """

    def __init__(self, trials: list[TrialRecord], reports: list[ReportRecord], last_seq: int, last_time: float,
                 events: Callable[[], list[EventRecord]]) -> None:
        self.trials, self.reports, self.last_seq, self.last_time = trials, reports, last_seq, last_time
        self._events: Callable[[], list[EventRecord]] | None = events
        self._whole: LogSlice | None = None

    @property
    def outcomes(self) -> LogSlice:
        """The trial rows and the reports, without the events: a slice from which
        ``RunState`` rebuilds every trial and report exactly (events change only the
        incumbent's trajectory and the counts of closed trials)."""
        return LogSlice(trials=self.trials, entries=list(self.reports), last_seq=self.last_seq)

    def whole(self) -> LogSlice:
        """The whole log, events included (decoded on the first call, then kept)."""
        if self._whole is None:
            assert self._events is not None
            entries: list[LogEntry] = [*self.reports, *self._events()]
            entries.sort(key=lambda entry: entry.seq)  # two sorted runs: one merge
            self._whole = LogSlice(trials=self.trials, entries=entries, last_seq=self.last_seq)
            self._events = None  # the raw rows can go
        return self._whole


@dataclass(frozen=True)
class BestTrials:
    """What ``rung show`` needs of a large experiment, read in one snapshot without the whole
    log: trial counts by status, the latest time in the log, and the rows and log entries of
    the trials that can be among the ``limit`` best.

    Those are every trial whose row says ``running`` and the ``limit`` best of the other
    rows that did not fail and have a value (best first, ties to the lower trial id). Rows
    are saved with each start and end of a trial, so only a running trial can have reports
    newer than its row; every other trial's row value is the value its reports give. The
    ``limit`` best trials of the experiment are therefore all in ``log``.
    """

    counts: dict[str, int]
    last_time: float
    log: LogSlice
