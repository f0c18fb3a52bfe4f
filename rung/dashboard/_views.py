"""What each view of the experiment page draws, computed on the server from the columns.

Every function takes an :class:`~rung.dashboard._data.ExperimentData` (the caller holds
its lock) and returns plain JSON data, small whatever the experiment's size: exact
aggregates (counts, quantiles, the incumbent, concurrency) plus at most a fixed number of
drawn trials, chosen by :func:`stable_sample` so that a trial drawn once stays drawn as the
experiment grows (the page does not flicker). docs/dashboard.md lists, per view, what is
exact and what is sampled; the limits are the constants below.
"""

from __future__ import annotations

import heapq
import json
import math
from typing import Any

import numpy as np

from ._data import ACTIONS, STATUS_CODE, STATUSES, ExperimentData

#: Learning curves drawn as lines (the best trials, running ones, then a stable sample).
MAX_CURVES = 200
#: Trials drawn in parallel coordinates, scatter and slice plots.
MAX_POINTS = 4000
#: Points drawn per rung level in the metric-per-rung view.
MAX_RUNG_POINTS = 1500
#: Trial segments drawn as bars in the timeline (the most recent ones).
MAX_BARS = 1500
#: Trials the importance model is fitted on.
MAX_IMPORTANCE_TRIALS = 1000
#: Bins of the concurrency curve and of the learning-curve bands when levels are many.
N_BINS = 200
QUANTILES = (0.1, 0.5, 0.9)


def floats(values: Any) -> list[float | None]:
    """A list for JSON: numbers as floats, NaN and inf as null."""
    return [x if math.isfinite(x) else None for x in np.asarray(values, dtype=float).tolist()]


def priority(ids: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random rank per trial id (Knuth's multiplicative hash)."""
    return (ids.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)


def stable_sample(ids: np.ndarray, k: int, first: np.ndarray | None = None) -> np.ndarray:
    """At most ``k`` of ``ids``: all of ``first`` (up to k), then the ids of lowest
    :func:`priority`. The same ids stay chosen as more trials arrive."""
    chosen = np.asarray([], dtype=ids.dtype) if first is None else np.asarray(first, dtype=ids.dtype)[:k]
    if len(ids) <= k:
        return np.sort(ids)
    rest = np.setdiff1d(ids, chosen, assume_unique=False)
    room = k - len(chosen)
    if room > 0 and len(rest):
        ranks = priority(rest)
        picked = rest[np.argpartition(ranks, min(room, len(rest)) - 1)[:room]] if len(rest) > room else rest
        chosen = np.concatenate([chosen, picked])
    return np.sort(np.unique(chosen))


def end_state(data: ExperimentData, tid: int) -> str:
    """How the trial ended, for colours: completed, stopped at rung r, paused, failed, running."""
    code = int(data.t_status.data[tid])
    status = STATUSES[code] if 0 <= code < len(STATUSES) else "unknown"
    if status in ("stopped", "paused"):
        rung = data.t_stop_rung.data[tid] if tid < data.t_stop_rung.size else math.nan
        if math.isfinite(rung):
            return f"{status} at {rung:g}"
    return status


def best_ids(data: ExperimentData, ids: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best of ``ids`` by value (failed trials and missing values excluded)."""
    values = data.values()[ids] * data.sign
    status = data.t_status.view()[ids]
    ok = np.isfinite(values) & (status != STATUS_CODE["failed"])
    ids, values = ids[ok], values[ok]
    if len(ids) > k:
        keep = np.argpartition(values, k - 1)[:k]
        ids, values = ids[keep], values[keep]
    return ids[np.argsort(values, kind="stable")]


# -- summary ---------------------------------------------------------------------------------
def summary(data: ExperimentData) -> dict[str, Any]:
    record = data.record
    status = data.t_status.view()
    counts = {name: int(np.count_nonzero(status == code)) for name, code in STATUS_CODE.items()}
    best = data.best_trial()
    values = data.values()
    return {
        "name": data.name, "status": record.status, "metric": data.metric, "mode": data.mode,
        "version": data.version, "n_trials": int(np.count_nonzero(status >= 0)), "counts": counts,
        "n_reports": data.n_reports, "best_trial": best,
        "best_value": None if best is None else floats([values[best]])[0],
        "best_config": None if best is None else data.configs.get(best),
        "elapsed": elapsed(data), "decision_time": record.decision_time,
        "training_time": float(np.nansum(data.t_run_time.view())), "stop_reason": record.stop_reason,
        "stop_requested": record.stop_requested, "owner": record.owner, "created_at": record.created_at,
        "settings": record.settings, "parameters": parameter_kinds(data),
        "resource_attr": data.resource_attr, "rungs": sorted(data.decision_rungs),
        "loading": {"log_complete": data.log_complete, "last_seq": data.last_seq,
                    "trials_complete": data.trials_complete, "trials_read": int(np.count_nonzero(status >= 0)),
                    "trials_expected": data.expected_trials,
                    "reports_read": data.n_reports, "trial_reports": int(data.t_reports.view().sum())},
        "metrics": sorted(data.extra), "dropped_metrics": sorted(data.dropped_metrics),
    }


def elapsed(data: ExperimentData) -> float:
    """Seconds the experiment has run: stored when a run ends; while it runs, the latest
    time in its log."""
    return max(data.record.elapsed or 0.0, data.last_time)


def parameter_kinds(data: ExperimentData) -> list[dict[str, Any]]:
    """Each searched parameter with how to draw it: ``float`` (``log`` axis or not), ``int``
    or ``choice`` (with its categories). Constants are left out."""
    kinds: list[dict[str, Any]] = []
    space = data.record.space if isinstance(data.record.space, dict) else {}
    for name, domain in space.items():
        kind = str(domain.get("type", "")) if isinstance(domain, dict) else ""
        if kind in ("constant", ""):
            continue
        if kind == "choice":
            kinds.append({"name": name, "kind": "choice", "categories": [json.dumps(v) if not isinstance(v, str) else v
                                                                        for v in domain.get("values", [])]})
        else:
            kinds.append({"name": name, "kind": "int" if "randint" in kind else "float", "log": "log" in kind})
    return kinds


# -- learning curves -------------------------------------------------------------------------
def _reports_of(data: ExperimentData, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the reports of ``ids``, grouped by trial (log order within a trial), and
    the offsets where each trial's group starts."""
    trials = data.r_trial.view()
    index = np.flatnonzero(np.isin(trials, ids))
    index = index[np.argsort(trials[index], kind="stable")]
    starts = np.searchsorted(trials[index], ids)
    return index, starts


def curves(data: ExperimentData) -> dict[str, Any]:
    ids = data.trial_ids()
    status = data.t_status.view()
    running = ids[status[ids] == STATUS_CODE["running"]][:50]
    first = np.concatenate([best_ids(data, ids, 20), running])
    drawn = stable_sample(ids, MAX_CURVES, first)
    index, starts = _reports_of(data, drawn)
    x_all, y_all = data.r_resource.view(), data.r_value.view()
    lines = []
    bounds = list(starts) + [len(index)]
    for position, tid in enumerate(drawn.tolist()):
        rows = index[bounds[position]:bounds[position + 1]]
        if len(rows) == 0:
            continue
        lines.append({"trial": tid, "state": end_state(data, tid), "x": floats(x_all[rows]), "y": floats(y_all[rows])})
    best = data.best_trial()
    return {"lines": lines, "bands": bands(x_all, y_all), "rungs": sorted(data.decision_rungs),
            "best_trial": best, "drawn": len(lines), "total": len(ids), "metric": data.metric,
            "x_label": data.resource_attr or "report"}


def bands(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Quantiles of every report's value per resource level (per bin when levels are many):
    an exact aggregate of all reports."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) == 0:
        return {"x": [], "q": {}, "n": []}
    levels = np.unique(x)
    if len(levels) > N_BINS:
        edges = np.linspace(levels[0], levels[-1], N_BINS + 1)
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, N_BINS - 1)
        centers = (edges[:-1] + edges[1:]) / 2
    else:
        which = np.searchsorted(levels, x)
        centers = levels
    order = np.argsort(which, kind="stable")
    groups = np.split(y[order], np.flatnonzero(np.diff(which[order])) + 1)
    present = np.unique(which)
    result_q: dict[str, list[float | None]] = {}
    for q in QUANTILES:
        result_q[f"{q:g}"] = floats([np.quantile(group, q) for group in groups])
    return {"x": floats(centers[present]), "q": result_q, "n": [len(group) for group in groups]}


# -- incumbent -------------------------------------------------------------------------------
def incumbent(data: ExperimentData) -> dict[str, Any]:
    """The best value so far over wall-clock time and over trials: every improvement (exact),
    from each finished trial's final value at its end time."""
    ids = data.trial_ids()
    status = data.t_status.view()[ids]
    values = data.values()[ids]
    ended = data.t_ended.view()[ids]
    done = np.isin(status, [STATUS_CODE["completed"], STATUS_CODE["stopped"]]) & np.isfinite(values) & np.isfinite(ended)
    by_time = _improvements(ids[done], values[done] * data.sign, ended[done])
    by_trial = _improvements(ids[done], values[done] * data.sign, ids[done].astype(float))
    record = data.record
    now = elapsed(data)
    last_id = int(ids.max()) if len(ids) else 0
    # The step line goes on to now (and to the latest trial): the incumbent still holds there.
    time_x = floats(np.append(by_time[2], max(now, by_time[2][-1])) if len(by_time[2]) else by_time[2])
    trial_x = np.append(by_trial[0], max(last_id, by_trial[0][-1])).tolist() if len(by_trial[0]) else []
    extend = (lambda values: np.append(values, values[-1]) if len(values) else values)
    return {
        "time": {"x": time_x, "y": floats(extend(by_time[1]) * data.sign), "trial": extend(by_time[0]).tolist()},
        "trials": {"x": trial_x, "y": floats(extend(by_trial[1]) * data.sign), "trial": extend(by_trial[0]).tolist()},
        "n_finished": int(np.count_nonzero(done)), "n_improvements": int(len(by_time[0])), "elapsed": now,
        "decision_time": record.decision_time, "training_time": float(np.nansum(data.t_run_time.view())),
        "metric": data.metric,
    }


def _improvements(ids: np.ndarray, losses: np.ndarray, order_by: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.argsort(order_by, kind="stable")
    ids, losses, order_by = ids[order], losses[order], order_by[order]
    if len(ids) == 0:
        return ids, losses, order_by
    running = np.minimum.accumulate(losses)
    better = np.concatenate([[True], running[1:] < running[:-1]])
    return ids[better], running[better], order_by[better]


# -- metric per rung -------------------------------------------------------------------------
def rungs(data: ExperimentData) -> dict[str, Any]:
    """Per rung level (the levels at which the scheduler decided, and the highest level
    reached): quantiles of all values there (exact), a stable sample of points, the best
    trial's value."""
    x, y, trials = data.r_resource.view(), data.r_value.view(), data.r_trial.view()
    ok = np.isfinite(x) & np.isfinite(y)
    levels = set(data.decision_rungs)
    if ok.any():
        levels.add(float(np.max(x[ok])))
    best = data.best_trial()
    out = []
    positive = []
    for level in sorted(levels):
        at = np.flatnonzero(ok & (x == level))
        if len(at) == 0:
            continue
        ids = trials[at]
        values = y[at]
        keep = np.isin(ids, stable_sample(np.unique(ids), MAX_RUNG_POINTS))
        entry = {"level": level, "n": int(len(at)), "x": floats(np.full(int(keep.sum()), level)),
                 "y": floats(values[keep]), "trial": ids[keep].tolist(),
                 "q": {f"{q:g}": float(np.quantile(values, q)) for q in QUANTILES},
                 "best": floats(values[ids == best][-1:])[0] if best is not None and (ids == best).any() else None}
        out.append(entry)
        positive.append(values)
    everything = np.concatenate(positive) if positive else np.asarray([])
    log_y = bool(len(everything) and everything.min() > 0 and everything.max() / everything.min() > 100)
    return {"levels": out, "best_trial": best, "log_y": log_y, "metric": data.metric,
            "x_label": data.resource_attr or "report"}


# -- hyperparameters -------------------------------------------------------------------------
def params(data: ExperimentData) -> dict[str, Any]:
    """Sampled trials' configs and values for parallel coordinates, scatter and slice plots:
    the best tenth of the budget, then a stable sample of the rest."""
    ids = data.trial_ids()
    values = data.values()
    has_value = ids[np.isfinite(values[ids])]
    drawn = stable_sample(has_value, MAX_POINTS, best_ids(data, has_value, MAX_POINTS // 10))
    columns = []
    for kind in parameter_kinds(data):
        name = kind["name"]
        raw = [data.configs.get(tid, {}).get(name) for tid in drawn.tolist()]
        column: list[Any]
        if kind["kind"] == "choice":
            column = [v if isinstance(v, str) or v is None else json.dumps(v) for v in raw]
        else:
            column = floats([v if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan for v in raw])
        columns.append({**kind, "values": column})
    return {"trial": drawn.tolist(), "value": floats(values[drawn]), "state": [end_state(data, t) for t in drawn.tolist()],
            "params": columns, "drawn": len(drawn), "total": len(has_value), "metric": data.metric,
            "best_trial": data.best_trial()}


def fit_importance(table: tuple[np.ndarray, np.ndarray, list[str]] | None, metric: str) -> dict[str, Any]:
    """How much each hyperparameter explains the metric: impurity importances of a random
    forest (scikit-learn) fitted on :func:`params_frame` (called without the data's lock:
    fitting takes a moment)."""
    if table is None:
        return {"available": False, "why": "fewer than 8 finished trials with a value"}
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        return {"available": False, "why": "needs scikit-learn (pip install scikit-learn)"}
    features, target, groups = table
    forest = RandomForestRegressor(n_estimators=32, max_depth=8, random_state=0, n_jobs=1)
    forest.fit(features, target)
    scores: dict[str, float] = {}
    for column, group in zip(forest.feature_importances_.tolist(), groups):
        scores[group] = scores.get(group, 0.0) + column
    names = sorted(scores, key=lambda name: -scores[name])
    return {"available": True, "names": names, "importance": [scores[name] for name in names],
            "n_trials": len(target), "metric": metric}


def params_frame(data: ExperimentData) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """Features (numbers, log10 of log-scaled ones, one-hot choices), target and the
    parameter each feature column belongs to, for a sample of finished trials."""
    ids = data.trial_ids()
    values = data.values()
    status = data.t_status.view()
    done = ids[np.isfinite(values[ids]) & np.isin(status[ids], [STATUS_CODE["completed"], STATUS_CODE["stopped"]])]
    if len(done) < 8:
        return None
    drawn = stable_sample(done, MAX_IMPORTANCE_TRIALS)
    columns: list[np.ndarray] = []
    groups: list[str] = []
    for kind in parameter_kinds(data):
        name = kind["name"]
        raw = [data.configs.get(tid, {}).get(name) for tid in drawn.tolist()]
        if kind["kind"] == "choice":
            labels = [str(v) for v in raw]
            for category in sorted(set(labels)):
                columns.append(np.asarray([label == category for label in labels], dtype=float))
                groups.append(name)
        else:
            column = np.asarray([v if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan for v in raw],
                                dtype=float)
            if kind.get("log"):
                column = np.log10(np.where(column > 0, column, np.nan))
            columns.append(np.nan_to_num(column, nan=np.nanmin(column) - 1 if np.isfinite(column).any() else 0.0))
            groups.append(name)
    if not columns:
        return None
    return np.column_stack(columns), values[drawn], groups


# -- timeline --------------------------------------------------------------------------------
def lanes(start: np.ndarray, end: np.ndarray, now: float) -> np.ndarray:
    """A lane per segment such that segments in one lane do not overlap (the fewest lanes:
    the greedy interval colouring). The store does not say which worker ran a trial, so
    lanes stand for worker slots."""
    order = np.argsort(start, kind="stable")
    finish = np.where(np.isfinite(end), end, now)
    lane = np.zeros(len(start), dtype=np.int32)
    free: list[tuple[float, int]] = []  # (free from, lane)
    spare: list[int] = []
    n_lanes = 0
    for index in order.tolist():
        while free and free[0][0] <= start[index]:
            heapq.heappush(spare, heapq.heappop(free)[1])
        if spare:
            chosen = heapq.heappop(spare)
        else:
            chosen = n_lanes
            n_lanes += 1
        lane[index] = chosen
        heapq.heappush(free, (float(finish[index]), chosen))
    return lane


def timeline(data: ExperimentData) -> dict[str, Any]:
    start, end = data.s_start.view(), data.s_end.view()
    trials, status = data.s_trial.view(), data.s_status.view()
    now = float(max(np.nanmax(end) if np.isfinite(end).any() else 0.0,
                    np.nanmax(start) if len(start) else 0.0, data.record.elapsed or 0.0))
    lane = lanes(start, end, now)
    drawn = np.argsort(start, kind="stable")[-MAX_BARS:]
    bars = {
        "trial": trials[drawn].tolist(), "lane": lane[drawn].tolist(), "start": floats(start[drawn]),
        "end": floats(np.where(np.isfinite(end[drawn]), end[drawn], now)),
        "state": [STATUSES[s] if s >= 0 else "running" for s in status[drawn].tolist()],
    }
    return {"bars": bars, "drawn": len(drawn), "total": len(start), "n_lanes": int(lane.max() + 1) if len(lane) else 0,
            "concurrency": concurrency(start, np.where(np.isfinite(end), end, now), now)}


def concurrency(start: np.ndarray, end: np.ndarray, now: float) -> dict[str, Any]:
    """Trials on a worker over time, at N_BINS instants (exact counts)."""
    if len(start) == 0:
        return {"x": [], "y": []}
    instants = np.linspace(float(np.min(start)), max(now, float(np.max(end))), N_BINS)
    started = np.searchsorted(np.sort(start), instants, side="right")
    ended = np.searchsorted(np.sort(end), instants, side="right")
    return {"x": floats(instants), "y": (started - ended).tolist()}


__all__ = ["ACTIONS", "bands", "curves", "fit_importance", "incumbent", "lanes", "params", "params_frame", "rungs", "stable_sample",
           "summary", "timeline"]
