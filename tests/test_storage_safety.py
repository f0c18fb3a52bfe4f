"""Store safety under concurrency and damage (issue 12, items 2, 3, 7 and 8):

- claiming is atomic: of two simultaneous claims exactly one wins, 300 rounds, SQLite file
  and PostgreSQL; a dead owner on this host is still taken over;
- 12 processes opening one empty store at once (new SQLite file, fresh PostgreSQL schema)
  all succeed and create it once;
- the SQLite store (and its -wal/-shm) is created 0600, the directories rung creates 0700,
  at a 022 umask; an existing directory keeps its mode;
- a file that is not SQLite, and a single corrupt JSON column, give a StorageError naming
  the path or the experiment, table and column; the other experiments stay readable.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import stat
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import postgres
import pytest
import sqlalchemy as sa

from rung.cli import main as cli_main
from rung.storage import CorruptRecord, SQLStorage, StorageError, make_private_dirs

POSTGRES = postgres.URL
ROUNDS = 300
_PG_REASON = postgres.unreachable_reason()


@pytest.fixture
def pg_schema():
    """A fresh, empty PostgreSQL schema (via search_path), dropped afterwards."""
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    name = f"rung_safety_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    yield f"{POSTGRES}?options=-csearch_path%3D{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
    admin.dispose()


def _new_experiment(store: SQLStorage, name: str = "race", **fields) -> int:
    return store.create_experiment(name, metric="loss", mode="min", seed=0,
                                   space={"x": {"type": "uniform", "low": 0.0, "high": 1.0}},
                                   settings={}, **fields)


# -- item 2: atomic claims -------------------------------------------------------------------
def _claim_race(url: str, rounds: int) -> tuple[int, int, list[str]]:
    """Two threads, each with its own store (engine), claim one experiment at the same moment,
    ``rounds`` times (released between rounds). Returns (double claims, rounds without a
    winner, loser messages seen)."""
    setup = SQLStorage(url)
    experiment_id = _new_experiment(setup)
    stores = [SQLStorage(url), SQLStorage(url)]
    barrier = threading.Barrier(3)
    results: list[list[object]] = [[], []]

    def contender(index: int) -> None:
        for _ in range(rounds):
            barrier.wait()  # round starts
            try:
                stores[index].claim(experiment_id)
                results[index].append(True)
            except StorageError as err:
                results[index].append(str(err))
            barrier.wait()  # round ends

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for _ in range(rounds):
        setup.finish(experiment_id, status="paused", stop_reason="test", elapsed=0.0, decision_time=0.0)
        barrier.wait()
        barrier.wait()
    for thread in threads:
        thread.join()
    for store in (*stores, setup):
        store.dispose()
    pairs = list(zip(*results))
    doubles = sum(1 for a, b in pairs if a is True and b is True)
    none = sum(1 for a, b in pairs if a is not True and b is not True)
    messages = sorted({m for pair in pairs for m in pair if isinstance(m, str)})
    return doubles, none, messages


def _check_race(url: str) -> None:
    doubles, none, messages = _claim_race(url, ROUNDS)
    assert (doubles, none) == (0, 0), f"{doubles} double claims and {none} rounds without a winner in {ROUNDS}"
    owner = f"{socket.gethostname()}:{os.getpid()}"
    assert messages, "no claim ever lost"
    assert all("'race'" in m and owner in m for m in messages), messages


def test_simultaneous_claims_on_a_sqlite_file_never_both_succeed(tmp_path):
    _check_race(f"sqlite:///{tmp_path / 'race.db'}")


def test_simultaneous_claims_on_postgresql_never_both_succeed(pg_schema):
    _check_race(pg_schema)


def _claiming_process(url: str, experiment_id: int, rounds: int, barrier, queue) -> None:  # a child
    store = SQLStorage(url)
    outcomes = []
    for _ in range(rounds):
        barrier.wait(timeout=60)
        try:
            store.claim(experiment_id)
            outcomes.append("won")
        except StorageError as err:
            outcomes.append(str(err))
        barrier.wait(timeout=60)
    store.dispose()
    queue.put(outcomes)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_claiming_at_once_never_both_win(backend, tmp_path, request):
    """As the report measured it: two processes (two owners), one experiment, 300 rounds."""
    url = f"sqlite:///{tmp_path / 'procs.db'}" if backend == "sqlite" else request.getfixturevalue("pg_schema")
    setup = SQLStorage(url)
    experiment_id = _new_experiment(setup)
    setup.dispose()
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(3), context.Queue()
    children = [context.Process(target=_claiming_process, args=(url, experiment_id, ROUNDS, barrier, queue))
                for _ in range(2)]
    for child in children:
        child.start()
    for _ in range(ROUNDS):
        setup.finish(experiment_id, status="paused", stop_reason="test", elapsed=0.0, decision_time=0.0)
        barrier.wait(timeout=60)
        barrier.wait(timeout=60)
    first, second = queue.get(timeout=60), queue.get(timeout=60)
    for child in children:
        child.join(timeout=60)
    setup.dispose()
    wins = [(a == "won") + (b == "won") for a, b in zip(first, second)]
    assert (wins.count(2), wins.count(0), wins.count(1)) == (0, 0, ROUNDS)
    losses = {m for m in first + second if m != "won"}
    assert all(m.startswith("experiment 'race' is being run by process ") or "claimed at the same time" in m
               for m in losses), losses


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_dead_owner_on_this_host_is_taken_over_and_a_live_one_refused(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'owner.db'}" if backend == "sqlite" else request.getfixturevalue("pg_schema")
    store = SQLStorage(url)
    experiment_id = _new_experiment(store)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    e = sa.table("rung_experiments", sa.column("id"), sa.column("status"), sa.column("owner"))
    for owner, taken_over in ((f"{socket.gethostname()}:{dead.pid}", True),
                              (f"{socket.gethostname()}:{os.getpid()}", False),
                              ("another-host.example:1", False)):
        with store.engine.begin() as conn:
            conn.execute(sa.update(e).where(e.c.id == experiment_id).values(status="running", owner=owner))
        if taken_over:
            store.claim(experiment_id)
            assert store.require_experiment("race").owner == f"{socket.gethostname()}:{os.getpid()}"
        else:
            with pytest.raises(StorageError, match=f"experiment 'race' is being run by process {owner}"):
                store.claim(experiment_id)
    store.dispose()


# -- item 3: concurrent first opens ----------------------------------------------------------
def _open_store(url: str, barrier, queue) -> None:  # in a child process
    try:
        barrier.wait(timeout=60)
        store = SQLStorage(url)
        store.list_experiments()
        store.dispose()
        queue.put("ok")
    except BaseException as exc:  # reported to the parent
        queue.put(f"{type(exc).__name__}: {exc}")


def _open_from_processes(url: str, n: int = 12) -> list[str]:
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(n), context.Queue()
    processes = [context.Process(target=_open_store, args=(url, barrier, queue)) for _ in range(n)]
    for process in processes:
        process.start()
    outcomes = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return outcomes


def _schema_rows(url: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT value FROM rung_meta")).scalars().all()
    engine.dispose()
    return list(rows)


def test_twelve_processes_create_a_new_sqlite_store_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'fresh.db'}"
    assert _open_from_processes(url) == ["ok"] * 12
    assert len(_schema_rows(url)) == 1


def test_twelve_processes_create_a_new_postgresql_store_at_once(pg_schema):
    assert _open_from_processes(pg_schema) == ["ok"] * 12
    assert len(_schema_rows(pg_schema)) == 1


# -- item 7: permissions ---------------------------------------------------------------------
@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_store_and_the_directories_rung_creates_are_private(tmp_path, umask_022, monkeypatch):
    home = tmp_path / "home" / "rung"
    monkeypatch.setenv("RUNG_HOME", str(home))
    monkeypatch.delenv("RUNG_STORAGE", raising=False)
    store = SQLStorage(None)
    _new_experiment(store, "private")  # writes: the -wal and -shm files exist now
    files = {p.name: _mode(p) for p in home.iterdir()}
    assert files == {"rung.db": 0o600, "rung.db-wal": 0o600, "rung.db-shm": 0o600}
    assert (_mode(home), _mode(home.parent)) == (0o700, 0o700)
    store.dispose()


def test_an_existing_directory_and_file_keep_their_modes(tmp_path, umask_022):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    (shared / "old.db").touch(mode=0o644)
    os.chmod(shared / "old.db", 0o644)
    SQLStorage(shared / "new.db").dispose()
    SQLStorage(shared / "old.db").dispose()
    assert (_mode(shared), _mode(shared / "new.db"), _mode(shared / "old.db")) == (0o755, 0o600, 0o644)
    make_private_dirs(shared / "a" / "b")
    assert (_mode(shared), _mode(shared / "a"), _mode(shared / "a" / "b")) == (0o755, 0o700, 0o700)


# -- item 8: damaged stores ------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"not a database\n" * 10, b"SQLite format 2\x00" + b"\x01" * 200,
                                     bytes(range(256)) * 8])
def test_a_file_that_is_not_sqlite_is_named(tmp_path, content, capsys):
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(StorageError, match=f"the file '{path}' is not a SQLite database"):
        SQLStorage(path)
    assert path.read_bytes() == content, "the file was changed"
    assert cli_main(["list", "--storage", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "not a SQLite database" in err, err


def _corrupt_store(tmp_path) -> tuple[SQLStorage, str]:
    """A store with experiments 'good' (one trial, one report) and 'bad' ('bad' gets a
    corrupt column per test case)."""
    from rung.storage import EventRecord, ReportRecord
    from rung.trial._record import Trial, TrialStatus

    url = f"sqlite:///{tmp_path / 'damaged.db'}"
    store = SQLStorage(url)
    for name in ("good", "bad"):
        experiment_id = _new_experiment(store, name)
        recorder = store.recorder(experiment_id)
        trial = Trial(trial_id=0, config={"x": 0.5}, status=TrialStatus.COMPLETED, n_reports=1,
                      last_metrics={"loss": 0.25}, metric_value=0.25)
        recorder.save_trial(trial)
        recorder.append(EventRecord(seq=0, kind="start", trial_id=0, time=1.0, payload={}))
        recorder.append(ReportRecord(seq=1, trial_id=0, step=1, time=2.0, metrics={"loss": 0.25}))
        recorder.close()
    return store, url


CORRUPTIONS = [
    # (table, column, where clause, what the message must name)
    ("rung_experiments", "space", "name = 'bad'", "experiment 'bad' (table rung_experiments"),
    ("rung_experiments", "settings", "name = 'bad'", "experiment 'bad' (table rung_experiments"),
    ("rung_experiments", "spec", "name = 'bad'", "experiment 'bad' (table rung_experiments"),
    ("rung_reports", "metrics", "experiment_id = 2", "experiment 'bad' in sqlite:///"),
    ("rung_reports", "details", "experiment_id = 2", "report seq 1 of trial 0 (table rung_reports)"),
    ("rung_trials", "config", "experiment_id = 2", "trial 0 (table rung_trials)"),
    ("rung_trials", "last_metrics", "experiment_id = 2", "trial 0 (table rung_trials)"),
    ("rung_events", "payload", "experiment_id = 2", "event seq 0 of trial 0 (table rung_events)"),
]


@pytest.mark.parametrize("table, column, where, named", CORRUPTIONS, ids=[f"{t}.{c}" for t, c, _, _ in CORRUPTIONS])
def test_one_corrupt_json_column_names_the_row_and_spares_the_others(tmp_path, capsys, table, column, where, named):
    from rung import load

    store, url = _corrupt_store(tmp_path)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE {table} SET {column} = '{{garbage' WHERE {where}")
    with pytest.raises(CorruptRecord) as caught:
        load("bad", storage=store)
    message = str(caught.value)
    assert named in message and f"column {column!r} is not valid JSON" in message, message
    assert "'bad'" in message, message
    assert load("good", storage=store).best_config == {"x": 0.5}
    assert [s.name for s in store.list_experiments()] == ["good", "bad"]
    unreadable = store.unreadable_experiments()
    assert list(unreadable) == (["bad"] if table == "rung_experiments" else []), unreadable
    store.dispose()

    capsys.readouterr()
    assert cli_main(["list", "--storage", url]) == 0
    out = capsys.readouterr().out
    assert "good" in out and "bad" in out
    assert cli_main(["show", "good", "--storage", url]) == 0
    assert "0.25" in capsys.readouterr().out
    for command in ("show", "best", "trials"):
        assert cli_main([command, "bad", "--storage", url]) == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "'bad'" in err and column in err, err
    # a corrupt experiment can still be stopped and deleted through the store
    again = SQLStorage(url)
    again.request_stop("bad")
    again.delete_experiment("bad")
    assert [s.name for s in again.list_experiments()] == ["good"]
    again.dispose()


def test_a_corrupt_experiment_row_is_marked_unreadable_in_rung_list(tmp_path, capsys):
    store, url = _corrupt_store(tmp_path)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE rung_experiments SET space = 'nope' WHERE name = 'bad'")
    store.dispose()
    assert cli_main(["list", "--storage", url]) == 0
    captured = capsys.readouterr()
    bad_line = next(line for line in captured.out.splitlines() if " bad " in line)
    assert "unreadable" in bad_line
    assert "unreadable: experiment 'bad'" in captured.err and "'space'" in captured.err


# -- messages never show a password ----------------------------------------------------------
def test_store_messages_hide_the_password():
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    url = POSTGRES.replace("postgres@", "postgres:s3cret-pw@", 1)
    try:
        store = SQLStorage(url)
    except StorageError as err:  # the server checks passwords: the refusal must not show it
        assert "s3cret-pw" not in str(err)
        return
    assert "s3cret-pw" not in store.url and "***" in store.url and "s3cret-pw" not in repr(store)
    with pytest.raises(StorageError) as caught:
        store.require_experiment("no-such-experiment")
    assert "s3cret-pw" not in str(caught.value) and "no-such-experiment" in str(caught.value)
    store.dispose()


def test_a_store_file_damaged_after_opening_is_named_on_the_next_read(tmp_path):
    path = tmp_path / "damaged.db"
    store = SQLStorage(path)
    for i in range(40):
        _new_experiment(store, f"e{i}")
    store.dispose()  # checkpoints the log into the file
    opened = SQLStorage(path)
    opened.dispose()
    with open(path, "r+b") as file:  # overwrite pages after the schema page
        file.seek(4096 * 2)
        file.write(bytes(range(256)) * 48)
    with pytest.raises(StorageError, match=f"the store file '{path}' is damaged"):
        opened.list_experiments()
    with pytest.raises(StorageError, match=f"'{path}'"):
        SQLStorage(path)


@pytest.mark.parametrize("storage, error, named", [
    (123, TypeError, "got 123 (int)"),
    (1.5, TypeError, "got 1.5 (float)"),
    (True, TypeError, "got True (bool)"),
    (["a.db"], TypeError, "got ['a.db'] (list)"),
    (b"a.db", TypeError, "got b'a.db' (bytes)"),
    ("", ValueError, "storage must not be empty"),
    ("   ", ValueError, "storage must not be empty"),
    ("nosuchdialect://x", StorageError, "'nosuchdialect://x' is not usable"),
    ("postgresql+nosuchdriver://h/db", StorageError, "'postgresql+nosuchdriver://h/db' is not usable"),
])
def test_a_storage_that_is_not_a_store_is_refused_by_name(storage, error, named):
    from rung.storage import open_storage

    with pytest.raises(error, match="storage|not usable") as caught:
        open_storage(storage)
    assert type(caught.value) is error and named in str(caught.value), str(caught.value)


def test_the_cli_refuses_an_empty_storage_in_one_line(capsys):
    assert cli_main(["list", "--storage", ""]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--storage: storage must not be empty" in err, err
