"""Buffered, crash-safe writes of one running experiment to a SQL store.

The tuner appends log entries and saves trial rows as things happen, and calls
:meth:`SQLRecorder.flush` before it carries out any decision that depends on them
(answering a report, launching a trial): everything buffered goes to the database in one
transaction. So a report the tuner accepted is committed before the trial hears
"continue", and writes that arrive together (several workers' reports in one wake-up) share
a single commit.
"""

from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa

from ..trial._record import Trial
from . import _codec as codec
from . import _schema as schema
from ._base import Recorder
from ._records import LogEntry, ReportRecord


class _DriverStatement:
    """A SQLAlchemy statement compiled once for the engine's driver and run on its cursor."""

    def __init__(self, statement: sa.ClauseElement, dialect: sa.Dialect) -> None:
        compiled: Any = statement.compile(dialect=dialect)  # SQLCompiler: positional, positiontup
        self.sql = compiled.string
        self._order = list(compiled.positiontup) if compiled.positional and compiled.positiontup else None

    def parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        if self._order is None:
            return rows
        return [tuple(row[name] for name in self._order) for row in rows]


class SQLRecorder(Recorder):
    """Writes one experiment's log; owned by a single tuner."""

    def __init__(self, engine: sa.Engine, experiment_id: int) -> None:
        self.experiment_id = experiment_id
        self._new_trials: dict[int, dict[str, Any]] = {}
        self._trial_updates: dict[int, dict[str, Any]] = {}
        self._reports: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._known_trials: set[int] = set()
        self.n_commits = 0
        # One connection for the experiment's life, and statements compiled once for its
        # driver: per report, SQLAlchemy's execution machinery would cost more than SQLite's
        # commit itself.
        self._conn = engine.connect()
        self._dbapi: Any = self._conn.connection.dbapi_connection
        dialect = engine.dialect
        self._is_sqlite = dialect.name == "sqlite"
        t = schema.trials
        self._insert_trials = _DriverStatement(sa.insert(t), dialect)
        self._insert_reports = _DriverStatement(sa.insert(schema.reports), dialect)
        self._insert_events = _DriverStatement(sa.insert(schema.events), dialect)
        self._update_trial = _DriverStatement(
            sa.update(t)
            .where(t.c.experiment_id == sa.bindparam("b_experiment_id"), t.c.trial_id == sa.bindparam("b_trial_id"))
            .values({name: sa.bindparam(f"b_{name}") for name in codec.TRIAL_FIELDS}),
            dialect,
        )

    def mark_known(self, trial_ids: Iterable[int]) -> None:
        self._known_trials.update(trial_ids)

    def append(self, entry: LogEntry) -> None:
        if isinstance(entry, ReportRecord):
            self._reports.append(codec.report_row(self.experiment_id, entry))
        else:
            self._events.append(codec.event_row(self.experiment_id, entry))

    def save_trial(self, trial: Trial) -> None:
        row = codec.trial_row(trial)
        if trial.trial_id in self._known_trials:
            self._trial_updates[trial.trial_id] = row
        else:
            self._new_trials[trial.trial_id] = {"experiment_id": self.experiment_id, "trial_id": trial.trial_id, **row}

    @property
    def dirty(self) -> bool:
        return bool(self._new_trials or self._trial_updates or self._reports or self._events)

    def flush(self) -> None:
        if not self.dirty:
            return
        batches = [
            (self._insert_trials, list(self._new_trials.values())),
            (self._update_trial, [
                {"b_experiment_id": self.experiment_id, "b_trial_id": trial_id,
                 **{f"b_{k}": v for k, v in row.items()}}
                for trial_id, row in self._trial_updates.items()
            ]),
            (self._insert_reports, self._reports),
            (self._insert_events, self._events),
        ]
        cursor = self._dbapi.cursor()
        try:
            if self._is_sqlite:
                cursor.execute("BEGIN IMMEDIATE")  # the connection runs in autocommit mode
            for statement, rows in batches:
                if rows:
                    cursor.executemany(statement.sql, statement.parameters(rows))
            if self._is_sqlite:
                cursor.execute("COMMIT")
            else:
                self._dbapi.commit()
        except BaseException:
            if self._is_sqlite:
                if self._dbapi.in_transaction:
                    cursor.execute("ROLLBACK")
            else:
                self._dbapi.rollback()
            raise
        finally:
            cursor.close()
        self._known_trials.update(self._new_trials)
        self._new_trials.clear()
        self._trial_updates.clear()
        self._reports.clear()
        self._events.clear()
        self.n_commits += 1

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._conn.close()
