"""The durable experiment store: experiments, trials, every report and decision, the event log.

One :class:`Storage` per database URL. SQLite (the default, a file under ``$RUNG_HOME``)
runs in WAL mode with a busy timeout and takes its write lock at the start of each
transaction, so several tuner processes can share one file; PostgreSQL works the same way
through its own locking. A tuner writes through an :class:`~rung.storage.Recorder`.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from . import _schema as schema
from ._urls import normalize_url


class StorageError(RuntimeError):
    """Something about the store itself is wrong (version, missing experiment, ownership)."""


class SchemaVersionError(StorageError):
    pass


class ExperimentNotFound(StorageError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ExperimentExists(StorageError):
    pass


def _sqlite_connect_hooks(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" below decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 60000")
        # Switching to (or confirming) WAL can report "locked" at once, without the busy
        # handler, while another process checkpoints or closes the log: retry briefly.
        _retry_locked(lambda: cursor.execute("PRAGMA journal_mode = WAL"))
        # In WAL mode NORMAL loses nothing on a process crash (only on power loss).
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Checkpoints (the only fsyncs under NORMAL) every ~40 MB of log instead of ~4 MB:
        # a busy tuner commits once per report.
        cursor.execute("PRAGMA wal_autocheckpoint = 10000")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        # Writers take the write lock up front: a deferred transaction that reads and then
        # writes fails at once with "database is locked" if another process wrote in between.
        # Pure readers (marked by _reading) never write, and WAL lets them read alongside.
        if connection.get_execution_options().get("rung_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _retry_locked(action: Any, attempts: int = 200, pause: float = 0.05) -> Any:
    import sqlite3

    for attempt in range(attempts):
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(pause)


class Storage:
    """A rung store at ``url`` (SQLAlchemy URL, ``.db`` path, ``":memory:"`` or None)."""

    def __init__(self, url: str | os.PathLike | None = None) -> None:
        self.url = normalize_url(url)
        if self.url.startswith("sqlite:///"):
            Path(self.url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        try:
            if self.url.startswith("sqlite"):
                # One in-memory database must be shared by every connection of this store.
                kwargs: dict[str, Any] = {"poolclass": sa.pool.StaticPool} if self.url == "sqlite://" else {}
                self.engine = sa.create_engine(self.url, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs)
                _sqlite_connect_hooks(self.engine)
            else:
                self.engine = sa.create_engine(self.url, pool_pre_ping=True)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
            raise StorageError(f"storage URL {self.url!r} is not usable: {exc}") from exc
        self._ensure_schema()

    def __repr__(self) -> str:
        return f"Storage({self.engine.url.render_as_string(hide_password=True)!r})"

    def _ensure_schema(self) -> None:
        if self._schema_version() is not None:
            self._check_version()
            return
        try:
            with self.engine.begin() as conn:
                schema.metadata.create_all(conn)
                row = conn.execute(sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")).first()
                if row is None:
                    conn.execute(sa.insert(schema.meta).values(key="schema_version", value=str(schema.SCHEMA_VERSION)))
                    return
        except sa.exc.OperationalError as exc:
            raise StorageError(f"cannot open the store at {self.url!r}: {exc.orig}") from exc
        self._check_version()

    def _reading(self) -> sa.Connection:
        """A connection for queries that never write (no write lock on SQLite)."""
        return self.engine.connect().execution_options(rung_read_only=True)

    def _schema_version(self) -> str | None:
        """The stored schema version, or None for a new store (read without a write lock)."""
        try:
            with self._reading() as conn:
                if not sa.inspect(conn).has_table(schema.meta.name):
                    return None
                return conn.execute(
                    sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
                ).scalar()
        except sa.exc.OperationalError as exc:
            raise StorageError(f"cannot open the store at {self.url!r}: {exc.orig}") from exc

    def _check_version(self) -> None:
        version = self._schema_version()
        if version != str(schema.SCHEMA_VERSION):
            raise SchemaVersionError(
                f"the store at {self.url!r} has schema version {version}, but this rung reads "
                f"version {schema.SCHEMA_VERSION}; use the rung version that wrote it or a new store"
            )

    # -- experiments -------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        *,
        metric: str,
        mode: str,
        seed: int | None,
        space: dict[str, Any],
        settings: dict[str, Any],
        spec: dict[str, Any] | None = None,
        workdir: str | None = None,
    ) -> int:
        now = time.time()
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    sa.insert(schema.experiments).values(
                        name=name, status="created", metric=metric, mode=mode, seed=seed,
                        space=json.dumps(space), spec=None if spec is None else json.dumps(spec),
                        settings=json.dumps(settings), workdir=workdir, created_at=now, updated_at=now,
                        elapsed=0.0, decision_time=0.0, stop_requested=False,
                    )
                )
                return int(result.inserted_primary_key[0])
        except sa.exc.IntegrityError:
            raise ExperimentExists(f"experiment {name!r} already exists in {self.url}") from None

    def get_experiment(self, name: str) -> dict[str, Any] | None:
        with self._reading() as conn:
            row = conn.execute(sa.select(schema.experiments).where(schema.experiments.c.name == name)).mappings().first()
        return None if row is None else _decode_experiment(dict(row))

    def require_experiment(self, name: str) -> dict[str, Any]:
        row = self.get_experiment(name)
        if row is None:
            raise ExperimentNotFound(f"no experiment named {name!r} in {self.url}")
        return row

    def list_experiments(self) -> list[dict[str, Any]]:
        """Every experiment with its trial counts and best value."""
        t = schema.trials
        with self._reading() as conn:
            rows = conn.execute(sa.select(schema.experiments).order_by(schema.experiments.c.id)).mappings().all()
            counts = conn.execute(
                sa.select(t.c.experiment_id, t.c.status, sa.func.count()).group_by(t.c.experiment_id, t.c.status)
            ).all()
        by_experiment: dict[int, dict[str, int]] = {}
        for experiment_id, status, count in counts:
            by_experiment.setdefault(experiment_id, {})[status] = count
        out = []
        for row in rows:
            item = _decode_experiment(dict(row))
            item["trial_counts"] = by_experiment.get(item["id"], {})
            out.append(item)
        return out

    def delete_experiment(self, name: str) -> None:
        experiment = self.require_experiment(name)
        with self.engine.begin() as conn:
            for table in (schema.reports, schema.events, schema.trials):
                conn.execute(sa.delete(table).where(table.c.experiment_id == experiment["id"]))
            conn.execute(sa.delete(schema.experiments).where(schema.experiments.c.id == experiment["id"]))

    def request_stop(self, name: str) -> None:
        experiment = self.require_experiment(name)
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(schema.experiments)
                .where(schema.experiments.c.id == experiment["id"])
                .values(stop_requested=True, updated_at=time.time())
            )

    def stop_requested(self, experiment_id: int) -> bool:
        with self._reading() as conn:
            return bool(
                conn.execute(
                    sa.select(schema.experiments.c.stop_requested).where(schema.experiments.c.id == experiment_id)
                ).scalar()
            )

    def claim(self, experiment_id: int) -> None:
        """Mark the experiment as run by this process; refuse if a live process runs it."""
        owner = f"{socket.gethostname()}:{os.getpid()}"
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(schema.experiments.c.name, schema.experiments.c.status, schema.experiments.c.owner)
                .where(schema.experiments.c.id == experiment_id)
            ).first()
            if row.status == "running" and row.owner and _owner_alive(row.owner):
                raise StorageError(f"experiment {row.name!r} is being run by process {row.owner}")
            conn.execute(
                sa.update(schema.experiments)
                .where(schema.experiments.c.id == experiment_id)
                .values(status="running", owner=owner, stop_requested=False, updated_at=time.time())
            )

    def finish(self, experiment_id: int, *, status: str, stop_reason: str, elapsed: float, decision_time: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(schema.experiments)
                .where(schema.experiments.c.id == experiment_id)
                .values(status=status, stop_reason=stop_reason, elapsed=elapsed, decision_time=decision_time,
                        owner=None, updated_at=time.time())
            )

    # -- reading back ------------------------------------------------------------------------
    def load_log(self, experiment_id: int) -> tuple[list[dict], list[dict], list[dict]]:
        """Trials, reports and events of an experiment, reports and events in log order."""
        with self._reading() as conn:
            trial_rows = conn.execute(
                sa.select(schema.trials).where(schema.trials.c.experiment_id == experiment_id).order_by(schema.trials.c.trial_id)
            ).mappings().all()
            report_rows = conn.execute(
                sa.select(schema.reports).where(schema.reports.c.experiment_id == experiment_id).order_by(schema.reports.c.seq)
            ).mappings().all()
            event_rows = conn.execute(
                sa.select(schema.events).where(schema.events.c.experiment_id == experiment_id).order_by(schema.events.c.seq)
            ).mappings().all()
        trials = _decode_json(trial_rows, config=None, last_metrics={})
        reports = _decode_json(report_rows, metrics=None, details={})
        events = _decode_json(event_rows, payload=None)
        return trials, reports, events

    def dispose(self) -> None:
        self.engine.dispose()


def _decode_json(rows: Any, **columns: Any) -> list[dict[str, Any]]:
    """Rows as dicts with the named JSON text columns parsed; an empty column gives its default
    (None as the default means the column is never empty)."""
    decoded = []
    for row in rows:
        item = dict(row)
        for column, default in columns.items():
            text = item[column]
            item[column] = json.loads(text) if (text or default is None) else default
        decoded.append(item)
    return decoded


def _decode_experiment(row: dict[str, Any]) -> dict[str, Any]:
    row["space"] = json.loads(row["space"])
    row["settings"] = json.loads(row["settings"])
    row["spec"] = json.loads(row["spec"]) if row["spec"] else None
    return row


def _owner_alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return True  # cannot check another machine: assume it is alive
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True
