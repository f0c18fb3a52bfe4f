"""Buffered, crash-safe writes of one running experiment.

The tuner calls the ``record_*`` methods as things happen and :meth:`Recorder.flush` before
it carries out any decision that depends on them (answering a report, launching a trial):
everything buffered goes to the database in one transaction. So a report the tuner
accepted is committed before the trial hears "continue", and writes that arrive together
(several workers' reports in one wake-up) share a single commit.
"""

from __future__ import annotations

import json
import math
from typing import Any

import sqlalchemy as sa

from ..trial._record import Trial
from . import _schema as schema
from ._storage import Storage


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_jsonable, allow_nan=True)


def _jsonable(value: Any) -> Any:
    # numpy scalars and other number-likes reported by trial code
    for cast in (int, float):
        try:
            result = cast(value)
        except (TypeError, ValueError):
            continue
        if cast is int and result != value:
            continue
        return result
    return repr(value)


_TRIAL_FIELDS = (
    "config", "status", "created_at", "started_at", "ended_at", "run_time", "n_reports", "n_starts",
    "metric_value", "last_metrics", "resource", "end_reason", "error", "traceback",
)


class _DriverStatement:
    """A SQLAlchemy statement compiled once for the engine's driver and run on its cursor."""

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self._order = list(compiled.positiontup) if compiled.positional else None

    def parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        if self._order is None:
            return rows
        return [tuple(row[name] for name in self._order) for row in rows]


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


class Recorder:
    """Writes one experiment's log; owned by a single tuner."""

    def __init__(self, storage: Storage, experiment_id: int, next_seq: int = 0) -> None:
        self.storage = storage
        self.experiment_id = experiment_id
        self.next_seq = next_seq
        self._new_trials: dict[int, dict[str, Any]] = {}
        self._trial_updates: dict[int, dict[str, Any]] = {}
        self._reports: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._known_trials: set[int] = set()
        self.n_commits = 0
        # One connection for the experiment's life, and statements compiled once for its
        # driver: per report, SQLAlchemy's execution machinery would cost more than SQLite's
        # commit itself.
        self._conn = storage.engine.connect()
        self._dbapi = self._conn.connection.dbapi_connection
        self._is_sqlite = storage.engine.dialect.name == "sqlite"
        dialect = storage.engine.dialect
        t = schema.trials
        self._insert_trials = _DriverStatement(sa.insert(t), dialect)
        self._insert_reports = _DriverStatement(sa.insert(schema.reports), dialect)
        self._insert_events = _DriverStatement(sa.insert(schema.events), dialect)
        self._update_trial = _DriverStatement(
            sa.update(t)
            .where(t.c.experiment_id == sa.bindparam("b_experiment_id"), t.c.trial_id == sa.bindparam("b_trial_id"))
            .values({name: sa.bindparam(f"b_{name}") for name in _TRIAL_FIELDS}),
            dialect,
        )

    def mark_known(self, trial_ids: set[int]) -> None:
        """Trials already in the store (resume): later writes update them."""
        self._known_trials |= trial_ids

    def _seq(self) -> int:
        seq = self.next_seq
        self.next_seq += 1
        return seq

    # -- what the tuner records --------------------------------------------------------------
    def record_start(self, trial: Trial, kind: str, now: float, payload: dict[str, Any]) -> None:
        """A trial was started (kind "start") or resumed ("resume")."""
        self._events.append(
            {"experiment_id": self.experiment_id, "seq": self._seq(), "kind": kind, "trial_id": trial.trial_id,
             "time": now, "payload": _dumps(payload)}
        )
        self._stage_trial(trial)

    def record_report(self, trial_id: int, step: int, now: float, metrics: dict[str, Any],
                      action: str | None, reason: str | None, details: dict[str, Any] | None) -> None:
        self._reports.append(
            {"experiment_id": self.experiment_id, "seq": self._seq(), "trial_id": trial_id, "step": step,
             "time": now, "metrics": _dumps(metrics), "action": action, "reason": reason or None,
             "details": _dumps(details) if details else None}
        )

    def record_end(self, trial: Trial, now: float, abandoned: bool = False) -> None:
        """A trial left its worker (or, ``abandoned``, a paused trial was given up on)."""
        payload: dict[str, Any] = {"status": trial.status.value}
        if abandoned:
            payload["abandoned"] = True
        self._events.append(
            {"experiment_id": self.experiment_id, "seq": self._seq(), "kind": "end", "trial_id": trial.trial_id,
             "time": now, "payload": _dumps(payload)}
        )
        self._stage_trial(trial)

    def _stage_trial(self, trial: Trial) -> None:
        row = {
            "config": _dumps(trial.config),
            "status": trial.status.value,
            "created_at": trial.created_at,
            "started_at": trial.started_at,
            "ended_at": trial.ended_at,
            "run_time": trial.run_time,
            "n_reports": trial.n_reports,
            "n_starts": trial.n_starts,
            "metric_value": _finite_or_none(trial.metric_value),
            "last_metrics": _dumps(trial.last_metrics) if trial.last_metrics else None,
            "resource": trial.resource,
            "end_reason": trial.end_reason,
            "error": trial.error,
            "traceback": trial.traceback,
        }
        if trial.trial_id in self._known_trials:
            self._trial_updates[trial.trial_id] = row
        else:
            self._new_trials[trial.trial_id] = {"experiment_id": self.experiment_id, "trial_id": trial.trial_id, **row}

    @property
    def dirty(self) -> bool:
        return bool(self._new_trials or self._trial_updates or self._reports or self._events)

    def flush(self) -> None:
        """Commit everything recorded so far in one transaction."""
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
        self.flush()
        self._conn.close()
