"""SQLAlchemy engines for a store URL, with SQLite set up for several writer processes.

SQLite runs in WAL mode (readers never block the writer), ``synchronous=NORMAL`` (durable
against process crashes), a 60 s busy timeout, and ``BEGIN IMMEDIATE`` for every writing
transaction, so concurrent tuner processes queue for the write lock instead of failing.
PostgreSQL (psycopg 3) uses its own locking; its reads run at REPEATABLE READ so that one
read sees one snapshot.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa

from ._errors import StorageError


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` (already normalized); StorageError if the URL is unusable.

    A SQLite file that does not exist yet is created private to the user (see
    :func:`create_private_file`); SQLite gives its ``-wal`` and ``-shm`` files the same mode.
    """
    if url.startswith("sqlite:///"):
        create_private_file(Path(url[len("sqlite:///"):].split("?", 1)[0]))
    try:
        if url.startswith("sqlite"):
            # One in-memory database must be shared by every connection of this store.
            kwargs: dict[str, Any] = {"poolclass": sa.pool.StaticPool} if url == "sqlite://" else {}
            engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs)
            _sqlite_hooks(engine)
            return engine
        return sa.create_engine(url, pool_pre_ping=True)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise StorageError(f"storage URL {url!r} is not usable: {exc}") from exc


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and any missing parents with mode 0700 (whatever the umask), as
    ssh and git credential stores do: trial logs and the store may hold secrets. Directories
    that exist already are left as they are."""
    missing = []
    for path in (directory, *directory.parents):
        if path.is_dir():
            break
        missing.append(path)
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            if not path.is_dir():
                raise
            continue  # created meanwhile by another process: theirs to set
        os.chmod(path, 0o700)  # mkdir's mode is masked by the umask


def create_private_file(path: Path) -> None:
    """Create the (empty) file ``path`` with mode 0600 if it does not exist, its missing
    directories 0700; an existing file keeps its mode. An empty file is an empty SQLite
    database, so SQLite then opens it as is."""
    try:
        make_private_dirs(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StorageError(f"cannot create the store file {str(path)!r}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def reading(engine: sa.Engine) -> sa.Connection:
    """A connection for queries that never write: no write lock on SQLite, one snapshot per
    transaction on both databases."""
    conn = engine.connect().execution_options(rung_read_only=True)
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def _sqlite_hooks(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" below decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 60000")
        # Switching to (or confirming) WAL can report "locked" at once, without the busy
        # handler, while another process checkpoints or closes the log: retry briefly.
        retry_locked(lambda: cursor.execute("PRAGMA journal_mode = WAL"))
        # In WAL mode NORMAL loses nothing on a process crash (only on power loss).
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Checkpoints (the only fsyncs under NORMAL) every ~40 MB of log instead of ~4 MB:
        # a busy tuner commits once per report.
        cursor.execute("PRAGMA wal_autocheckpoint = 10000")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "handle_error")
    def _on_error(context):
        # A damaged file can surface on any query, not only when the store is opened: name it.
        original = context.original_exception
        if isinstance(original, sqlite3.DatabaseError) and not isinstance(original, sqlite3.OperationalError):
            text = str(original)
            if "not a database" in text:
                return StorageError(f"the file {engine.url.database!r} is not a SQLite database, so not a rung "
                                    "store (give another path with --storage or storage=)")
            if "malformed" in text:
                return StorageError(f"the store file {engine.url.database!r} is damaged ({text}); restore it "
                                    "from a backup, or use another store")
        return None

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Writers take the write lock up front: a deferred transaction that reads and then
        # writes fails at once with "database is locked" if another process wrote in between.
        # Pure readers (marked by reading()) never write, and WAL lets them read alongside.
        if connection.get_execution_options().get("rung_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def retry_locked(action: Callable[[], Any], attempts: int = 200, pause: float = 0.05) -> Any:
    for attempt in range(attempts):
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(pause)
    return None
