"""The storage contract: what the tuner, ``rung.load``, the CLI and a dashboard may ask of a
store, whatever holds the data (SQL database, memory, something third-party).

A store keeps experiments and, per experiment, trial rows and one ordered log of reports
and events sharing a sequence number. Only one process writes an experiment's log at a
time (it :meth:`Storage.claim`\\ s it), through a :class:`Recorder` that buffers writes and
commits them together, so that readers see all of a flush or none of it. Readers follow a
running experiment with :meth:`Storage.read_log` and ``after_seq``.

``rung.testing.storages.check_storage`` checks an implementation against this contract.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterable

from ..trial._record import Trial
from ._errors import CorruptRecord, ExperimentNotFound
from ._records import (
    BestTrials,
    DeferredLog,
    EventRecord,
    ExperimentRecord,
    ExperimentSummary,
    LogEntry,
    LogSlice,
    ReportRecord,
    TrialRecord,
)


class Storage(ABC):
    """Experiments and their logs. Construct an implementation (``SQLStorage(url)``,
    ``MemoryStorage()``) or let :func:`rung.storage.open_storage` pick one."""

    url: str  #: where the store is, for messages (passwords hidden)

    # -- experiments -------------------------------------------------------------------------
    @abstractmethod
    def create_experiment(
        self, name: str, *, metric: str, mode: str, seed: int | None, space: dict[str, Any],
        settings: dict[str, Any], spec: dict[str, Any] | None = None, workdir: str | None = None,
    ) -> int:
        """Add an experiment (status ``"created"``) and return its id; ExperimentExists if
        ``name`` is taken."""

    @abstractmethod
    def get_experiment(self, name: str) -> ExperimentRecord | None:
        """The experiment called ``name``, or None."""

    def require_experiment(self, name: str) -> ExperimentRecord:
        """The experiment called ``name``; ExperimentNotFound (naming the store) if none."""
        record = self.get_experiment(name)
        if record is None:
            raise ExperimentNotFound(f"no experiment named {name!r} in {self.url}")
        return record

    @abstractmethod
    def list_experiments(self) -> list[ExperimentSummary]:
        """Every experiment, in id order, with trial counts by status and the best value.

        Computed without loading trials or reports (aggregates), so listing a store of
        large experiments stays cheap. The best value is the best ``metric_value`` of the
        trial rows that did not fail.
        """

    def unreadable_experiments(self) -> dict[str, str]:
        """The experiments whose own record cannot be decoded (a corrupt row), name -> why.

        Unlike :meth:`list_experiments` this decodes every experiment's record, so it costs
        more; listings call it to flag damaged experiments instead of failing on them.
        """
        problems = {}
        for summary in self.list_experiments():
            try:
                self.get_experiment(summary.name)
            except CorruptRecord as err:
                problems[summary.name] = str(err)
        return problems

    @abstractmethod
    def delete_experiment(self, name: str) -> None:
        """Remove the experiment, its trials and its log; ExperimentNotFound if none."""

    # -- running -----------------------------------------------------------------------------
    @abstractmethod
    def request_stop(self, name: str) -> None:
        """Set the experiment's stop flag, which the process running it polls."""

    @abstractmethod
    def stop_requested(self, experiment_id: int) -> bool:
        """Whether a stop was requested since the experiment was last claimed."""

    @abstractmethod
    def claim(self, experiment_id: int) -> None:
        """Mark the experiment as running and owned by this process (``host:pid``), clearing
        its stop flag; StorageError if a live process owns it already."""

    @abstractmethod
    def finish(self, experiment_id: int, *, status: str, stop_reason: str, elapsed: float,
               decision_time: float) -> None:
        """Record how the run ended and release ownership."""

    # -- the log -----------------------------------------------------------------------------
    @abstractmethod
    def read_log(self, experiment_id: int, after_seq: int = -1) -> LogSlice:
        """The log entries with ``seq > after_seq`` in seq order, with trial rows: every row
        when ``after_seq < 0``, else the current rows of the trials those entries name (in
        trial id order). ``last_seq`` is the highest seq stored (``after_seq`` if nothing is
        newer). The slice is one consistent snapshot: every entry's trial is in it."""

    def read_log_page(self, experiment_id: int, after_seq: int = -1, limit: int = 10_000) -> LogSlice:
        """The first ``limit`` entries with ``seq > after_seq`` (seq order) and the rows of
        the trials they name; ``last_seq`` is the last of them (``after_seq`` if none). A
        reader of a large log (the dashboard) pages through it in bounded memory by passing
        ``last_seq`` back. This default reads the rest of the log and cuts it: right for any
        store, cheap only where a store overrides it (the SQL and memory stores do)."""
        check_limit(limit)
        whole = self.read_log(experiment_id, after_seq)
        entries = whole.entries[:limit]
        touched = {entry.trial_id for entry in entries}
        return LogSlice(trials=[trial for trial in whole.trials if trial.trial_id in touched], entries=entries,
                        last_seq=entries[-1].seq if entries else after_seq)

    def read_trials(self, experiment_id: int, after_trial: int = -1, limit: int | None = None) -> list[TrialRecord]:
        """The experiment's trial rows with ``trial_id > after_trial`` in trial id order (at
        most ``limit``), without its log: a reader's first overview of a large experiment,
        in pages. This default takes them from :meth:`read_log`."""
        if limit is not None:
            check_limit(limit)
        rows = [row for row in self.read_log(experiment_id).trials if row.trial_id > after_trial]
        return rows if limit is None else rows[:limit]

    def read_log_deferred(self, experiment_id: int) -> DeferredLog:
        """The whole log (as :meth:`read_log` from the start), its events decoded only when
        asked for: what ``rung.load`` reads. This default reads the log at once; the SQL
        store fetches the event rows in the same snapshot and decodes them on demand."""
        log = self.read_log(experiment_id)
        reports = [entry for entry in log.entries if isinstance(entry, ReportRecord)]
        events = [entry for entry in log.entries if isinstance(entry, EventRecord)]
        last_time = max([0.0, *(entry.time for entry in log.entries)])
        return DeferredLog(log.trials, reports, log.last_seq, last_time, lambda: events)

    def read_best_trials(self, experiment_id: int, mode: str, limit: int) -> BestTrials:
        """Counts by status, the latest time in the log, and the rows and entries of the
        trials that can be among the ``limit`` best (see :class:`BestTrials`), in one
        snapshot. ``mode`` is the experiment's (``"min"`` or ``"max"``). This default
        takes them from :meth:`read_log`; the SQL store ranks the rows in the database and
        reads only the chosen trials' entries."""
        check_limit(limit)
        log = self.read_log(experiment_id)
        counts: dict[str, int] = {}
        for row in log.trials:
            counts[row.status] = counts.get(row.status, 0) + 1
        chosen = best_row_ids(log.trials, mode, limit) | {row.trial_id for row in log.trials if row.status == "running"}
        part = LogSlice(trials=[row for row in log.trials if row.trial_id in chosen],
                        entries=[entry for entry in log.entries if entry.trial_id in chosen], last_seq=log.last_seq)
        return BestTrials(counts, max([0.0, *(entry.time for entry in log.entries)]), part)

    @abstractmethod
    def recorder(self, experiment_id: int) -> Recorder:
        """A buffered writer of the experiment's log, for the one process that claimed it."""

    def dispose(self) -> None:
        """Release connections (the store stays usable; it reconnects when asked)."""


def best_row_ids(rows: Iterable[TrialRecord], mode: str, limit: int) -> set[int]:
    """Ids of the ``limit`` best rows that neither failed nor are running and have a value
    (ties to the lower trial id): the ranked part of :class:`BestTrials`."""
    sign = 1.0 if mode == "min" else -1.0
    ranked = sorted((sign * row.metric_value, row.trial_id) for row in rows
                    if row.status not in ("failed", "running") and row.metric_value is not None)
    return {trial_id for _, trial_id in ranked[:limit]}


def check_limit(limit: int) -> None:
    """``limit`` of :meth:`Storage.read_log_page`: a positive integer."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got limit={limit!r}")


class Recorder(ABC):
    """Buffers one experiment's writes and commits them together.

    The caller allocates sequence numbers (it knows the log's order); the recorder only
    buffers and commits. Nothing buffered is visible to readers before :meth:`flush`, and
    everything of a flush becomes visible at once.
    """

    n_commits: int  #: flushes that wrote something

    @abstractmethod
    def append(self, entry: LogEntry) -> None:
        """Buffer one report or event."""

    @abstractmethod
    def save_trial(self, trial: Trial) -> None:
        """Buffer the trial's current row: inserted the first time, updated after (the last
        state saved before a flush wins)."""

    @abstractmethod
    def mark_known(self, trial_ids: Iterable[int]) -> None:
        """Trials whose rows are already stored (on resume): later saves update them."""

    @property
    @abstractmethod
    def dirty(self) -> bool:
        """Whether anything is buffered."""

    @abstractmethod
    def flush(self) -> None:
        """Commit everything buffered in one transaction (nothing if nothing is buffered).
        If it raises, nothing of it was stored."""

    @abstractmethod
    def close(self) -> None:
        """Flush, then release what the recorder holds."""
