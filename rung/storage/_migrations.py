"""Schema versions: create a new store, bring an older one up to date, refuse a newer one.

The version lives in ``rung_meta`` (key ``schema_version``). :data:`MIGRATIONS` lists the
steps ``(from_version, to_version, function(connection))``; opening a store at version *v*
runs the steps from *v* to :data:`~rung.storage._schema.SCHEMA_VERSION` in order, in one
transaction. That transaction is serialized (``pg_advisory_xact_lock`` on PostgreSQL, the
``BEGIN IMMEDIATE`` write lock on SQLite) and reads the version again inside the lock, so
processes opening the same store at once neither create nor migrate it twice.

To change the schema: edit ``_schema.py``, bump ``SCHEMA_VERSION``, and append a step here
that turns a store of the previous version into the new one (with a test that opens a store
made with the previous version's DDL).
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from . import _schema as schema
from ._engine import reading
from ._errors import SchemaVersionError, StorageError

Migration = tuple[int, int, Callable[[sa.Connection], None]]

_VERSION_KEY = "schema_version"
# Any fixed 64-bit number; taken by every rung process that creates or migrates a store.
_PG_LOCK_KEY = 0x72756E67  # "rung"


def _add_trials_summary_index(conn: sa.Connection) -> None:
    schema.trials_summary_index.create(conn, checkfirst=True)


MIGRATIONS: list[Migration] = [
    (1, 2, _add_trials_summary_index),
]


def plan(current: int, target: int, migrations: list[Migration]) -> list[Migration]:
    """The steps from ``current`` to ``target``, in order; SchemaVersionError if none lead there."""
    steps = []
    version = current
    by_start = {step[0]: step for step in migrations}
    while version < target:
        step = by_start.get(version)
        if step is None or step[1] <= version:
            raise SchemaVersionError(f"no migration from schema version {version} (towards {target})")
        steps.append(step)
        version = step[1]
    if version != target:
        raise SchemaVersionError(f"the migrations from schema version {current} end at {version}, not {target}")
    return steps


def stored_version(conn: sa.Connection) -> int | None:
    """The store's schema version, or None for a store without rung's tables yet."""
    if not sa.inspect(conn).has_table(schema.meta.name):
        return None
    text = conn.execute(sa.select(schema.meta.c.value).where(schema.meta.c.key == _VERSION_KEY)).scalar()
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise SchemaVersionError(f"the store's schema version {text!r} is not a number") from None


def refuse_newer(version: int, url: str, target: int) -> None:
    if version > target:
        raise SchemaVersionError(
            f"the store at {url!r} has schema version {version}, but this rung reads version {target}; "
            "use the rung version that wrote it (or a newer one) or a new store"
        )


def ensure_schema(engine: sa.Engine, url: str, *, target: int = schema.SCHEMA_VERSION,
                  migrations: list[Migration] = MIGRATIONS) -> None:
    """Make the store at ``engine`` current: create it, migrate it, or refuse it."""
    try:
        with reading(engine) as conn:
            version = stored_version(conn)
        if version is not None:
            refuse_newer(version, url, target)
            if version == target:
                return  # the usual case: no write lock taken
        with engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite (see _engine.py)
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            version = stored_version(conn)  # again: another process may have got here first
            if version is None:
                schema.metadata.create_all(conn)
                conn.execute(sa.insert(schema.meta).values(key=_VERSION_KEY, value=str(target)))
                return
            refuse_newer(version, url, target)
            for _, to_version, step in plan(version, target, migrations):
                step(conn)
                conn.execute(sa.update(schema.meta).where(schema.meta.c.key == _VERSION_KEY)
                             .values(value=str(to_version)))
    except sa.exc.DatabaseError as exc:  # OperationalError included
        shown = engine.url.render_as_string(hide_password=True)
        if engine.dialect.name == "sqlite" and "not a database" in str(exc.orig):
            raise StorageError(f"the file {engine.url.database!r} is not a SQLite database, so not a rung store "
                               f"(give another path with --storage or storage=)") from None
        raise StorageError(f"cannot open the store at {shown!r}: {exc.orig}") from exc
