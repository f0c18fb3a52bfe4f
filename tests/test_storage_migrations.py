"""Schema migrations: a version-1 store opens, is migrated and reads back the same data; a
newer store is refused; concurrent first opens create or migrate once; a failed step
changes nothing."""

import threading
import uuid

import postgres
import pytest
import sqlalchemy as sa

from rung.storage import SCHEMA_VERSION, SchemaVersionError, SQLStorage, _migrations, _schema
from rung.storage._engine import create_engine

# The tables exactly as rung with schema version 1 created them (SQLAlchemy's DDL for SQLite).
V1_DDL = [
    """CREATE TABLE rung_experiments (
        id INTEGER NOT NULL, name VARCHAR(255) NOT NULL, status VARCHAR(32) NOT NULL,
        metric VARCHAR(255) NOT NULL, mode VARCHAR(8) NOT NULL, seed BIGINT, space TEXT NOT NULL, spec TEXT,
        settings TEXT NOT NULL, workdir TEXT, created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL,
        elapsed FLOAT NOT NULL, decision_time FLOAT NOT NULL, stop_reason VARCHAR(64),
        stop_requested BOOLEAN NOT NULL, owner VARCHAR(255), PRIMARY KEY (id), UNIQUE (name))""",
    """CREATE TABLE rung_meta ("key" VARCHAR(64) NOT NULL, value TEXT NOT NULL, PRIMARY KEY ("key"))""",
    """CREATE TABLE rung_events (
        experiment_id INTEGER NOT NULL, seq INTEGER NOT NULL, kind VARCHAR(16) NOT NULL,
        trial_id INTEGER NOT NULL, time FLOAT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (experiment_id, seq),
        FOREIGN KEY(experiment_id) REFERENCES rung_experiments (id) ON DELETE CASCADE)""",
    """CREATE TABLE rung_reports (
        experiment_id INTEGER NOT NULL, seq INTEGER NOT NULL, trial_id INTEGER NOT NULL, step INTEGER NOT NULL,
        time FLOAT NOT NULL, metrics TEXT NOT NULL, action VARCHAR(16), reason TEXT, details TEXT,
        PRIMARY KEY (experiment_id, seq),
        FOREIGN KEY(experiment_id) REFERENCES rung_experiments (id) ON DELETE CASCADE)""",
    "CREATE INDEX ix_rung_reports_trial ON rung_reports (experiment_id, trial_id)",
    """CREATE TABLE rung_trials (
        experiment_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, config TEXT NOT NULL,
        status VARCHAR(16) NOT NULL, created_at FLOAT NOT NULL, started_at FLOAT, ended_at FLOAT,
        run_time FLOAT NOT NULL, n_reports INTEGER NOT NULL, n_starts INTEGER NOT NULL, metric_value FLOAT,
        last_metrics TEXT, resource FLOAT, end_reason TEXT, error TEXT, traceback TEXT,
        PRIMARY KEY (experiment_id, trial_id),
        FOREIGN KEY(experiment_id) REFERENCES rung_experiments (id) ON DELETE CASCADE)""",
]

V1_DATA = [
    "INSERT INTO rung_meta VALUES ('schema_version', '1')",
    """INSERT INTO rung_experiments VALUES (1, 'old', 'completed', 'loss', 'min', 3,
        '{"x": {"type": "uniform", "low": 0.0, "high": 1.0}}', NULL, '{"searcher": "Random"}', '/tmp/old',
        100.5, 200.25, 12.0, 0.5, 'max_trials', 0, NULL)""",
    """INSERT INTO rung_trials VALUES (1, 0, '{"x": 0.25}', 'completed', 101.0, 101.5, 103.0, 1.5, 2, 1, 0.0625,
        '{"loss": 0.0625, "epoch": 2}', NULL, NULL, NULL, NULL)""",
    """INSERT INTO rung_trials VALUES (1, 1, '{"x": 0.75}', 'failed', 102.0, 102.0, 102.5, 0.5, 0, 1, NULL,
        NULL, NULL, 'ValueError: no', 'ValueError: no', 'Traceback ...')""",
    """INSERT INTO rung_events VALUES (1, 0, 'start', 0, 101.5, '{"resource": null, "allow_new": true}')""",
    """INSERT INTO rung_events VALUES (1, 1, 'start', 1, 102.0, '{"resource": null, "allow_new": true}')""",
    """INSERT INTO rung_reports VALUES (1, 2, 0, 1, 102.1, '{"loss": 0.5, "epoch": 1}', 'continue', NULL, NULL)""",
    """INSERT INTO rung_events VALUES (1, 3, 'end', 1, 102.5, '{"status": "failed"}')""",
    """INSERT INTO rung_reports VALUES (1, 4, 0, 2, 102.9, '{"loss": 0.0625, "epoch": 2}', 'stop', 'low',
        '{"rung": 2}')""",
    """INSERT INTO rung_events VALUES (1, 5, 'end', 0, 103.0, '{"status": "completed"}')""",
]


def make_v1_store(path):
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for statement in V1_DDL + V1_DATA:
            conn.exec_driver_sql(statement)
    engine.dispose()
    return f"sqlite:///{path}"


def stored_version(url):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT value FROM rung_meta WHERE key = 'schema_version'")).scalar_one()
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("rung_trials")}
    engine.dispose()
    return int(version), indexes


def test_a_version_1_store_is_migrated_and_reads_back_the_same_data(tmp_path):
    url = make_v1_store(tmp_path / "v1.db")
    assert stored_version(url) == (1, set())
    store = SQLStorage(url)
    assert stored_version(url) == (SCHEMA_VERSION, {"ix_rung_trials_summary"})
    record = store.require_experiment("old")
    assert (record.id, record.status, record.metric, record.mode, record.seed, record.workdir) == (
        1, "completed", "loss", "min", 3, "/tmp/old")
    assert record.space == {"x": {"type": "uniform", "low": 0.0, "high": 1.0}}
    assert record.settings == {"searcher": "Random"} and record.spec is None
    assert (record.created_at, record.updated_at, record.elapsed, record.decision_time) == (100.5, 200.25, 12.0, 0.5)
    assert (record.stop_reason, record.stop_requested, record.owner) == ("max_trials", False, None)
    log = store.read_log(record.id)
    assert [(t.trial_id, t.config, t.status, t.metric_value, t.last_metrics, t.n_reports, t.error) for t in log.trials] == [
        (0, {"x": 0.25}, "completed", 0.0625, {"loss": 0.0625, "epoch": 2}, 2, None),
        (1, {"x": 0.75}, "failed", None, {}, 0, "ValueError: no")]
    assert [(e.seq, type(e).__name__) for e in log.entries] == [
        (0, "EventRecord"), (1, "EventRecord"), (2, "ReportRecord"), (3, "EventRecord"), (4, "ReportRecord"),
        (5, "EventRecord")]
    assert log.reports[1].details == {"rung": 2} and log.reports[0].details == {} and log.last_seq == 5
    [summary] = store.list_experiments()
    assert summary.trial_counts == {"completed": 1, "failed": 1} and summary.best_value == 0.0625
    # and the migrated store takes new writes and opens again without migrating
    recorder = store.recorder(record.id)
    recorder.append(log.events[0].__class__(6, "start", 2, 104.0, {}))
    recorder.close()
    store.dispose()
    assert SQLStorage(url).read_log(1, after_seq=5).last_seq == 6


def test_a_store_newer_than_the_code_is_refused_and_left_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    SQLStorage(url).dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.update(_schema.meta).values(value=str(SCHEMA_VERSION + 1)))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match=f"schema version {SCHEMA_VERSION + 1}.*reads version {SCHEMA_VERSION}"):
        SQLStorage(url)
    assert stored_version(url)[0] == SCHEMA_VERSION + 1


def test_plan_chains_steps_in_order_and_refuses_a_gap():
    def step(conn):
        pass

    steps = [(2, 3, step), (1, 2, step), (3, 5, step)]
    assert [(a, b) for a, b, _ in _migrations.plan(1, 5, steps)] == [(1, 2), (2, 3), (3, 5)]
    assert _migrations.plan(3, 3, steps) == []
    with pytest.raises(SchemaVersionError, match="no migration from schema version 2"):
        _migrations.plan(2, 4, [(1, 2, step), (3, 4, step)])
    with pytest.raises(SchemaVersionError, match="end at 5, not 4"):
        _migrations.plan(3, 4, steps)
    assert [(a, b) for a, b, _ in _migrations.MIGRATIONS] == [(v, v + 1) for v in range(1, SCHEMA_VERSION)]


def test_a_failing_step_changes_nothing(tmp_path):
    url = make_v1_store(tmp_path / "v1.db")

    def breaks(conn):
        conn.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("step failed")

    engine = create_engine(url)
    with pytest.raises(RuntimeError, match="step failed"):
        _migrations.ensure_schema(engine, url, target=2, migrations=[(1, 2, breaks)])
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("half_done")
    engine.dispose()
    assert stored_version(url) == (1, set())


def _open_at_once(url, n, **kwargs):
    """Run ensure_schema from n threads (each with its own engine) released together."""
    barrier = threading.Barrier(n)
    errors = []

    def open_one():
        engine = create_engine(url)
        try:
            barrier.wait()
            _migrations.ensure_schema(engine, url, **kwargs)
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=open_one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_first_opens_create_the_store_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert _open_at_once(url, 8) == []
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT value FROM rung_meta")).scalars().all() == [str(SCHEMA_VERSION)]
    engine.dispose()


def test_concurrent_opens_of_an_old_store_migrate_it_once(tmp_path):
    url = make_v1_store(tmp_path / "v1.db")
    calls = []

    def step(conn):
        calls.append(1)
        _migrations.MIGRATIONS[0][2](conn)

    assert _open_at_once(url, 8, target=2, migrations=[(1, 2, step)]) == []
    assert calls == [1]
    assert stored_version(url) == (2, {"ix_rung_trials_summary"})


POSTGRES = postgres.URL


def test_postgresql_version_1_store_in_its_own_schema_is_migrated_under_the_advisory_lock():
    try:
        admin = sa.create_engine(POSTGRES)
        with admin.connect():
            pass
    except Exception as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES} is not reachable ({type(exc).__name__})")
    schema_name = f"rung_migration_{uuid.uuid4().hex[:8]}"
    url = f"{POSTGRES}?options=-csearch_path%3D{schema_name}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema_name}")
    try:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            for statement in V1_DDL + V1_DATA:
                conn.exec_driver_sql(statement.replace('"key"', "key").replace("INTEGER NOT NULL, name", "SERIAL, name")
                                     .replace("'max_trials', 0, NULL", "'max_trials', false, NULL"))
        engine.dispose()
        assert _open_at_once(url, 4) == []
        assert stored_version(url) == (SCHEMA_VERSION, {"ix_rung_trials_summary"})
        store = SQLStorage(url)
        assert [t.trial_id for t in store.read_log(store.require_experiment("old").id).trials] == [0, 1]
        store.dispose()
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema_name} CASCADE")
        admin.dispose()
