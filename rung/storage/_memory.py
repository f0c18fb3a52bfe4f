"""A store in this process's memory: same contract and values as the SQL store, no files.

For tests, benchmarks and throwaway runs (``storage=":memory:"``). Rows are read back exactly as
the SQL store keeps them (JSON as text, through ``_codec.py``), so what reads back is the
same value for value, and no caller can change stored data through a returned record. A
flush only keeps snapshots (the tuner flushes after every report); they are encoded to rows
the first time something reads them.
Everything is lost when the process ends; it is not shared between processes.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import threading
import time
from collections import Counter
from typing import Any, Iterable

from .._objective import Objective
from ..trial._record import Trial
from . import _codec as codec
from ._base import Recorder, Storage, check_limit
from ._errors import ExperimentExists, StorageError
from ._owner import owner_alive, this_process
from ._records import EventRecord, ExperimentRecord, ExperimentSummary, LogEntry, LogSlice, ReportRecord, TrialRecord

_REPORT, _EVENT = "report", "event"


class _Experiment:
    """One experiment's rows: its own row, trial rows by id, log rows sorted by seq.

    Trial rows and log rows may still be snapshots (a ``Trial`` copy, a log record) until
    :meth:`trial_row` / :meth:`log_row` encode them.
    """

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.id = row["id"]
        self.trials: dict[int, dict[str, Any] | Trial] = {}
        self.seqs: list[int] = []
        self.log: list[tuple[str, dict[str, Any] | LogEntry]] = []  # parallel to seqs

    def trial_row(self, trial_id: int) -> dict[str, Any]:
        row = self.trials[trial_id]
        if isinstance(row, Trial):
            row = self.trials[trial_id] = {"trial_id": trial_id, **codec.trial_row(row)}
        return row

    def log_row(self, index: int) -> tuple[str, dict[str, Any]]:
        kind, row = self.log[index]
        if isinstance(row, ReportRecord):
            row = codec.report_row(self.id, row)
            self.log[index] = (kind, row)
        elif not isinstance(row, dict):
            row = codec.event_row(self.id, row)
            self.log[index] = (kind, row)
        return kind, row


class MemoryStorage(Storage):
    """Experiments held in a Python object; thread-safe, one process only."""

    def __init__(self) -> None:
        self.url = ":memory:"
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._experiments: dict[int, _Experiment] = {}
        self._by_name: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"MemoryStorage({len(self._experiments)} experiments)"

    def _get(self, experiment_id: int) -> _Experiment:
        experiment = self._experiments.get(experiment_id)
        if experiment is None:
            raise StorageError(f"no experiment with id {experiment_id} in {self.url}")
        return experiment

    # -- experiments -------------------------------------------------------------------------
    def create_experiment(
        self, name: str, *, metric: str, mode: str, seed: int | None, space: dict[str, Any],
        settings: dict[str, Any], spec: dict[str, Any] | None = None, workdir: str | None = None,
    ) -> int:
        now = time.time()
        with self._lock:
            if name in self._by_name:
                raise ExperimentExists(f"experiment {name!r} already exists in {self.url}")
            experiment_id = next(self._ids)
            self._experiments[experiment_id] = _Experiment({
                "id": experiment_id, "name": name, "status": "created", "metric": metric, "mode": mode,
                "seed": seed, "space": codec.dumps(space), "spec": None if spec is None else codec.dumps(spec),
                "settings": codec.dumps(settings), "workdir": workdir, "created_at": now, "updated_at": now,
                "elapsed": 0.0, "decision_time": 0.0, "stop_reason": None, "stop_requested": False, "owner": None,
            })
            self._by_name[name] = experiment_id
            return experiment_id

    def get_experiment(self, name: str) -> ExperimentRecord | None:
        with self._lock:
            experiment_id = self._by_name.get(name)
            if experiment_id is None:
                return None
            return codec.experiment_record(self._experiments[experiment_id].row)

    def list_experiments(self) -> list[ExperimentSummary]:
        with self._lock:
            summaries = []
            for experiment_id in sorted(self._experiments):
                experiment = self._experiments[experiment_id]
                counts: dict[str, int] = {}
                values = []
                for trial in map(experiment.trial_row, list(experiment.trials)):
                    counts[trial["status"]] = counts.get(trial["status"], 0) + 1
                    if trial["status"] != "failed" and trial["metric_value"] is not None:
                        values.append(trial["metric_value"])
                row = experiment.row
                best = Objective(row["metric"], row["mode"]).best(values)
                summaries.append(codec.experiment_summary(row, counts, best))
            return summaries

    def delete_experiment(self, name: str) -> None:
        with self._lock:
            experiment = self.require_experiment(name)
            del self._experiments[experiment.id]
            del self._by_name[name]

    # -- running -----------------------------------------------------------------------------
    def request_stop(self, name: str) -> None:
        with self._lock:
            experiment = self.require_experiment(name)
            self._experiments[experiment.id].row.update(stop_requested=True, updated_at=time.time())

    def stop_requested(self, experiment_id: int) -> bool:
        with self._lock:
            experiment = self._experiments.get(experiment_id)
            return bool(experiment is not None and experiment.row["stop_requested"])

    def claim(self, experiment_id: int) -> None:
        with self._lock:
            row = self._get(experiment_id).row
            if row["status"] == "running" and row["owner"] and owner_alive(row["owner"]):
                raise StorageError(f"experiment {row['name']!r} is being run by process {row['owner']}")
            row.update(status="running", owner=this_process(), stop_requested=False, updated_at=time.time())

    def finish(self, experiment_id: int, *, status: str, stop_reason: str, elapsed: float, decision_time: float) -> None:
        with self._lock:
            experiment = self._experiments.get(experiment_id)
            if experiment is not None:
                experiment.row.update(status=status, stop_reason=stop_reason, elapsed=elapsed,
                                      decision_time=decision_time, owner=None, updated_at=time.time())

    # -- the log -----------------------------------------------------------------------------
    def read_log(self, experiment_id: int, after_seq: int = -1) -> LogSlice:
        with self._lock:
            experiment = self._experiments.get(experiment_id)
            if experiment is None:
                return LogSlice(trials=[], entries=[], last_seq=after_seq)
            start = bisect.bisect_right(experiment.seqs, after_seq)
            entries: list[LogEntry] = []
            for index in range(start, len(experiment.log)):
                kind, row = experiment.log_row(index)
                entries.append(codec.report_record(row) if kind == _REPORT else codec.event_record(row))
            if after_seq < 0:
                ids = sorted(experiment.trials)
            else:
                ids = sorted({entry.trial_id for entry in entries} & experiment.trials.keys())
            trials = [codec.trial_record(experiment.trial_row(trial_id)) for trial_id in ids]
        return LogSlice(trials=trials, entries=entries, last_seq=entries[-1].seq if entries else after_seq)

    def read_log_page(self, experiment_id: int, after_seq: int = -1, limit: int = 10_000) -> LogSlice:
        check_limit(limit)
        with self._lock:
            experiment = self._experiments.get(experiment_id)
            if experiment is None:
                return LogSlice(trials=[], entries=[], last_seq=after_seq)
            start = bisect.bisect_right(experiment.seqs, after_seq)
            entries: list[LogEntry] = []
            for index in range(start, min(start + limit, len(experiment.log))):
                kind, row = experiment.log_row(index)
                entries.append(codec.report_record(row) if kind == _REPORT else codec.event_record(row))
            ids = sorted({entry.trial_id for entry in entries} & experiment.trials.keys())
            trials = [codec.trial_record(experiment.trial_row(trial_id)) for trial_id in ids]
        return LogSlice(trials=trials, entries=entries, last_seq=entries[-1].seq if entries else after_seq)

    def read_trials(self, experiment_id: int, after_trial: int = -1, limit: int | None = None) -> list[TrialRecord]:
        if limit is not None:
            check_limit(limit)
        with self._lock:
            experiment = self._experiments.get(experiment_id)
            if experiment is None:
                return []
            ids = [trial_id for trial_id in sorted(experiment.trials) if trial_id > after_trial]
            return [codec.trial_record(experiment.trial_row(trial_id)) for trial_id in ids[:limit]]

    def recorder(self, experiment_id: int) -> MemoryRecorder:
        return MemoryRecorder(self, experiment_id)

    def _commit(self, experiment_id: int, new_trials: dict[int, Trial], trial_updates: dict[int, Trial],
                log: list[tuple[int, str, LogEntry]]) -> None:
        """Apply one recorder flush, all or nothing (checked first, as a database would)."""
        with self._lock:
            experiment = self._get(experiment_id)
            taken = [trial_id for trial_id in new_trials if trial_id in experiment.trials]
            if taken:
                raise StorageError(f"trial rows {taken} of experiment {experiment_id} already exist")
            counts = Counter(seq for seq, _, _ in log)
            duplicated = sorted(seq for seq, n in counts.items() if n > 1 or _contains(experiment.seqs, seq))
            if duplicated:
                raise StorageError(f"log entries {duplicated} of experiment {experiment_id} already exist")
            experiment.trials.update(new_trials)
            for trial_id, snapshot in trial_updates.items():
                if trial_id in experiment.trials:  # like an SQL UPDATE of a missing row: nothing
                    experiment.trials[trial_id] = snapshot
            for seq, kind, entry in sorted(log, key=lambda item: item[0]):
                index = bisect.bisect_right(experiment.seqs, seq)
                experiment.seqs.insert(index, seq)
                experiment.log.insert(index, (kind, entry))


def _contains(sorted_values: list[int], value: int) -> bool:
    """Whether ``value`` is in the sorted list (binary search: a flush must not cost time proportional to the whole log)."""
    index = bisect.bisect_left(sorted_values, value)
    return index < len(sorted_values) and sorted_values[index] == value


class MemoryRecorder(Recorder):
    """Buffers one experiment's writes for a :class:`MemoryStorage`."""

    def __init__(self, storage: MemoryStorage, experiment_id: int) -> None:
        self._storage = storage
        self.experiment_id = experiment_id
        self._new_trials: dict[int, Trial] = {}
        self._trial_updates: dict[int, Trial] = {}
        self._log: list[tuple[int, str, LogEntry]] = []
        self._known_trials: set[int] = set()
        self.n_commits = 0

    def append(self, entry: LogEntry) -> None:
        # Snapshots of the mutable parts: the caller may change its dicts after this call.
        # (Built directly: dataclasses.replace costs several times more, once per report.)
        if isinstance(entry, ReportRecord):
            snapshot: LogEntry = ReportRecord(entry.seq, entry.trial_id, entry.step, entry.time, dict(entry.metrics),
                                              entry.action, entry.reason, dict(entry.details))
            self._log.append((entry.seq, _REPORT, snapshot))
        else:
            snapshot = EventRecord(entry.seq, entry.kind, entry.trial_id, entry.time, dict(entry.payload))
            self._log.append((entry.seq, _EVENT, snapshot))

    def save_trial(self, trial: Trial) -> None:
        row = copy.copy(trial)
        row.config, row.last_metrics = dict(trial.config), dict(trial.last_metrics)
        if trial.trial_id in self._known_trials:
            self._trial_updates[trial.trial_id] = row
        else:
            self._new_trials[trial.trial_id] = row

    def mark_known(self, trial_ids: Iterable[int]) -> None:
        self._known_trials.update(trial_ids)

    @property
    def dirty(self) -> bool:
        return bool(self._new_trials or self._trial_updates or self._log)

    def flush(self) -> None:
        if not self.dirty:
            return
        self._storage._commit(self.experiment_id, self._new_trials, self._trial_updates, self._log)
        self._known_trials.update(self._new_trials)
        self._new_trials = {}
        self._trial_updates = {}
        self._log = []
        self.n_commits += 1

    def close(self) -> None:
        self.flush()
