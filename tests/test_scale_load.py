"""The fast paths for large experiments give what the whole, eager rebuild gives.

``rung.load`` rebuilds trials and reports from the rows and reports alone and replays the
events only when the trajectory or the log entries are asked for; ``rung show`` ranks the
rows in the database and rebuilds only the trials that can be among the best; the SQL
store decodes JSON columns in bulk and builds frames column by column. Each is compared
here with the straightforward computation on scripted logs that hold every kind of trial
(paused, stopped by a rung decision, failed, cut short and restarted, still running with
reports newer than its row, never reported), ties included, in every built-in store and in
a store that has only the contract's default methods.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import random
import uuid

import pandas as pd
import postgres
import pytest

import rung
from rung._objective import Objective
from rung.results._columns import END_FIELDS, end_fields, keep_ints
from rung.results._view import ranked_trials, view_of_best, view_of_result
from rung.space import Space
from rung.storage import EventRecord, MemoryStorage, ReportRecord, SQLStorage, Storage
from rung.storage import _codec as codec
from rung.storage import _schema as schema
from rung.storage._errors import CorruptRecord
from rung.trial._record import Report, Trial, TrialStatus
from rung.tuner._state import RunState

SPACE = {"x": rung.uniform(0.0, 1.0), "n": rung.randint(1, 9)}


class DefaultsOnly(Storage):
    """A store with only the contract's abstract methods (each handed to a MemoryStorage):
    every other method is the contract's default."""

    def __init__(self) -> None:
        self.inner = MemoryStorage()
        self.url = "defaults-only"

    def create_experiment(self, name, **fields):
        return self.inner.create_experiment(name, **fields)

    def get_experiment(self, name):
        return self.inner.get_experiment(name)

    def list_experiments(self):
        return self.inner.list_experiments()

    def delete_experiment(self, name):
        self.inner.delete_experiment(name)

    def request_stop(self, name):
        self.inner.request_stop(name)

    def stop_requested(self, experiment_id):
        return self.inner.stop_requested(experiment_id)

    def claim(self, experiment_id):
        self.inner.claim(experiment_id)

    def finish(self, experiment_id, **fields):
        self.inner.finish(experiment_id, **fields)

    def read_log(self, experiment_id, after_seq=-1):
        return self.inner.read_log(experiment_id, after_seq)

    def recorder(self, experiment_id):
        return self.inner.recorder(experiment_id)


@pytest.fixture(params=["sqlite", "memory", "postgresql", "defaults"])
def store(request, tmp_path):
    if request.param == "sqlite":
        made: Storage = SQLStorage(tmp_path / "s.db")
    elif request.param == "postgresql":
        if postgres.unreachable_reason():
            pytest.skip(postgres.unreachable_reason())
        made = SQLStorage(postgres.URL)
    elif request.param == "memory":
        made = MemoryStorage()
    else:
        made = DefaultsOnly()
    yield made
    made.dispose()


def scripted(store: Storage, n: int, seed: int, mode: str = "min") -> str:
    """An experiment of ``n`` trials with every kind of fate, written as the tuner writes
    (a row saved with every start and end, reports in between); values on a coarse grid
    so that ties occur. Returns its name."""
    name = f"scale-{uuid.uuid4().hex[:8]}"
    experiment_id = store.create_experiment(name, metric="loss", mode=mode, seed=seed,
                                            space=Space(SPACE).to_dict(), settings={})
    rng = random.Random(seed)
    recorder = store.recorder(experiment_id)
    seq, now = 0, 0.0

    def log(entry_type, *fields):
        nonlocal seq
        entry = entry_type(seq, *fields)
        seq += 1
        recorder.append(entry)

    for trial_id in range(n):
        config = {"x": rng.random()}
        if rng.random() < 0.7:
            config["n"] = rng.randint(1, 9)  # inactive in 30% of trials: an int column with gaps
        trial = Trial(trial_id=trial_id, config=config, created_at=now)
        fate = rng.choice(["completed", "stopped", "failed", "paused", "running", "restarted", "silent"])
        now += rng.random()
        trial.status, trial.started_at, trial.n_starts = TrialStatus.RUNNING, now, 1
        log(EventRecord, "start", trial_id, now, {"resource": None, "allow_new": True})
        recorder.save_trial(dataclasses.replace(trial))  # the row as it is now
        steps = 0 if fate == "silent" else rng.randint(1, 3)
        for step in range(1, steps + 1):
            now += rng.random()
            value = round(rng.random(), 1)  # ties
            trial.n_reports, trial.last_metrics, trial.metric_value = step, {"loss": value, "epoch": step}, value
            action, reason, details = "continue", None, {}
            if fate in ("stopped", "paused") and step == steps and rng.random() < 0.8:
                action = "stop" if fate == "stopped" else "pause"
                reason = f"loss={value} at rung epoch={step} is not in the top 1/3 of 6 trials there"
                details = {"rung": step, "value": value, "threshold": round(value - 0.05, 3)}
                trial.end_details = {"reason": reason, **details}
                trial.end_reason = reason
            log(ReportRecord, trial_id, step, now, dict(trial.last_metrics), action, reason, details)
        if fate == "running":
            continue  # the tuner died: the row still says running, older than the reports
        if fate == "restarted":
            log(EventRecord, "end", trial_id, now, {"status": "stopped", "interrupted": "max_wallclock"})
            trial.status = TrialStatus.STOPPED
            recorder.save_trial(dataclasses.replace(trial))  # the row as it is now
            now += 0.5
            log(EventRecord, "restart", trial_id, now, {"resource": None})
            trial.status, trial.n_starts = TrialStatus.RUNNING, 2
            recorder.save_trial(dataclasses.replace(trial))  # the row as it is now
            fate = "completed"
        now += 0.1
        trial.ended_at, trial.run_time = now, now - trial.started_at
        trial.status = TrialStatus(fate if fate != "silent" else "stopped")
        if fate == "failed":
            trial.error, trial.traceback = "ValueError: bad learning rate\nmore", "Traceback ..."
        log(EventRecord, "end", trial_id, now, {"status": trial.status.value})
        recorder.save_trial(dataclasses.replace(trial))  # the row as it is now
    recorder.close()
    store.finish(experiment_id, status="finished", stop_reason="max_trials", elapsed=now / 2, decision_time=0.5)
    return name


def eager(store: Storage, name: str) -> tuple[RunState, list]:
    """The state rebuilt from the whole log at once, and the log's entries."""
    experiment = store.require_experiment(name)
    log = store.read_log(experiment.id)
    return RunState.from_log(Objective(experiment.metric, experiment.mode), log), log.entries


def trials_frame_by_rows(result) -> pd.DataFrame:
    """``result.trials`` as it was built before: one dict per trial."""
    rows = []
    for trial in result.trial_records:
        row = {"trial_id": trial.trial_id, "status": trial.status.value, result.metric: trial.metric_value,
               "n_reports": trial.n_reports, "started": trial.started_at, "ended": trial.ended_at,
               "run_time": trial.run_time, "end_reason": trial.end_reason, **end_fields(trial), "error": trial.error}
        for param in result.parameter_names:
            row[f"config/{param}"] = trial.config.get(param, math.nan)
        rows.append(row)
    columns = ["trial_id", "status", result.metric, "n_reports", "started", "ended", "run_time", "end_reason",
               *(c for c, _ in END_FIELDS), "error"] + [f"config/{p}" for p in result.parameter_names]
    raw = {f"config/{p}": [t.config.get(p) for t in result.trial_records] for p in result.parameter_names}
    return keep_ints(pd.DataFrame(rows, columns=columns), raw)


def reports_frame_by_rows(result) -> pd.DataFrame:
    frame = pd.DataFrame([{"trial_id": r.trial_id, "step": r.step, "time": r.time, **r.metrics}
                          for r in result.report_records])
    return frame if not frame.empty else pd.DataFrame(columns=["trial_id", "step", "time", result.metric])


@pytest.mark.parametrize("n", [0, 1, 40])
def test_load_gives_what_the_whole_eager_rebuild_gives(store, n):
    name = scripted(store, n, seed=n)
    result = rung.load(name, storage=store)
    state, entries = eager(store, name)
    assert result.trial_records == list(state.trials.values())
    assert result.report_records == state.reports
    assert result.decision_rungs == state.decision_rungs
    experiment = store.require_experiment(name)
    assert result.wallclock == max(experiment.elapsed, state.last_time)
    # the parts built from the events on first access
    assert result.trajectory_points == state.trajectory
    assert result.log_entries == entries
    if n > 20:  # every fate occurs
        assert any(t.status is TrialStatus.RUNNING for t in result.trial_records)
        assert result.trajectory_points and result.decision_rungs
    # the frames, column by column, equal the frames built one dict per row
    pd.testing.assert_frame_equal(result.trials, trials_frame_by_rows(result))
    pd.testing.assert_frame_equal(result.reports, reports_frame_by_rows(result))
    # a copy or a pickle is a plain, complete TuningResult
    again = pickle.loads(pickle.dumps(rung.load(name, storage=store)))
    assert type(again) is rung.TuningResult and again.trajectory_points == state.trajectory
    assert dataclasses.replace(result, stop_reason="x").trial_records == result.trial_records


def test_reports_frame_keeps_first_appearance_order_gaps_and_a_metric_named_time():
    reports = [Report(0, 1, 0.5, {"loss": 1.0}), Report(1, 1, 0.7, {"acc": 0.3, "loss": 2.0}),
               Report(1, 2, 0.9, {"loss": 3.0, "time": 42.0, "note": "x"})]
    result = rung.TuningResult("e", "loss", "min", [], reports, [], "done", 1.0, 0.0)
    pd.testing.assert_frame_equal(result.reports, reports_frame_by_rows(result))
    assert list(result.reports.columns) == ["trial_id", "step", "time", "loss", "acc", "note"]


@pytest.mark.parametrize("mode", ["min", "max"])
def test_best_trials_are_those_of_ranking_the_whole_table(store, mode):
    name = scripted(store, 60, seed=7, mode=mode)
    experiment = store.require_experiment(name)
    whole = rung.load(name, storage=store)
    full = view_of_result(whole)
    for top in (1, 2, 5, 17, 59, 60, 200):
        best = store.read_best_trials(experiment.id, mode, top)
        view = view_of_best(experiment, best, top)
        expected = ranked_trials(list(whole.trial_records), whole.metric, mode, top)
        assert [t.trial_id for t in view.trials] == [t.trial_id for t in expected], top
        assert view.trials == expected  # every field, end details included
        assert view.best_trial == whole.best_trial and view.counts == full.counts
        assert (view.n_trials, view.wallclock, view.decision_time) == (full.n_trials, full.wallclock, full.decision_time)
        assert view.parameter_names == full.parameter_names
        # few trials read: the best rows and the running ones
        running = sum(1 for t in whole.trial_records if t.status is TrialStatus.RUNNING)
        assert len(best.log.trials) <= top + running


def test_best_trials_of_an_experiment_without_trials(store):
    name = scripted(store, 0, seed=0)
    experiment = store.require_experiment(name)
    best = store.read_best_trials(experiment.id, "min", 5)
    assert best.counts == {} and best.log.trials == [] and best.log.entries == [] and best.last_time == 0.0
    view = view_of_best(experiment, best, 5)
    assert view.trials == [] and view.best_trial is None and view.n_trials == 0
    with pytest.raises(ValueError):
        store.read_best_trials(experiment.id, "min", 0)


def test_sql_read_log_equals_decoding_row_by_row(tmp_path):
    store = SQLStorage(tmp_path / "s.db")
    name = scripted(store, 30, seed=3)
    experiment_id = store.require_experiment(name).id
    with store.engine.connect() as conn:
        trials = [codec.trial_record(row) for row in conn.execute(
            schema.trials.select().where(schema.trials.c.experiment_id == experiment_id)
            .order_by(schema.trials.c.trial_id)).mappings()]
        reports = [codec.report_record(row) for row in conn.execute(
            schema.reports.select().where(schema.reports.c.experiment_id == experiment_id)).mappings()]
        events = [codec.event_record(row) for row in conn.execute(
            schema.events.select().where(schema.events.c.experiment_id == experiment_id)).mappings()]
    log = store.read_log(experiment_id)
    assert log.trials == trials
    assert log.entries == sorted(reports + events, key=lambda entry: entry.seq)
    assert store.read_log(experiment_id, after_seq=10).entries == [e for e in log.entries if e.seq > 10]
    deferred = store.read_log_deferred(experiment_id)
    assert deferred.trials == trials and deferred.reports == sorted(reports, key=lambda r: r.seq)
    assert deferred.whole() == log and deferred.last_time == max(e.time for e in log.entries)
    store.dispose()


@pytest.mark.parametrize("text", ['{"a": 1}', ' {"a": 1} ', '{"a": NaN, "b": Infinity}', '[1, {"c": [2]}]', '3', '"s"'])
def test_loads_column_accepts_what_json_loads_accepts(text):
    values = codec.loads_column([text, text], "c", str)
    assert repr(values) == repr([codec.json.loads(text)] * 2)
    assert values[0] is not values[1] or not isinstance(values[0], (dict, list))  # fresh values


@pytest.mark.parametrize("text", ["{garbage", '{"a": 1} x', "", None, '{"a": 1}{"b": 2}'])
def test_loads_column_names_the_row_of_a_corrupt_text(text):
    texts = ['{"ok": 1}', '{"ok": 2}', text, '{"ok": 3}']
    with pytest.raises(CorruptRecord, match=r"row 2: column 'payload' is not valid JSON"):
        codec.loads_column(texts, "payload", lambda i: f"row {i}")
    with pytest.raises(CorruptRecord, match=r"row 2: column 'payload' is not valid JSON"):
        codec.check_column(texts + [text], "payload", lambda i: f"row {i}")
    if not text:
        assert codec.loads_column(texts, "payload", str, dict)[2] == {}  # an empty optional column


def test_a_corrupt_event_payload_fails_load_at_once(tmp_path):
    store = SQLStorage(tmp_path / "s.db")
    name = scripted(store, 5, seed=1)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE rung_events SET payload = '{garbage' "
                             "WHERE seq = (SELECT max(seq) FROM rung_events WHERE kind = 'end')")
    with pytest.raises(CorruptRecord, match=r"event seq [0-9]+ of trial [0-9]+ \(table rung_events\): column .payload. is not valid JSON"):
        rung.load(name, storage=store)
    store.dispose()


@pytest.mark.parametrize("top", [None, 9])
def test_rung_show_of_a_large_experiment_lists_the_best_of_the_whole_table(tmp_path, capsys, top):
    from rung.cli import main as cli_main
    from rung.cli._inspect import SHOW_ALL_UP_TO, SHOW_BEST

    path = tmp_path / "s.db"
    store = SQLStorage(path)
    name = scripted(store, SHOW_ALL_UP_TO + 30, seed=5)
    store.dispose()
    whole = rung.load(name, storage=path)
    expected = ranked_trials(list(whole.trial_records), whole.metric, whole.mode, top or SHOW_BEST)
    capsys.readouterr()
    assert cli_main(["show", name, "--storage", str(path), *(["--top", str(top)] if top else [])]) == 0
    out = capsys.readouterr().out
    listed = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    assert listed == [str(t.trial_id) for t in expected]
    assert f"(trial {whole.best_trial.trial_id})" in out
    counts = view_of_result(whole).counts
    assert ", ".join(f"{n} {status}" for status, n in counts.items()) in out
    assert (f"the best {SHOW_BEST} shown" in out) == (top is None)


def test_fetch_all_gives_the_rows_result_all_gives(tmp_path):
    import sqlalchemy as sa

    from rung.storage import _sql_read as read

    store = SQLStorage(tmp_path / "s.db")
    name = scripted(store, 30, seed=4)
    experiment_id = store.require_experiment(name).id
    with store.engine.connect() as conn:
        for query in (read.trial_query(experiment_id), read.report_query(experiment_id),
                      read.event_query(experiment_id), read.report_query(experiment_id, after_seq=20)):
            expected = conn.execute(query).all()
            rows = read.fetch_all(conn, query)
            assert len(expected) > 0 and len(rows) == len(expected)
            for row, want in zip(rows, expected):
                assert tuple(row) == tuple(want)
                assert [type(value) for value in row] == [type(value) for value in want]
        # A column whose values SQLAlchemy converts (SQLite's 0/1 to bool): the processed rows.
        flags = read.fetch_all(conn, sa.select(schema.experiments.c.stop_requested))
        assert [type(value) for (value,) in flags] == [bool]
    store.dispose()


@pytest.mark.parametrize("enabled", [True, False])
def test_load_leaves_the_garbage_collector_as_it_was(tmp_path, enabled):
    import gc

    store = SQLStorage(tmp_path / "s.db")
    name = scripted(store, 12, seed=5)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        result = rung.load(name, storage=store)
        assert gc.isenabled() is enabled
        result.trajectory_points  # the deferred replay of the events
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    store.dispose()


def test_rung_load_does_not_import_the_tuner_loop(tmp_path):
    import subprocess
    import sys

    store = SQLStorage(tmp_path / "s.db")
    name = scripted(store, 6, seed=6)
    store.dispose()
    code = ("import sys, rung; r = rung.load({name!r}, storage={path!r}); r.trajectory_points; "
            "print(len(r.trial_records), sorted(m for m in ('rung.tuner._tuner', 'rung.backends', 'rich') "
            "if m in sys.modules)); print(rung.tuner.Tuner.__name__, rung.tuner.Budgets.__name__, rung.Tuner.__name__)"
            ).format(name=name, path=str(tmp_path / "s.db"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["6 []", "Tuner Budgets Tuner"]
