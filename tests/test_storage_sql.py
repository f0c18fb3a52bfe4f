"""What only the SQL store promises: listing by aggregates, and SQLite's settings."""

import re

import sqlalchemy as sa

from rung.storage import ExperimentRecord, MemoryStorage, Recorder, SQLStorage, Storage
from rung.trial._record import Trial, TrialStatus


def _capture(engine):
    statements = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    return statements


def test_list_experiments_reads_aggregates_and_no_trial_or_report_rows(tmp_path):
    store = SQLStorage(tmp_path / "s.db")
    for index in range(3):
        experiment_id = store.create_experiment(f"e{index}", metric="loss", mode="min", seed=None, space={},
                                                settings={})
        recorder = store.recorder(experiment_id)
        for trial_id in range(5):
            recorder.save_trial(Trial(trial_id, {"x": trial_id}, TrialStatus.COMPLETED, metric_value=float(trial_id)))
        recorder.close()
    statements = _capture(store.engine)
    summaries = store.list_experiments()
    assert [(s.name, s.n_trials, s.best_value) for s in summaries] == [("e0", 5, 0.0), ("e1", 5, 0.0), ("e2", 5, 0.0)]
    touching_trials = [s for s in statements if "rung_trials" in s]
    assert len(touching_trials) == 2 and all(re.search(r"GROUP BY", s) for s in touching_trials), touching_trials
    assert not any("rung_reports" in s or "rung_events" in s for s in statements), statements
    # the experiment rows are read without their JSON columns
    [experiments_query] = [s for s in statements if "FROM rung_experiments" in s]
    assert "settings" not in experiments_query and "space" not in experiments_query


def test_the_summary_index_serves_list_experiments(tmp_path):
    store = SQLStorage(tmp_path / "s.db")
    with store.engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT experiment_id, status, count(*) FROM rung_trials "
            "GROUP BY experiment_id, status").all()
    assert any("ix_rung_trials_summary" in str(row) for row in plan), plan


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    store = SQLStorage(tmp_path / "s.db")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_contract_classes_are_abstract_and_records_typed(tmp_path):
    store = SQLStorage(tmp_path / "s.db")
    assert isinstance(store, Storage) and isinstance(MemoryStorage(), Storage)
    assert isinstance(store.recorder(1), Recorder)
    store.create_experiment("a", metric="loss", mode="min", seed=None, space={}, settings={})
    assert isinstance(store.get_experiment("a"), ExperimentRecord)
