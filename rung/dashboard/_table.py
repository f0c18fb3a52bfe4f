"""The trial table (sorted, filtered and paginated on the server) and one trial's details."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._data import ACTIONS, STATUS_CODE, STATUSES, ExperimentData
from ._views import end_state, floats

#: Rows per page at most.
MAX_PAGE = 200
#: Bytes of a trial's stdout / stderr shown (its end).
TAIL_BYTES = 16_384
SORT_KEYS = ("trial", "value", "status", "started", "ended", "run_time", "reports")


class TableQuery:
    """A checked request for a page of the table: each bad field raises ValueError naming it."""

    def __init__(self, params: dict[str, str], parameter_names: list[str]) -> None:
        self.sort = params.get("sort", "trial")
        if self.sort not in SORT_KEYS and not (self.sort.startswith("param:") and self.sort[6:] in parameter_names):
            raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)} or param:<name>, got sort={self.sort!r}")
        self.descending = params.get("order", "asc") == "desc"
        if params.get("order", "asc") not in ("asc", "desc"):
            raise ValueError(f"order must be asc or desc, got order={params.get('order')!r}")
        statuses = [s for s in params.get("status", "").split(",") if s]
        unknown = [s for s in statuses if s not in STATUS_CODE]
        if unknown:
            raise ValueError(f"status must be among {', '.join(STATUSES)}, got status={','.join(unknown)!r}")
        self.statuses = statuses
        self.text = params.get("q", "").strip()
        self.offset = _count(params, "offset", 0)
        self.limit = min(_count(params, "limit", 50), MAX_PAGE) or 1


def _count(params: dict[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a non-negative integer, got {name}={text!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {name}={text!r}")
    return value


def table(data: ExperimentData, query: TableQuery) -> dict[str, Any]:
    ids = data.trial_ids()
    status = data.t_status.view()
    if query.statuses:
        ids = ids[np.isin(status[ids], [STATUS_CODE[s] for s in query.statuses])]
    if query.text:
        needle = query.text.lower()
        ids = np.asarray([tid for tid in ids.tolist()
                          if needle == str(tid) or needle in json.dumps(data.configs.get(tid, {})).lower()
                          or needle in end_state(data, tid)], dtype=np.int64)
    keys = _sort_keys(data, ids, query.sort, query.descending)
    order = np.lexsort((ids, keys)) if keys is not None else np.argsort(ids)
    if query.descending:
        order = _descending(keys, ids, order)
    page = ids[order][query.offset:query.offset + query.limit]
    values = data.values()
    rows = []
    for tid in page.tolist():
        texts = data.texts.get(tid, {})
        rows.append({
            "trial": tid, "status": STATUSES[status[tid]], "state": end_state(data, tid),
            "value": floats([values[tid]])[0], "reports": int(data.t_reports.data[tid]),
            "started": floats([data.t_started.data[tid]])[0], "ended": floats([data.t_ended.data[tid]])[0],
            "run_time": float(data.t_run_time.data[tid]), "config": data.configs.get(tid, {}),
            "note": texts.get("error") or texts.get("end_reason"),
        })
    return {"rows": rows, "total": int(len(ids)), "offset": query.offset, "limit": query.limit,
            "sort": query.sort, "order": "desc" if query.descending else "asc", "metric": data.metric}


def _sort_keys(data: ExperimentData, ids: np.ndarray, sort: str, descending: bool) -> np.ndarray | None:
    """A float key per row (missing values sort last in either order)."""
    if sort == "trial":
        return None
    if sort == "value":
        keys = data.values()[ids]
    elif sort == "status":
        keys = data.t_status.view()[ids].astype(float)
    elif sort == "started":
        keys = data.t_started.view()[ids]
    elif sort == "ended":
        keys = data.t_ended.view()[ids]
    elif sort == "run_time":
        keys = data.t_run_time.view()[ids]
    elif sort == "reports":
        keys = data.t_reports.view()[ids].astype(float)
    else:
        name = sort[6:]
        raw = [data.configs.get(tid, {}).get(name) for tid in ids.tolist()]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw if v is not None):
            keys = np.asarray([np.nan if v is None else v for v in raw], dtype=float)
        else:
            labels = sorted({str(v) for v in raw})
            rank = {label: i for i, label in enumerate(labels)}
            keys = np.asarray([rank[str(v)] for v in raw], dtype=float)
    missing = ~np.isfinite(keys)
    keys = np.where(missing, np.inf if not descending else -np.inf, keys)
    return keys


def _descending(keys: np.ndarray | None, ids: np.ndarray, order: np.ndarray) -> np.ndarray:
    if keys is None:
        return order[::-1]
    return np.lexsort((ids, -keys))


def detail(data: ExperimentData, tid: int) -> dict[str, Any] | None:
    """Everything about one trial: its row, every report with the decision and its reason,
    its starts and ends, the failure and the tail of its output."""
    if tid < 0 or tid >= data.t_status.size or data.t_status.data[tid] < 0:
        return None
    index = np.flatnonzero(data.r_trial.view() == tid)
    reports = []
    for i in index.tolist():
        reason, details = data.decisions.get(i, (None, {}))
        metrics = {data.metric: floats([data.r_value.data[i]])[0]}
        for name, column in data.extra.items():
            if i < column.size and math.isfinite(column.data[i]):
                metrics[name] = float(column.data[i])
        reports.append({"step": int(data.r_step.data[i]), "time": float(data.r_time.data[i]),
                        "resource": floats([data.r_resource.data[i]])[0], "metrics": metrics,
                        "action": ACTIONS[int(data.r_action.data[i])], "reason": reason, "details": details})
    texts = data.texts.get(tid, {})
    workdir = data.record.workdir
    return {
        "trial": tid, "status": STATUSES[data.t_status.data[tid]], "state": end_state(data, tid),
        "config": data.configs.get(tid, {}), "value": floats([data.values()[tid]])[0],
        "created": float(data.t_created.data[tid]), "started": floats([data.t_started.data[tid]])[0],
        "ended": floats([data.t_ended.data[tid]])[0], "run_time": float(data.t_run_time.data[tid]),
        "end_reason": texts.get("end_reason"), "error": texts.get("error"), "traceback": texts.get("traceback"),
        "resource": texts.get("resource"), "last_metrics": texts.get("last_metrics"), "reports": reports,
        "events": [{"seq": seq, "kind": kind, "time": time, "payload": payload}
                   for seq, kind, time, payload in data.events.get(tid, [])],
        "stdout": tail(workdir, tid, "stdout.log"), "stderr": tail(workdir, tid, "stderr.log"),
        "metric": data.metric,
    }


def tail(workdir: str | None, tid: int, name: str) -> str | None:
    """The last TAIL_BYTES of ``<workdir>/trial_<tid>/<name>``, or None when there is none.

    Only that fixed name under the experiment's recorded directory is read, and a symbolic
    link is not followed (the store is not trusted to point the dashboard at other files).
    """
    if not workdir:
        return None
    path = Path(workdir) / f"trial_{int(tid)}" / name
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - TAIL_BYTES))
        text = handle.read().decode("utf-8", errors="replace")
    return ("..." if size > TAIL_BYTES else "") + text
