"""Reading many trial rows and log entries from the SQL store, column by column.

A large experiment (100,000 trials: 100,000 rows, 100,000 reports, 200,000 events) is read
in one pass per table: the query names the columns the records need (not the table, and
no mapping per row), the JSON columns are decoded as columns
(:func:`~rung.storage._codec.loads_column`), and each record is built from positional
values. The records are the same, value for value, as decoding row by row gives
(``_codec.trial_record`` and friends, which the row-at-a-time paths keep using).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Callable, Sequence

import sqlalchemy as sa

from . import _codec as codec
from . import _schema as schema
from ._records import EventRecord, LogEntry, ReportRecord, TrialRecord

#: Trial ids per ``IN (...)`` list: far below every database's limit on bound parameters.
IN_CHUNK = 500

_T, _R, _E = schema.trials, schema.reports, schema.events
_TRIAL_COLUMNS = (_T.c.trial_id, _T.c.config, _T.c.status, _T.c.created_at, _T.c.started_at, _T.c.ended_at,
                  _T.c.run_time, _T.c.n_reports, _T.c.n_starts, _T.c.metric_value, _T.c.last_metrics,
                  _T.c.resource, _T.c.end_reason, _T.c.error, _T.c.traceback)
_REPORT_COLUMNS = (_R.c.seq, _R.c.trial_id, _R.c.step, _R.c.time, _R.c.metrics, _R.c.action, _R.c.reason,
                   _R.c.details)
_EVENT_COLUMNS = (_E.c.seq, _E.c.kind, _E.c.trial_id, _E.c.time, _E.c.payload)


def chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    """``ids`` in pieces of at most :data:`IN_CHUNK`, for bounded ``IN`` lists."""
    return [ids[start:start + IN_CHUNK] for start in range(0, len(ids), IN_CHUNK)]


def trial_query(experiment_id: int) -> sa.Select[Any]:
    """Every column a :class:`TrialRecord` needs, of the experiment's rows, in trial id order
    (callers add conditions and limits)."""
    return sa.select(*_TRIAL_COLUMNS).where(_T.c.experiment_id == experiment_id).order_by(_T.c.trial_id)


def report_query(experiment_id: int, after_seq: int = -1) -> sa.Select[Any]:
    return (sa.select(*_REPORT_COLUMNS).where(_R.c.experiment_id == experiment_id, _R.c.seq > after_seq)
            .order_by(_R.c.seq))


def event_query(experiment_id: int, after_seq: int = -1) -> sa.Select[Any]:
    return (sa.select(*_EVENT_COLUMNS).where(_E.c.experiment_id == experiment_id, _E.c.seq > after_seq)
            .order_by(_E.c.seq))


def fetch_all(conn: sa.Connection, query: sa.Select[Any]) -> Sequence[Sequence[Any]]:
    """All rows of ``query``, as ``conn.execute(query).all()`` gives them, value for value.

    When SQLAlchemy would process none of the selected values (SQLite: its integers, floats
    and texts are returned as the driver gives them), the driver's tuples are taken as they
    are, which skips building one ``Row`` per row (a few tenths of a second for the 400,000
    rows of a 100,000-trial log). Otherwise, the rows of ``Result.all()``.
    """
    result = conn.execute(query)
    if conn.dialect.name != "sqlite" or not _unprocessed(conn.dialect, query):
        return result.all()
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _unprocessed(dialect: sa.Dialect, query: sa.Select[Any]) -> bool:
    """Whether no selected column's type converts the values the driver returns."""
    return all(column.type.dialect_impl(dialect).result_processor(dialect, None) is None
               for column in query.selected_columns)


def trial_records(rows: Sequence[Sequence[Any]]) -> list[TrialRecord]:
    """Rows of :func:`trial_query` as records (CorruptRecord naming the row of a bad column)."""
    def where(i: int) -> str:
        return f"trial {rows[i][0]} (table rung_trials)"

    configs = codec.loads_column([row[1] for row in rows], "config", where)
    last_metrics = codec.loads_column([row[10] for row in rows], "last_metrics", where, dict)
    records: list[TrialRecord] = []
    append = records.append
    for (trial_id, _, status, created_at, started_at, ended_at, run_time, n_reports, n_starts, metric_value,
         _, resource, end_reason, error, traceback), config, metrics in zip(rows, configs, last_metrics):
        record = _new(TrialRecord)
        _fill(record, "__dict__", {
            "trial_id": trial_id, "config": config, "status": status, "created_at": created_at,
            "started_at": started_at, "ended_at": ended_at, "run_time": run_time or 0.0,
            "n_reports": n_reports or 0, "n_starts": n_starts or 0, "metric_value": metric_value,
            "last_metrics": metrics, "resource": resource, "end_reason": end_reason, "error": error,
            "traceback": traceback})
        append(record)
    return records


def report_records(rows: Sequence[Sequence[Any]]) -> list[ReportRecord]:
    def where(i: int) -> str:
        return f"report seq {rows[i][0]} of trial {rows[i][1]} (table rung_reports)"

    metrics = codec.loads_column([row[4] for row in rows], "metrics", where)
    details = codec.loads_column([row[7] for row in rows], "details", where, dict)
    records: list[ReportRecord] = []
    append = records.append
    for (seq, trial_id, step, time, _, action, reason, _), values, detail in zip(rows, metrics, details):
        record = _new(ReportRecord)
        _fill(record, "__dict__", {"seq": seq, "trial_id": trial_id, "step": step, "time": time, "metrics": values,
                                   "action": action, "reason": reason, "details": detail})
        append(record)
    return records


# The records are frozen dataclasses, whose ``__init__`` sets each field through
# ``object.__setattr__``: half the cost of turning 100,000 rows into records. The bulk reads
# above build each one as an instance given its whole attribute dict at once: the same
# record (equal, same repr, pickled alike), since these classes have no ``__post_init__``
# and no slots. A field added to a record and not here fails the tests that compare these
# reads with the row-by-row decoding (``_codec``), which uses the constructor.
_new = object.__new__
_fill = object.__setattr__


def _event_where(rows: Sequence[Sequence[Any]]) -> Callable[[int], str]:
    return lambda i: f"event seq {rows[i][0]} of trial {rows[i][2]} (table rung_events)"


def check_events(rows: Sequence[Sequence[Any]]) -> None:
    """CorruptRecord, as :func:`event_records` would raise it, if a payload is not JSON;
    cheaper than decoding them (a few payloads repeat over a log)."""
    codec.check_column([row[4] for row in rows], "payload", _event_where(rows))


def event_records(rows: Sequence[Sequence[Any]]) -> list[EventRecord]:
    payloads = codec.loads_column([row[4] for row in rows], "payload", _event_where(rows))
    return [EventRecord(seq, kind, trial_id, time, payload)
            for (seq, kind, trial_id, time, _), payload in zip(rows, payloads)]


def merged(reports: list[ReportRecord], events: list[EventRecord]) -> list[LogEntry]:
    """Reports and events (each in seq order) as one log in seq order. Sorting the two
    sorted runs one after the other is a single merge for Python's sort."""
    entries: list[LogEntry] = [*reports, *events]
    entries.sort(key=attrgetter("seq"))
    return entries
