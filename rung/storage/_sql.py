"""The SQL store: SQLite (the default, a file under ``$RUNG_HOME``) or PostgreSQL by URL.

One :class:`SQLStorage` per database URL; tables in ``_schema.py``, created or migrated on
open (``_migrations.py``), engines and SQLite's locking in ``_engine.py``. A tuner writes
through a :class:`~rung.storage.SQLRecorder`.
"""

from __future__ import annotations

import os
import time
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from .._objective import Objective
from . import _codec as codec
from . import _schema as schema
from . import _sql_read as read
from ._base import Storage, check_limit
from ._engine import create_engine, reading
from ._errors import CorruptRecord, ExperimentExists, ExperimentNotFound, StorageError
from ._migrations import ensure_schema
from ._owner import owner_alive, this_process
from ._records import BestTrials, DeferredLog, EventRecord, ExperimentRecord, ExperimentSummary, LogSlice, TrialRecord
from ._recorder import SQLRecorder
from ._urls import normalize_url, shown_url


class SQLStorage(Storage):
    """A rung store at ``url``: a SQLAlchemy URL, a ``.db`` path, ``":memory:"`` (an
    in-memory SQLite database) or None (``$RUNG_STORAGE``, else ``$RUNG_HOME/rung.db``)."""

    def __init__(self, url: str | os.PathLike[str] | None = None) -> None:
        full_url = normalize_url(url)
        self.engine = create_engine(full_url)
        self.url = shown_url(full_url)  # for messages: never the password
        ensure_schema(self.engine, self.url)

    @property
    def _shown_url(self) -> str:
        """The URL for messages, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"SQLStorage({self._shown_url!r})"

    def _reading(self) -> sa.Connection:
        return reading(self.engine)

    # -- experiments -------------------------------------------------------------------------
    def create_experiment(
        self, name: str, *, metric: str, mode: str, seed: int | None, space: dict[str, Any],
        settings: dict[str, Any], spec: dict[str, Any] | None = None, workdir: str | None = None,
    ) -> int:
        now = time.time()
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    sa.insert(schema.experiments).values(
                        name=name, status="created", metric=metric, mode=mode, seed=seed,
                        space=codec.dumps(space), spec=None if spec is None else codec.dumps(spec),
                        settings=codec.dumps(settings), workdir=workdir, created_at=now, updated_at=now,
                        elapsed=0.0, decision_time=0.0, stop_requested=False,
                    )
                )
                key = result.inserted_primary_key
                assert key is not None
                return int(key[0])
        except sa.exc.IntegrityError:
            raise ExperimentExists(f"experiment {name!r} already exists in {self.url}") from None

    def get_experiment(self, name: str) -> ExperimentRecord | None:
        with self._reading() as conn:
            row = conn.execute(sa.select(schema.experiments).where(schema.experiments.c.name == name)).mappings().first()
        if row is None:
            return None
        try:
            return codec.experiment_record(row)
        except CorruptRecord as err:
            raise CorruptRecord(f"{err} in {self._shown_url}") from None

    def list_experiments(self) -> list[ExperimentSummary]:
        e, t = schema.experiments, schema.trials
        columns = [e.c.id, e.c.name, e.c.status, e.c.metric, e.c.mode, e.c.created_at, e.c.updated_at,
                   e.c.elapsed, e.c.stop_reason, e.c.owner]
        with self._reading() as conn:
            rows = conn.execute(sa.select(*columns).order_by(e.c.id)).mappings().all()
            counts = conn.execute(
                sa.select(t.c.experiment_id, t.c.status, sa.func.count()).group_by(t.c.experiment_id, t.c.status)
            ).all()
            extremes = conn.execute(
                sa.select(t.c.experiment_id, sa.func.min(t.c.metric_value), sa.func.max(t.c.metric_value))
                .where(t.c.status != "failed", t.c.metric_value.is_not(None))
                .group_by(t.c.experiment_id)
            ).all()
        by_experiment: dict[int, dict[str, int]] = {}
        for experiment_id, status, count in counts:
            by_experiment.setdefault(experiment_id, {})[status] = int(count)
        ranges = {experiment_id: (low, high) for experiment_id, low, high in extremes}
        return [
            codec.experiment_summary(row, by_experiment.get(row["id"], {}),
                                     Objective(row["metric"], row["mode"]).best(ranges.get(row["id"], ())))
            for row in rows
        ]

    def unreadable_experiments(self) -> dict[str, str]:
        e = schema.experiments
        with self._reading() as conn:
            rows = conn.execute(sa.select(e).order_by(e.c.id)).mappings().all()
        problems = {row["name"]: codec.experiment_problem(row) for row in rows}
        return {name: f"{problem} in {self._shown_url}" for name, problem in problems.items() if problem}

    def _id_of(self, name: str) -> int:
        """The experiment's id, read without decoding its row (so that an experiment with a
        corrupt row can still be stopped or deleted); ExperimentNotFound if there is none."""
        with self._reading() as conn:
            found = conn.execute(sa.select(schema.experiments.c.id).where(schema.experiments.c.name == name)).scalar()
        if found is None:
            raise ExperimentNotFound(f"no experiment named {name!r} in {self.url}")
        return int(found)

    def delete_experiment(self, name: str) -> None:
        experiment_id = self._id_of(name)
        with self.engine.begin() as conn:
            for table in (schema.reports, schema.events, schema.trials):
                conn.execute(sa.delete(table).where(table.c.experiment_id == experiment_id))
            conn.execute(sa.delete(schema.experiments).where(schema.experiments.c.id == experiment_id))

    # -- running -----------------------------------------------------------------------------
    def request_stop(self, name: str) -> None:
        experiment_id = self._id_of(name)
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(schema.experiments)
                .where(schema.experiments.c.id == experiment_id)
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
        """Atomic: the row is locked while it is checked (``FOR UPDATE`` on PostgreSQL, the
        ``BEGIN IMMEDIATE`` write lock on SQLite), and the update only applies if the owner
        and status are still those that were checked (a compare-and-swap), so of two
        simultaneous claims exactly one succeeds. A dead owner on this host is taken over."""
        e = schema.experiments
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(e.c.name, e.c.status, e.c.owner).where(e.c.id == experiment_id).with_for_update()
            ).first()
            if row is None:
                raise StorageError(f"no experiment with id {experiment_id} in {self.url}")
            if row.status == "running" and row.owner and owner_alive(row.owner):
                raise StorageError(f"experiment {row.name!r} is being run by process {row.owner}")
            same_owner = e.c.owner.is_(None) if row.owner is None else e.c.owner == row.owner
            result = conn.execute(
                sa.update(e).where(e.c.id == experiment_id, e.c.status == row.status, same_owner)
                .values(status="running", owner=this_process(), stop_requested=False, updated_at=time.time())
            )
            if result.rowcount != 1:
                current = conn.execute(sa.select(e.c.owner).where(e.c.id == experiment_id)).scalar()
                raise StorageError(f"experiment {row.name!r} was claimed at the same time by process {current}")

    def finish(self, experiment_id: int, *, status: str, stop_reason: str, elapsed: float, decision_time: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(schema.experiments)
                .where(schema.experiments.c.id == experiment_id)
                .values(status=status, stop_reason=stop_reason, elapsed=elapsed, decision_time=decision_time,
                        owner=None, updated_at=time.time())
            )

    # -- the log -----------------------------------------------------------------------------
    def read_log(self, experiment_id: int, after_seq: int = -1) -> LogSlice:
        t = schema.trials
        with self._reading() as conn:  # one transaction: one snapshot
            # Entries first: any trial they name has its row by then (a row is written with or
            # before its trial's first event).
            report_rows = read.fetch_all(conn, read.report_query(experiment_id, after_seq))
            event_rows = read.fetch_all(conn, read.event_query(experiment_id, after_seq))
            query = read.trial_query(experiment_id)
            touched = sorted({row[1] for row in report_rows} | {row[2] for row in event_rows})
            if after_seq < 0:
                trial_rows: list[Any] = list(read.fetch_all(conn, query))
            else:
                trial_rows = []
                for part in read.chunks(touched):  # bounded IN lists
                    trial_rows += conn.execute(query.where(t.c.trial_id.in_(part))).all()
        return self._log_slice(experiment_id, trial_rows, report_rows, event_rows, after_seq)

    def read_log_page(self, experiment_id: int, after_seq: int = -1, limit: int = 10_000) -> LogSlice:
        check_limit(limit)
        t = schema.trials
        with self._reading() as conn:  # one snapshot
            report_rows = conn.execute(read.report_query(experiment_id, after_seq).limit(limit)).all()
            event_rows = conn.execute(read.event_query(experiment_id, after_seq).limit(limit)).all()
            # The first `limit` of both tables together: cut at the limit-th smallest seq.
            seqs = sorted([row[0] for row in report_rows] + [row[0] for row in event_rows])[:limit]
            last = seqs[-1] if seqs else after_seq
            report_rows = [row for row in report_rows if row[0] <= last]
            event_rows = [row for row in event_rows if row[0] <= last]
            touched = sorted({row[1] for row in report_rows} | {row[2] for row in event_rows})
            trial_rows: list[Any] = []
            for part in read.chunks(touched):  # bounded IN lists
                trial_rows += conn.execute(read.trial_query(experiment_id).where(t.c.trial_id.in_(part))).all()
        log = self._log_slice(experiment_id, trial_rows, report_rows, event_rows, after_seq)
        return LogSlice(trials=log.trials, entries=log.entries, last_seq=last)

    def read_trials(self, experiment_id: int, after_trial: int = -1, limit: int | None = None) -> list[TrialRecord]:
        query = read.trial_query(experiment_id).where(schema.trials.c.trial_id > after_trial)
        if limit is not None:
            check_limit(limit)
            query = query.limit(limit)
        with self._reading() as conn:
            rows = conn.execute(query).all()
        try:
            return read.trial_records(rows)
        except CorruptRecord as err:
            raise CorruptRecord(f"experiment {self._name_of(experiment_id)!r} in {self._shown_url}: {err}") from None

    def read_log_deferred(self, experiment_id: int) -> DeferredLog:
        with self._reading() as conn:  # one snapshot, as read_log
            report_rows = read.fetch_all(conn, read.report_query(experiment_id))
            event_rows = read.fetch_all(conn, read.event_query(experiment_id))
            trial_rows = read.fetch_all(conn, read.trial_query(experiment_id))
        seqs = [rows[-1][0] for rows in (report_rows, event_rows) if rows]
        times = [max(map(itemgetter(3), rows)) for rows in (report_rows, event_rows) if rows]
        try:
            reports, trials = read.report_records(report_rows), read.trial_records(trial_rows)
            read.check_events(event_rows)  # a corrupt row fails the read, as with read_log
        except CorruptRecord as err:
            raise CorruptRecord(f"experiment {self._name_of(experiment_id)!r} in {self._shown_url}: {err}") from None

        def events() -> list[EventRecord]:
            try:
                return read.event_records(event_rows)
            except CorruptRecord as err:
                raise CorruptRecord(f"experiment {self._name_of(experiment_id)!r} in {self._shown_url}: {err}") from None

        return DeferredLog(trials, reports, max(seqs, default=-1), max([0.0, *times]), events)

    def read_best_trials(self, experiment_id: int, mode: str, limit: int) -> BestTrials:
        check_limit(limit)
        t, r, ev = schema.trials, schema.reports, schema.events
        value = t.c.metric_value.asc() if mode == "min" else t.c.metric_value.desc()
        mine = t.c.experiment_id == experiment_id
        with self._reading() as conn:  # one snapshot
            counts = {status: int(n) for status, n in conn.execute(
                sa.select(t.c.status, sa.func.count()).where(mine).group_by(t.c.status)).all()}
            ranked = conn.execute(
                sa.select(t.c.trial_id).where(mine, t.c.status.not_in(("failed", "running")),
                                             t.c.metric_value.is_not(None))
                .order_by(value, t.c.trial_id).limit(limit)).scalars().all()
            running = conn.execute(sa.select(t.c.trial_id).where(mine, t.c.status == "running")).scalars().all()
            ends = [conn.execute(sa.select(sa.func.max(table.c.seq), sa.func.max(table.c.time))
                                 .where(table.c.experiment_id == experiment_id)).one() for table in (r, ev)]
            chosen = sorted(set(ranked) | set(running))
            trial_rows: list[Any] = []
            report_rows: list[Any] = []
            event_rows: list[Any] = []
            for part in read.chunks(chosen):
                trial_rows += conn.execute(read.trial_query(experiment_id).where(t.c.trial_id.in_(part))).all()
                report_rows += conn.execute(read.report_query(experiment_id).where(r.c.trial_id.in_(part))).all()
                event_rows += conn.execute(read.event_query(experiment_id).where(ev.c.trial_id.in_(part))).all()
        trial_rows.sort(key=lambda row: row[0])
        report_rows.sort(key=lambda row: row[0])
        event_rows.sort(key=lambda row: row[0])
        log = self._log_slice(experiment_id, trial_rows, report_rows, event_rows, -1)
        last_seq = max((seq for seq, _ in ends if seq is not None), default=-1)
        last_time = max([0.0, *(latest for _, latest in ends if latest is not None)])
        return BestTrials(counts, last_time, LogSlice(trials=log.trials, entries=log.entries, last_seq=last_seq))

    def _log_slice(self, experiment_id: int, trial_rows: Any, report_rows: Any, event_rows: Any,
                   after_seq: int) -> LogSlice:
        """The records of rows read by :meth:`read_log` (CorruptRecord naming the experiment,
        the store and the row of a column that is not JSON)."""
        try:
            entries = read.merged(read.report_records(report_rows), read.event_records(event_rows))
            trials = read.trial_records(trial_rows)
        except CorruptRecord as err:
            raise CorruptRecord(f"experiment {self._name_of(experiment_id)!r} in {self._shown_url}: {err}") from None
        return LogSlice(trials=trials, entries=entries, last_seq=entries[-1].seq if entries else after_seq)

    def _name_of(self, experiment_id: int) -> str | None:
        with self._reading() as conn:
            return conn.execute(sa.select(schema.experiments.c.name)
                                .where(schema.experiments.c.id == experiment_id)).scalar()

    def recorder(self, experiment_id: int) -> SQLRecorder:
        return SQLRecorder(self.engine, experiment_id)

    def dispose(self) -> None:
        self.engine.dispose()
