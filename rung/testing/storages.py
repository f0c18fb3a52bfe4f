"""Conformance checks for :class:`rung.storage.Storage` implementations.

A third-party store passes these if the tuner, ``rung.load``, the CLI and a dashboard can
use it as they use the built-in ones::

    from rung.testing.storages import check_storage
    check_storage(lambda: MyStorage(...))             # raises AssertionError naming the check

or, with pytest, one test per check::

    @pytest.mark.parametrize("name, check", STORAGE_CHECKS, ids=[n for n, _ in STORAGE_CHECKS])
    def test_my_storage(name, check):
        check(lambda: MyStorage(...), "my-prefix-")

``factory()`` is called once per check and may return a fresh store or a shared one: every
check names its experiments ``name_prefix`` + a random suffix, looks only at those, and
deletes them at the end, so a shared database (PostgreSQL) is left as it was found.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
import uuid
from typing import Any, Callable, Iterator

from ..storage import (
    EventRecord,
    ExperimentExists,
    ExperimentNotFound,
    ExperimentRecord,
    ExperimentSummary,
    LogSlice,
    Recorder,
    ReportRecord,
    Storage,
    StorageError,
    TrialRecord,
)
from ..trial._record import Trial, TrialStatus

StorageFactory = Callable[[], Storage]
Check = Callable[[StorageFactory, str], None]

__all__ = ["STORAGE_CHECKS", "StorageFactory", "check_storage"]


# -- helpers ---------------------------------------------------------------------------------
def same(a: Any, b: Any) -> bool:
    """Exact equality of plain data, types included, with NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return same(dataclasses.asdict(a), dataclasses.asdict(b))
    return bool(a == b)


def _assert_same(got: Any, expected: Any, what: str) -> None:
    assert same(got, expected), f"{what}: stored {expected!r}, read back {got!r}"


_SPACE = {"x": {"type": "uniform", "low": -1.0, "high": 1.0}}


@contextlib.contextmanager
def _experiment(storage: Storage, prefix: str, **fields: Any) -> Iterator[tuple[str, int]]:
    """A new experiment with a unique name; deleted afterwards (if still there)."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    values: dict[str, Any] = {"metric": "loss", "mode": "min", "seed": 1, "space": _SPACE, "settings": {}}
    values.update(fields)
    experiment_id = storage.create_experiment(name, **values)
    try:
        yield name, experiment_id
    finally:
        if storage.get_experiment(name) is not None:
            storage.delete_experiment(name)


@contextlib.contextmanager
def _opened(factory: StorageFactory) -> Iterator[Storage]:
    storage = factory()
    try:
        yield storage
    finally:
        storage.dispose()


def _trial(trial_id: int, status: str = "running", value: float | None = None, **fields: Any) -> Trial:
    now = time.time()
    trial = Trial(trial_id=trial_id, config={"x": trial_id / 10}, status=TrialStatus(status), created_at=now,
                  started_at=now, n_starts=1, metric_value=value,
                  last_metrics={} if value is None else {"loss": value})
    for key, item in fields.items():
        setattr(trial, key, item)
    return trial


def _expected_row(trial: Trial) -> TrialRecord:
    value = trial.metric_value
    return TrialRecord(
        trial_id=trial.trial_id, config=trial.config, status=trial.status.value, created_at=trial.created_at,
        started_at=trial.started_at, ended_at=trial.ended_at, run_time=trial.run_time, n_reports=trial.n_reports,
        n_starts=trial.n_starts, metric_value=value if value is not None and math.isfinite(value) else None,
        last_metrics=trial.last_metrics, resource=trial.resource, end_reason=trial.end_reason, error=trial.error,
        traceback=trial.traceback,
    )


def _write(recorder: Recorder, *items: Trial | ReportRecord | EventRecord) -> None:
    for item in items:
        if isinstance(item, Trial):
            recorder.save_trial(item)
        else:
            recorder.append(item)
    recorder.flush()


# -- experiments -----------------------------------------------------------------------------
def check_create_and_get(factory: StorageFactory, prefix: str) -> None:
    """create_experiment returns an id; get/require return the record with every field."""
    spec = {"name": "demo", "space": {"x": [1, 2]}}
    settings = {"searcher": "Random", "max_trials": 5, "warm_start": None}
    with _opened(factory) as storage:
        before = time.time()
        with _experiment(storage, prefix, seed=None, spec=spec, settings=settings, workdir="/tmp/w",
                         mode="max", metric="accuracy") as (name, experiment_id):
            assert isinstance(experiment_id, int), f"create_experiment returned {experiment_id!r}, not an int"
            record = storage.get_experiment(name)
            assert isinstance(record, ExperimentRecord), f"get_experiment returned {type(record).__name__}"
            assert record == storage.require_experiment(name), "get_experiment and require_experiment differ"
            expected = {"id": experiment_id, "name": name, "status": "created", "metric": "accuracy", "mode": "max",
                        "seed": None, "space": _SPACE, "spec": spec, "settings": settings, "workdir": "/tmp/w",
                        "elapsed": 0.0, "decision_time": 0.0, "stop_reason": None, "stop_requested": False,
                        "owner": None}
            for key, value in expected.items():
                _assert_same(getattr(record, key), value, f"ExperimentRecord.{key}")
            assert before - 1 <= record.created_at <= time.time() + 1, f"created_at {record.created_at}"
            assert record.updated_at >= record.created_at, "updated_at before created_at"
        with _experiment(storage, prefix, seed=7) as (name, _):
            record = storage.require_experiment(name)
            assert record.seed == 7 and record.spec is None and record.workdir is None, record


def check_missing_and_duplicate_names(factory: StorageFactory, prefix: str) -> None:
    """Unknown names: None / ExperimentNotFound (a KeyError too); a taken name: ExperimentExists."""
    with _opened(factory) as storage:
        missing = f"{prefix}missing-{uuid.uuid4().hex[:8]}"
        assert storage.get_experiment(missing) is None, "get_experiment of an unknown name is not None"
        for call in (storage.require_experiment, storage.delete_experiment, storage.request_stop):
            try:
                call(missing)
            except ExperimentNotFound as err:
                assert isinstance(err, KeyError) and missing in str(err), f"{call.__name__}: {err!r}"
            else:
                raise AssertionError(f"{call.__name__} of an unknown name did not raise ExperimentNotFound")
        with _experiment(storage, prefix) as (name, _):
            try:
                storage.create_experiment(name, metric="loss", mode="min", seed=None, space={}, settings={})
            except ExperimentExists:
                pass
            else:
                raise AssertionError("creating an experiment with a taken name did not raise ExperimentExists")


def check_list_experiments(factory: StorageFactory, prefix: str) -> None:
    """Summaries in id order with trial counts and the best non-failed value per mode."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (low_name, low_id), \
                _experiment(storage, prefix, mode="max") as (high_name, high_id), \
                _experiment(storage, prefix) as (empty_name, _):
            trials = [_trial(0, "completed", 0.5), _trial(1, "failed", 0.01), _trial(2, "stopped", 0.25),
                      _trial(3, "running"), _trial(4, "completed", math.nan), _trial(5, "paused", 0.75)]
            for experiment_id in (low_id, high_id):
                _write(storage.recorder(experiment_id), *trials)
            summaries = [s for s in storage.list_experiments() if s.name.startswith(prefix)]
            by_name = {s.name: s for s in summaries}
            assert all(isinstance(s, ExperimentSummary) for s in summaries), "list_experiments: not summaries"
            assert [s.id for s in summaries] == sorted(s.id for s in summaries), "list_experiments: not in id order"
            assert {low_name, high_name, empty_name} <= set(by_name), "list_experiments misses experiments"
            counts = {"completed": 2, "failed": 1, "stopped": 1, "running": 1, "paused": 1}
            low, high, empty = by_name[low_name], by_name[high_name], by_name[empty_name]
            assert low.trial_counts == counts, f"trial_counts {low.trial_counts}, expected {counts}"
            assert low.n_trials == 6 and empty.n_trials == 0 and empty.trial_counts == {}, "n_trials"
            assert low.best_value == 0.25, f"best (min, failed trials excluded): {low.best_value}"
            assert high.best_value == 0.75, f"best (max): {high.best_value}"
            assert empty.best_value is None, f"best of no trials: {empty.best_value}"
            record = storage.require_experiment(low_name)
            for key in ("id", "name", "status", "metric", "mode", "created_at", "updated_at", "elapsed",
                        "stop_reason", "owner"):
                _assert_same(getattr(low, key), getattr(record, key), f"ExperimentSummary.{key}")
            flagged = {name for name in storage.unreadable_experiments() if name.startswith(prefix)}
            assert flagged == set(), f"unreadable_experiments flags healthy experiments: {flagged}"


def check_delete(factory: StorageFactory, prefix: str) -> None:
    """delete_experiment removes the experiment and its log; the name can be used again."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (name, experiment_id):
            _write(storage.recorder(experiment_id), _trial(0),
                   EventRecord(0, "start", 0, 1.0, {}), ReportRecord(1, 0, 1, 2.0, {"loss": 1.0}))
            storage.delete_experiment(name)
            assert storage.get_experiment(name) is None, "the experiment is still there after delete"
            assert name not in {s.name for s in storage.list_experiments()}, "listed after delete"
            with _experiment(storage, prefix) as (other, _):  # the others are untouched
                again = storage.create_experiment(name, metric="loss", mode="min", seed=None, space={}, settings={})
                log = storage.read_log(again)
                assert log.trials == [] and log.entries == [] and log.last_seq == -1, \
                    f"a re-created experiment inherits the deleted one's log: {log}"
                assert storage.get_experiment(other) is not None, "delete removed another experiment"


def check_stop_and_claim(factory: StorageFactory, prefix: str) -> None:
    """Stop flag, claim (ownership, refusing a live owner), finish."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (name, experiment_id):
            assert storage.stop_requested(experiment_id) is False, "a new experiment has its stop flag set"
            storage.request_stop(name)
            assert storage.stop_requested(experiment_id) is True, "request_stop did not set the flag"
            assert storage.require_experiment(name).stop_requested is True, "record.stop_requested not set"
            storage.claim(experiment_id)
            record = storage.require_experiment(name)
            assert record.status == "running" and record.owner, f"after claim: {record.status}, {record.owner}"
            assert storage.stop_requested(experiment_id) is False, "claim did not clear the stop flag"
            try:
                storage.claim(experiment_id)  # this process is alive and owns it
            except StorageError as err:
                assert record.owner is not None and record.owner in str(err), f"message does not name the owner: {err}"
            else:
                raise AssertionError("claim of an experiment that a live process runs did not raise StorageError")
            storage.finish(experiment_id, status="completed", stop_reason="max_trials", elapsed=12.5,
                           decision_time=0.25)
            record = storage.require_experiment(name)
            got = (record.status, record.stop_reason, record.elapsed, record.decision_time, record.owner)
            assert got == ("completed", "max_trials", 12.5, 0.25, None), f"after finish: {got}"
            storage.claim(experiment_id)  # a finished experiment can be claimed again (resume)
            assert storage.require_experiment(name).status == "running", "claim after finish"


# -- the recorder ----------------------------------------------------------------------------
def check_flush_is_atomic(factory: StorageFactory, prefix: str) -> None:
    """Nothing buffered is visible before flush; everything is after, in one commit."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (_, experiment_id):
            recorder = storage.recorder(experiment_id)
            commits = recorder.n_commits
            assert not recorder.dirty, "a new recorder is dirty"
            recorder.flush()
            assert recorder.n_commits == commits, "flushing nothing counted a commit"
            recorder.save_trial(_trial(0))
            recorder.append(EventRecord(0, "start", 0, 1.0, {"resource": None}))
            recorder.save_trial(_trial(1))
            recorder.append(EventRecord(1, "start", 1, 1.5, {}))
            recorder.append(ReportRecord(2, 0, 1, 2.0, {"loss": 0.5}, "continue"))
            assert recorder.dirty, "a recorder holding writes is not dirty"
            log = storage.read_log(experiment_id)
            assert log.trials == [] and log.entries == [] and log.last_seq == -1, f"visible before flush: {log}"
            recorder.flush()
            assert not recorder.dirty and recorder.n_commits == commits + 1, \
                f"one flush, n_commits {commits} -> {recorder.n_commits}, dirty {recorder.dirty}"
            log = storage.read_log(experiment_id)
            assert [t.trial_id for t in log.trials] == [0, 1], f"trials after flush: {log.trials}"
            assert [e.seq for e in log.entries] == [0, 1, 2] and log.last_seq == 2, f"entries after flush: {log}"
            recorder.append(ReportRecord(3, 1, 1, 3.0, {"loss": 0.4}))
            recorder.close()  # close flushes
            assert storage.read_log(experiment_id).last_seq == 3, "close did not flush"


def check_failed_flush_stores_nothing(factory: StorageFactory, prefix: str) -> None:
    """A flush that fails (a sequence number taken twice) stores none of its writes."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (_, experiment_id):
            recorder = storage.recorder(experiment_id)
            _write(recorder, _trial(0), EventRecord(0, "start", 0, 1.0, {}))
            recorder.save_trial(_trial(1))
            recorder.append(ReportRecord(1, 0, 1, 2.0, {"loss": 0.5}))
            recorder.append(EventRecord(0, "start", 1, 2.0, {}))  # seq 0 is taken
            try:
                recorder.flush()
            except Exception:  # noqa: BLE001 - any error will do; what matters is what is stored
                pass
            else:
                raise AssertionError("a flush reusing a stored sequence number did not raise")
            log = storage.read_log(experiment_id)
            assert [t.trial_id for t in log.trials] == [0] and [e.seq for e in log.entries] == [0], \
                f"part of a failed flush was stored: {log}"


def check_trial_rows_insert_update_and_resume(factory: StorageFactory, prefix: str) -> None:
    """save_trial inserts then updates (last save before a flush wins); a second recorder
    told mark_known updates existing rows."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (_, experiment_id):
            recorder = storage.recorder(experiment_id)
            trial = _trial(0)
            recorder.save_trial(trial)
            trial.n_reports = 3
            recorder.save_trial(trial)
            recorder.flush()
            _assert_same(storage.read_log(experiment_id).trials, [_expected_row(trial)], "trial rows")
            trial.status, trial.metric_value, trial.ended_at = TrialStatus.PAUSED, 0.5, time.time()
            _write(recorder, trial)
            _assert_same(storage.read_log(experiment_id).trials, [_expected_row(trial)], "updated trial row")
            recorder.close()
            resumed = storage.recorder(experiment_id)
            resumed.mark_known([0])
            trial.status, trial.n_starts = TrialStatus.COMPLETED, 2
            new = _trial(1)
            _write(resumed, trial, new)
            _assert_same(storage.read_log(experiment_id).trials, [_expected_row(trial), _expected_row(new)],
                         "rows after resume (one updated, one inserted)")
            resumed.close()


# -- reading the log -------------------------------------------------------------------------
def check_read_log_order_and_after_seq(factory: StorageFactory, prefix: str) -> None:
    """Entries in seq order whatever the write order; after_seq filters; trials touched only."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (_, experiment_id):
            recorder = storage.recorder(experiment_id)
            entries: list[ReportRecord | EventRecord] = [
                EventRecord(0, "start", 0, 1.0, {"resource": 1.0}),
                EventRecord(1, "start", 1, 1.1, {}),
                ReportRecord(2, 1, 1, 1.2, {"loss": 0.9, "epoch": 1}, "continue"),
                ReportRecord(3, 0, 1, 1.3, {"loss": 0.8, "epoch": 1}, "pause", "rung 1", {"rung": 1, "value": 0.8}),
                EventRecord(4, "end", 0, 1.4, {"status": "paused"}),
                EventRecord(5, "resume", 0, 1.5, {}),
                EventRecord(6, "start", 2, 1.6, {}),
                ReportRecord(7, 0, 2, 1.7, {"loss": 0.7, "epoch": 2}),
                EventRecord(8, "restart", 2, 1.8, {}),
            ]
            for trial_id in (2, 0, 1):
                recorder.save_trial(_trial(trial_id))
            for entry in reversed(entries):  # the store orders by seq, not by arrival
                recorder.append(entry)
            recorder.flush()
            log = storage.read_log(experiment_id)
            assert isinstance(log, LogSlice), f"read_log returned {type(log).__name__}"
            _assert_same(log.entries, entries, "entries")
            assert log.reports == [e for e in entries if isinstance(e, ReportRecord)], "LogSlice.reports"
            assert log.events == [e for e in entries if isinstance(e, EventRecord)], "LogSlice.events"
            assert [t.trial_id for t in log.trials] == [0, 1, 2], "trials not in trial id order"
            assert log.last_seq == 8, f"last_seq {log.last_seq}"
            assert storage.read_log(experiment_id, -1) == log, "after_seq=-1 is not the default"
            tail = storage.read_log(experiment_id, after_seq=4)
            assert [e.seq for e in tail.entries] == [5, 6, 7, 8], f"after_seq=4: {[e.seq for e in tail.entries]}"
            assert [t.trial_id for t in tail.trials] == [0, 2], f"after_seq=4 trials: {tail.trials}"
            one = storage.read_log(experiment_id, after_seq=1)
            assert [t.trial_id for t in one.trials] == [0, 1, 2] and one.entries[0].seq == 2, "after_seq=1"
            for after in (8, 20):
                nothing = storage.read_log(experiment_id, after_seq=after)
                assert nothing.entries == [] and nothing.trials == [] and nothing.last_seq == after, \
                    f"after_seq={after}: {nothing}"


def check_incremental_reads(factory: StorageFactory, prefix: str) -> None:
    """Write, read, write more: reading after last_seq gives exactly the new entries and the
    current rows of the trials they touch."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (_, experiment_id):
            empty = storage.read_log(experiment_id)
            assert empty.entries == [] and empty.trials == [] and empty.last_seq == -1, f"empty log: {empty}"
            recorder = storage.recorder(experiment_id)
            t0, t1, t2 = _trial(0), _trial(1), _trial(2)
            _write(recorder, t0, t1, EventRecord(0, "start", 0, 1.0, {}), EventRecord(1, "start", 1, 1.0, {}),
                   ReportRecord(2, 0, 1, 2.0, {"loss": 0.5}))
            first = storage.read_log(experiment_id, empty.last_seq)
            assert [e.seq for e in first.entries] == [0, 1, 2] and first.last_seq == 2, f"first read: {first}"
            t1.status, t1.metric_value, t1.n_reports = TrialStatus.COMPLETED, 0.25, 1
            _write(recorder, t1, t2, ReportRecord(3, 1, 1, 3.0, {"loss": 0.25}), EventRecord(4, "end", 1, 3.0, {}),
                   EventRecord(5, "start", 2, 3.5, {}))
            second = storage.read_log(experiment_id, first.last_seq)
            _assert_same(second.entries, [ReportRecord(3, 1, 1, 3.0, {"loss": 0.25}), EventRecord(4, "end", 1, 3.0, {}),
                                          EventRecord(5, "start", 2, 3.5, {})], "new entries")
            _assert_same(second.trials, [_expected_row(t1), _expected_row(t2)], "touched trials")
            assert second.last_seq == 5, f"last_seq {second.last_seq}"
            third = storage.read_log(experiment_id, second.last_seq)
            assert third.entries == [] and third.trials == [] and third.last_seq == 5, f"nothing new: {third}"
            whole = storage.read_log(experiment_id)
            assert [e.seq for e in whole.entries] == list(range(6)), "whole log after incremental writes"


def check_logs_are_separate(factory: StorageFactory, prefix: str) -> None:
    """Each experiment has its own sequence numbers, trial ids and log."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (_, a), _experiment(storage, prefix) as (_, b):
            _write(storage.recorder(a), _trial(0), EventRecord(0, "start", 0, 1.0, {"in": "a"}))
            _write(storage.recorder(b), _trial(0), EventRecord(0, "start", 0, 1.0, {"in": "b"}),
                   EventRecord(1, "end", 0, 2.0, {}))
            log_a, log_b = storage.read_log(a), storage.read_log(b)
            assert [e.payload for e in log_a.events] == [{"in": "a"}], f"log of a: {log_a}"
            assert len(log_b.entries) == 2 and log_b.last_seq == 1, f"log of b: {log_b}"


# -- values ----------------------------------------------------------------------------------
def check_values_round_trip_exactly(factory: StorageFactory, prefix: str) -> None:
    """What is written reads back equal: floats to the bit, NaN and infinities in metrics,
    unicode, nested and large JSON, None against {} and empty strings."""
    big = {"values": [i * 0.1 for i in range(20000)], "text": "x" * 200_000, "nested": {"a": [{"b": [1, 2.5]}]}}
    metrics = {"loss": 0.1 + 0.2, "nan": math.nan, "inf": math.inf, "-inf": -math.inf, "tiny": 5e-324,
               "huge": 1.7976931348623157e308, "int": 2**62, "neg": -3, "flag": True, "none": None, "λ": "naïve ✓"}
    space = {"λr": {"type": "loguniform", "low": 1e-5, "high": 0.1}, "名前": ["a", "b", "🚀"]}
    with _opened(factory) as storage:
        with _experiment(storage, prefix + "ünï-", space=space, settings=big, spec={"big": big},
                         workdir="/tmp/dir with spaces/ü") as (name, experiment_id):
            record = storage.require_experiment(name)
            _assert_same(record.space, space, "space")
            _assert_same(record.settings, big, "settings")
            _assert_same(record.spec, {"big": big}, "spec")
            assert record.workdir == "/tmp/dir with spaces/ü" and record.name == name, "workdir / name"
            trial = _trial(0, "failed", math.nan, config={"λr": 0.001, "名前": "🚀", "list": [1, [2, 3]]},
                           last_metrics=metrics, run_time=1.2345678901234567, n_reports=7, resource=81.0,
                           ended_at=time.time(), end_reason="metric 'loss' is NaN — ✗",
                           error="ValueError: bad ✗", traceback="Traceback (most recent call last):\n  ü\n" * 50)
            inf_trial = _trial(1, "completed", math.inf, resource=None, end_reason="")
            report = ReportRecord(0, 0, 7, 1234567890.123456, metrics, "stop", "Ünïcode reason", {"rung": 3, "v": [0.5]})
            bare = ReportRecord(1, 1, 1, 0.5, {"loss": 1.0})
            event = EventRecord(2, "end", 0, 1e9 + 0.125, {"status": "failed", "payload": big["nested"]})
            _write(storage.recorder(experiment_id), trial, inf_trial, report, bare, event)
            log = storage.read_log(experiment_id)
            _assert_same(log.trials, [_expected_row(trial), _expected_row(inf_trial)], "trial rows")
            assert log.trials[0].metric_value is None, "a NaN metric_value is stored as None"
            _assert_same(log.entries, [report, bare, event], "log entries")
            assert log.entries[1] == ReportRecord(1, 1, 1, 0.5, {"loss": 1.0}, None, None, {}), \
                "a report without decision reads back with action/reason None and details {}"
            assert all(dataclasses.is_dataclass(x) for x in [*log.trials, *log.entries]), "records are dataclasses"


def check_records_are_independent_copies(factory: StorageFactory, prefix: str) -> None:
    """Changing what a read returned changes nothing in the store."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix, settings={"a": [1]}) as (name, experiment_id):
            _write(storage.recorder(experiment_id), _trial(0), ReportRecord(0, 0, 1, 1.0, {"loss": 1.0}))
            record = storage.require_experiment(name)
            record.settings["a"].append(2)
            log = storage.read_log(experiment_id)
            log.trials[0].config["x"] = "changed"
            log.reports[0].metrics["loss"] = -1.0
            assert storage.require_experiment(name).settings == {"a": [1]}, "settings changed through a record"
            again = storage.read_log(experiment_id)
            assert again.trials[0].config == {"x": 0.0}, "config changed through a record"
            assert again.reports[0].metrics == {"loss": 1.0}, "metrics changed through a record"
            try:
                record.status = "changed"  # type: ignore[misc]
            except dataclasses.FrozenInstanceError:
                pass
            else:
                raise AssertionError("records are not frozen")


def _scripted_log(storage: Storage, experiment_id: int) -> None:
    """Trials of every status, ties, a NaN value and a running trial with reports newer than its row."""
    recorder = storage.recorder(experiment_id)
    now = time.time()
    rows = [
        _trial(0, "completed", 0.5, ended_at=now, n_reports=1),
        _trial(1, "completed", 0.25, ended_at=now, n_reports=1),
        _trial(2, "failed", None, ended_at=now, error="ValueError: x"),
        _trial(3, "stopped", 0.25, ended_at=now, n_reports=1),
        _trial(4, "paused", 0.75, n_reports=1),
        _trial(5, "completed", math.nan, ended_at=now, n_reports=1),
        _trial(6, "running", 0.9, n_reports=1),
    ]
    entries: list[ReportRecord | EventRecord] = []
    seq = 0
    for row in rows:
        entries.append(EventRecord(seq, "start", row.trial_id, 1.0 + seq, {}))
        seq += 1
        if row.metric_value is not None:
            entries.append(ReportRecord(seq, row.trial_id, 1, 1.0 + seq, {"loss": row.metric_value}, "continue"))
            seq += 1
        if row.status.value not in ("running", "paused"):
            entries.append(EventRecord(seq, "end", row.trial_id, 1.0 + seq, {"status": row.status.value}))
            seq += 1
    entries.append(ReportRecord(seq, 6, 2, 1.0 + seq, {"loss": 0.1}, "continue"))  # newer than trial 6's row
    _write(recorder, *rows, *entries)


def check_deferred_log_equals_read_log(factory: StorageFactory, prefix: str) -> None:
    """read_log_deferred: the trial rows and reports of read_log, the same last_seq, the
    latest entry time (0.0 for an empty log), and whole() equal to read_log."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (_, experiment_id):
            empty = storage.read_log_deferred(experiment_id)
            assert empty.trials == [] and empty.reports == [] and empty.last_seq == -1, "empty deferred log"
            assert empty.last_time == 0.0, f"last_time of an empty log: {empty.last_time!r}"
            _scripted_log(storage, experiment_id)
            log = storage.read_log(experiment_id)
            deferred = storage.read_log_deferred(experiment_id)
            _assert_same(deferred.trials, log.trials, "deferred trial rows")
            _assert_same(deferred.reports, log.reports, "deferred reports")
            assert deferred.last_seq == log.last_seq, f"deferred last_seq {deferred.last_seq} != {log.last_seq}"
            assert deferred.last_time == max(e.time for e in log.entries), f"deferred last_time {deferred.last_time}"
            _assert_same(deferred.outcomes.entries, log.reports, "outcomes() entries")
            whole = deferred.whole()
            _assert_same(whole.entries, log.entries, "whole() entries")
            _assert_same(whole.trials, log.trials, "whole() trials")
            assert deferred.whole() is whole, "whole() decodes once and keeps the result"


def check_best_trials_equal_the_whole_log(factory: StorageFactory, prefix: str) -> None:
    """read_best_trials: counts by status and latest time of the whole log, and exactly the
    rows and entries of the ``limit`` best finished trials plus every running one."""
    with _opened(factory) as storage:
        with _experiment(storage, prefix) as (_, experiment_id):
            _scripted_log(storage, experiment_id)
            log = storage.read_log(experiment_id)
            counts: dict[str, int] = {}
            for row in log.trials:
                counts[row.status] = counts.get(row.status, 0) + 1
            # ranked by value, ties to the lower id, failed, running and NaN-valued rows left out
            expected_ranked = {"min": [1, 3, 0, 4], "max": [4, 0, 1, 3]}
            for mode, ranking in expected_ranked.items():
                for limit in (1, 2, 3, 10):
                    best = storage.read_best_trials(experiment_id, mode, limit)
                    assert best.counts == counts, f"counts {best.counts} != {counts}"
                    assert best.last_time == max(e.time for e in log.entries), f"last_time {best.last_time}"
                    chosen = set(ranking[:limit]) | {6}
                    assert {row.trial_id for row in best.log.trials} == chosen, \
                        f"mode={mode} limit={limit}: trials {sorted(r.trial_id for r in best.log.trials)}, " \
                        f"expected {sorted(chosen)}"
                    _assert_same(best.log.trials, [r for r in log.trials if r.trial_id in chosen], "chosen rows")
                    _assert_same(best.log.entries, [e for e in log.entries if e.trial_id in chosen], "chosen entries")
            for bad in (0, -1, 1.5, True):
                try:
                    storage.read_best_trials(experiment_id, "min", bad)  # type: ignore[arg-type]
                except ValueError:
                    pass
                else:
                    raise AssertionError(f"read_best_trials accepted limit={bad!r}")


STORAGE_CHECKS: list[tuple[str, Check]] = [
    ("create_and_get", check_create_and_get),
    ("missing_and_duplicate_names", check_missing_and_duplicate_names),
    ("list_experiments", check_list_experiments),
    ("delete", check_delete),
    ("stop_and_claim", check_stop_and_claim),
    ("flush_is_atomic", check_flush_is_atomic),
    ("failed_flush_stores_nothing", check_failed_flush_stores_nothing),
    ("trial_rows_insert_update_and_resume", check_trial_rows_insert_update_and_resume),
    ("read_log_order_and_after_seq", check_read_log_order_and_after_seq),
    ("incremental_reads", check_incremental_reads),
    ("logs_are_separate", check_logs_are_separate),
    ("deferred_log_equals_read_log", check_deferred_log_equals_read_log),
    ("best_trials_equal_the_whole_log", check_best_trials_equal_the_whole_log),
    ("values_round_trip_exactly", check_values_round_trip_exactly),
    ("records_are_independent_copies", check_records_are_independent_copies),
]


def check_storage(factory: StorageFactory, *, name_prefix: str = "rung-check-") -> None:
    """Run every check against stores made by ``factory``; AssertionError names the first
    that fails."""
    for name, check in STORAGE_CHECKS:
        try:
            check(factory, name_prefix)
        except AssertionError as err:
            raise AssertionError(f"storage check {name!r} failed: {err}") from err
