"""Records to rows and back: the one place that knows how values are written.

JSON-valued fields are stored as text (the same in SQLite, PostgreSQL and memory), with
NaN and infinities kept (``allow_nan``) and numpy scalars turned into plain numbers. Empty
``last_metrics`` and ``details`` are stored as NULL and read back as ``{}``; an empty
``reason`` as NULL; a non-finite ``metric_value`` of a trial row as NULL.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Mapping, Sequence

from ..trial._record import Trial
from ._errors import CorruptRecord
from ._records import EventRecord, ExperimentRecord, ExperimentSummary, ReportRecord, TrialRecord

TRIAL_FIELDS = (
    "config", "status", "created_at", "started_at", "ended_at", "run_time", "n_reports", "n_starts",
    "metric_value", "last_metrics", "resource", "end_reason", "error", "traceback",
)


def dumps(value: Any) -> str:
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


def _loads(row: Mapping[Any, Any], column: str, where: str) -> Any:
    """The JSON value of ``row[column]``; CorruptRecord naming ``where`` (table and row) and
    the column if it is not valid JSON."""
    text = row[column]
    try:
        return json.loads(text)
    except (TypeError, ValueError) as err:  # JSONDecodeError is a ValueError
        raise CorruptRecord(f"{where}: column {column!r} is not valid JSON ({err}); "
                            f"it starts {str(text)[:40]!r}") from None


def _loads_or(row: Mapping[Any, Any], column: str, where: str, default: Any) -> Any:
    return _loads(row, column, where) if row[column] else default


# The C scanner behind ``json.loads``, called directly: one call per text instead of the three
# Python layers around it (``loads``, ``decode``, ``raw_decode``), which cost more than the
# scan itself for the short texts a store holds. It reads exactly one JSON value from the
# start of a text; a text is taken only if that value ends where the text does.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def loads_column(texts: Sequence[str | None], column: str, where: Callable[[int], str],
                 default: Callable[[], Any] | None = None) -> list[Any]:
    """The JSON values of one column of many rows (``texts[i]`` from row ``i``), decoded as
    :func:`_loads` does one by one, in a fraction of the time.

    ``default``: the factory of the value for an empty text (None or ``""``, as
    :func:`_loads_or`); without one an empty text is corrupt. A text the scanner does not take
    whole (surrounding whitespace, trailing garbage, invalid JSON) goes through ``json.loads``,
    which accepts it as before or raises the same CorruptRecord, naming ``where(i)``.
    """
    scan = _scan
    values: list[Any] = []
    append = values.append
    for i, text in enumerate(texts):
        if not text and default is not None:
            append(default())
            continue
        try:
            value, end = scan(text, 0)  # type: ignore[arg-type]  # None: TypeError, as json.loads
            if end == len(text):  # type: ignore[arg-type]
                append(value)
                continue
        except (StopIteration, ValueError, TypeError):
            pass
        append(_loads({column: text}, column, where(i)))
    return values


def _experiment_where(row: Mapping[Any, Any]) -> str:
    return f"experiment {row['name']!r} (table rung_experiments, id {row['id']})"


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# -- writing ---------------------------------------------------------------------------------
def trial_row(trial: Trial) -> dict[str, Any]:
    """The stored columns (TRIAL_FIELDS) of a trial's current state."""
    return {
        "config": dumps(trial.config),
        "status": trial.status.value,
        "created_at": trial.created_at,
        "started_at": trial.started_at,
        "ended_at": trial.ended_at,
        "run_time": trial.run_time,
        "n_reports": trial.n_reports,
        "n_starts": trial.n_starts,
        "metric_value": finite_or_none(trial.metric_value),
        "last_metrics": dumps(trial.last_metrics) if trial.last_metrics else None,
        "resource": trial.resource,
        "end_reason": trial.end_reason,
        "error": trial.error,
        "traceback": trial.traceback,
    }


def report_row(experiment_id: int, report: ReportRecord) -> dict[str, Any]:
    return {
        "experiment_id": experiment_id, "seq": report.seq, "trial_id": report.trial_id, "step": report.step,
        "time": report.time, "metrics": dumps(report.metrics), "action": report.action,
        "reason": report.reason or None, "details": dumps(report.details) if report.details else None,
    }


def event_row(experiment_id: int, event: EventRecord) -> dict[str, Any]:
    return {
        "experiment_id": experiment_id, "seq": event.seq, "kind": event.kind, "trial_id": event.trial_id,
        "time": event.time, "payload": dumps(event.payload),
    }


# -- reading ---------------------------------------------------------------------------------
def experiment_record(row: Mapping[Any, Any]) -> ExperimentRecord:
    where = _experiment_where(row)
    return ExperimentRecord(
        id=int(row["id"]), name=row["name"], status=row["status"], metric=row["metric"], mode=row["mode"],
        seed=row["seed"], space=_loads(row, "space", where), spec=_loads_or(row, "spec", where, None),
        settings=_loads(row, "settings", where), workdir=row["workdir"], created_at=row["created_at"],
        updated_at=row["updated_at"], elapsed=row["elapsed"] or 0.0, decision_time=row["decision_time"] or 0.0,
        stop_reason=row["stop_reason"], stop_requested=bool(row["stop_requested"]), owner=row["owner"],
    )


def experiment_summary(row: Mapping[Any, Any], trial_counts: dict[str, int], best_value: float | None) -> ExperimentSummary:
    return ExperimentSummary(
        id=int(row["id"]), name=row["name"], status=row["status"], metric=row["metric"], mode=row["mode"],
        created_at=row["created_at"], updated_at=row["updated_at"], elapsed=row["elapsed"] or 0.0,
        stop_reason=row["stop_reason"], owner=row["owner"], trial_counts=trial_counts, best_value=best_value,
    )


def trial_record(row: Mapping[Any, Any]) -> TrialRecord:
    where = f"trial {row['trial_id']} (table rung_trials)"
    return TrialRecord(
        trial_id=row["trial_id"], config=_loads(row, "config", where), status=row["status"],
        created_at=row["created_at"], started_at=row["started_at"], ended_at=row["ended_at"],
        run_time=row["run_time"] or 0.0, n_reports=row["n_reports"] or 0, n_starts=row["n_starts"] or 0,
        metric_value=row["metric_value"], last_metrics=_loads_or(row, "last_metrics", where, {}),
        resource=row["resource"], end_reason=row["end_reason"], error=row["error"], traceback=row["traceback"],
    )


def report_record(row: Mapping[Any, Any]) -> ReportRecord:
    where = f"report seq {row['seq']} of trial {row['trial_id']} (table rung_reports)"
    return ReportRecord(
        seq=row["seq"], trial_id=row["trial_id"], step=row["step"], time=row["time"],
        metrics=_loads(row, "metrics", where), action=row["action"], reason=row["reason"],
        details=_loads_or(row, "details", where, {}),
    )


def event_record(row: Mapping[Any, Any]) -> EventRecord:
    where = f"event seq {row['seq']} of trial {row['trial_id']} (table rung_events)"
    return EventRecord(seq=row["seq"], kind=row["kind"], trial_id=row["trial_id"], time=row["time"],
                       payload=_loads(row, "payload", where))


def experiment_problem(row: Mapping[Any, Any]) -> str | None:
    """Why the experiment's own row cannot be read (its JSON columns), or None if it can."""
    try:
        experiment_record(row)
    except CorruptRecord as err:
        return str(err)
    return None


def check_column(texts: Sequence[str | None], column: str, where: Callable[[int], str],
                 default: Callable[[], Any] | None = None) -> None:
    """CorruptRecord (as :func:`loads_column` raises it) if any of ``texts`` is not JSON,
    decoding each distinct text once: a check for a column whose values are decoded later,
    such as the events of a log, most of which repeat a few payloads."""
    first: dict[str | None, int] = {}
    for i, text in enumerate(texts):
        first.setdefault(text, i)
    distinct = list(first)
    loads_column(distinct, column, lambda k: where(first[distinct[k]]), default)
