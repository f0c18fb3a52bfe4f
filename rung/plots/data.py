"""The view-data layer: what every view of a tuning run draws, as pandas tables.

Each function here takes a :class:`ViewInput` (or anything :func:`view_input` accepts: a
:class:`rung.TuningResult`, a ``ViewInput``) and returns tables and plain values, with no
plotting library involved. The matplotlib renderer (``rung.plots``: files), the plotly
renderer (``rung.plots.figures``: notebooks) and the dashboard draw exactly these, so the
three show the same data and tests can check the data apart from the pictures.

How a trial ended (its *outcome*, used for colours): ``completed``, ``stopped at <r>``
(the scheduler stopped it at rung level ``r``; ``stopped`` when no level is known),
``paused``, ``failed`` or ``running``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..trial._record import Trial, TrialStatus

if TYPE_CHECKING:
    from ..results._result import TuningResult
    from ..storage._records import ExperimentRecord, LogSlice

#: Outcome names in the order legends list them.
OUTCOMES = ("completed", "stopped", "paused", "failed", "running")
#: Columns of a report table that are bookkeeping, not metrics.
REPORT_BOOKKEEPING = ("trial_id", "step", "time", "action", "reason", "rung")
#: A value range wider than this ratio (two decades) is drawn on a log axis.
LOG_RATIO = 100.0


# -- the input ------------------------------------------------------------------------------
@dataclass
class ViewInput:
    """One experiment as the views need it.

    ``reports`` has one row per accepted report (``trial_id``, ``step``, ``time``, the
    metrics, and the decision it caused: ``action``, ``reason``, ``rung``, None where the
    source does not keep decisions). ``segments`` has one row per stay of a trial on a
    worker (``trial_id``, ``start``, ``end``, ``kind``, ``running``).
    """

    experiment: str
    metric: str
    mode: str
    trial_records: list[Trial]
    reports: pd.DataFrame
    segments: pd.DataFrame
    parameter_names: list[str]
    wallclock: float
    decision_time: float
    decision_levels: list[float]
    resource_attr: str | None = None
    status: str = "finished"
    stop_reason: str = ""
    space: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_result(cls, result: "TuningResult") -> "ViewInput":
        """The views' input from a :class:`rung.TuningResult` (live run or ``rung.load``).

        Without the stored events, a trial's time on workers is one segment from its first
        start to its last end (a paused trial's gap is not shown).
        """
        entries = getattr(result, "log_entries", None)
        if entries:
            reports = _reports_from_entries(entries, result.metric)
            segments = _segments_from_events(entries, result.wallclock)
        else:
            reports = result.reports.copy()
            for column in ("action", "reason", "rung"):
                if column not in reports.columns:
                    reports[column] = None
            segments = _segments_from_trials(result.trial_records, result.wallclock)
        return cls(
            experiment=result.experiment, metric=result.metric, mode=result.mode,
            trial_records=list(result.trial_records), reports=reports, segments=segments,
            parameter_names=list(result.parameter_names), wallclock=float(result.wallclock),
            decision_time=float(result.decision_time), decision_levels=result.decision_levels(),
            status=result.status, stop_reason=result.stop_reason,
            space=dict(getattr(result, "space", None) or {}),
        )

    @classmethod
    def from_log(cls, experiment: "ExperimentRecord", log: "LogSlice") -> "ViewInput":
        """The views' input from stored records: an experiment and its log read from the start.

        This keeps what a :class:`TuningResult` does not: each report's decision and every
        start, resume and end of a trial (its segments on workers).
        """
        from .._objective import Objective
        from ..tuner._state import RunState

        state = RunState.from_log(Objective(experiment.metric, experiment.mode), log)
        reports = _reports_from_entries(log.entries, experiment.metric)
        wallclock = max(experiment.elapsed or 0.0, state.last_time)
        settings = experiment.settings or {}
        resource_attr = (settings.get("scheduler_params") or {}).get("resource_attr")
        return cls(
            experiment=experiment.name, metric=experiment.metric, mode=experiment.mode,
            trial_records=list(state.trials.values()), reports=reports,
            segments=_segments_from_events(log.entries, wallclock),
            parameter_names=list((experiment.space or {}).keys()), wallclock=wallclock,
            decision_time=experiment.decision_time or 0.0, decision_levels=sorted(state.decision_rungs),
            resource_attr=resource_attr if isinstance(resource_attr, str) else None,
            status=experiment.status, stop_reason=experiment.stop_reason or experiment.status,
            space=dict(experiment.space or {}),
        )

    # -- helpers the views share -------------------------------------------------------------
    @property
    def sign(self) -> float:
        """+1 for ``mode="min"``, -1 for ``"max"``: ``sign * value`` is a loss."""
        return 1.0 if self.mode == "min" else -1.0

    def best_trial_id(self) -> int | None:
        best: tuple[float, int] | None = None
        for trial in self.trial_records:
            value = trial.metric_value
            if trial.status is TrialStatus.FAILED or value is None or not math.isfinite(value):
                continue
            key = (self.sign * value, trial.trial_id)
            if best is None or key < best:
                best = key
        return None if best is None else best[1]

    def metric_columns(self) -> list[str]:
        return [c for c in self.reports.columns if c not in REPORT_BOOKKEEPING]

    def guess_resource_attr(self) -> str | None:
        """The report column that holds the resource: the scheduler's ``resource_attr`` if
        known, else ``epoch`` if reported, else a numeric column (not the metric) that never
        decreases within a trial and holds every decision level; None if none does."""
        columns = self.metric_columns()
        if self.resource_attr in columns:
            return self.resource_attr
        if "epoch" in columns:
            return "epoch"
        levels = set(self.decision_levels)
        for column in columns:
            if column == self.metric:
                continue
            values = pd.to_numeric(self.reports[column], errors="coerce")
            if values.isna().any():
                continue
            monotone = self.reports.assign(_v=values).groupby("trial_id")["_v"].apply(
                lambda s: bool(s.is_monotonic_increasing)).all()
            if monotone and levels <= set(values.astype(float)):
                return column
        return None

    def trial_by_id(self) -> dict[int, Trial]:
        return {t.trial_id: t for t in self.trial_records}


def view_input(source: "ViewInput | TuningResult") -> ViewInput:
    """``source`` as a :class:`ViewInput` (a TuningResult is converted, and cached on it)."""
    if isinstance(source, ViewInput):
        return source
    if hasattr(source, "trial_records") and hasattr(source, "reports"):
        cached = source.__dict__.get("_view_input")
        if cached is None:
            cached = ViewInput.from_result(source)
            source.__dict__["_view_input"] = cached
        return cached
    raise TypeError(f"expected a TuningResult or a ViewInput, got {type(source).__name__}")


def _reports_from_entries(entries: Iterable[Any], metric: str) -> pd.DataFrame:
    from ..storage._records import ReportRecord

    rows = [{"trial_id": e.trial_id, "step": e.step, "time": e.time, **e.metrics, "action": e.action,
             "reason": e.reason, "rung": (e.details or {}).get("rung")}
            for e in entries if isinstance(e, ReportRecord)]
    if not rows:
        return pd.DataFrame(columns=["trial_id", "step", "time", metric, "action", "reason", "rung"])
    return pd.DataFrame(rows)


def _segments_from_trials(trials: Iterable[Trial], wallclock: float) -> pd.DataFrame:
    rows = []
    for trial in trials:
        if trial.started_at is None:
            continue
        running = trial.status is TrialStatus.RUNNING
        end = wallclock if running or trial.ended_at is None else trial.ended_at
        rows.append({"trial_id": trial.trial_id, "start": float(trial.started_at), "end": float(end),
                     "kind": "start", "running": running})
    return pd.DataFrame(rows, columns=["trial_id", "start", "end", "kind", "running"])


def _segments_from_events(entries: Iterable[Any], wallclock: float) -> pd.DataFrame:
    """Stays on workers from the stored events: a start/resume/restart opens one, an end (or
    the next restart, after a crash) closes it; one still open is running."""
    from ..storage._records import EventRecord

    open_at: dict[int, tuple[float, str]] = {}
    rows: list[dict[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, EventRecord):
            continue
        if entry.kind in ("start", "resume", "restart"):
            if entry.trial_id in open_at:  # the tuner died while it ran: that stay ended here
                start, kind = open_at.pop(entry.trial_id)
                rows.append({"trial_id": entry.trial_id, "start": start, "end": entry.time, "kind": kind,
                             "running": False})
            open_at[entry.trial_id] = (entry.time, entry.kind)
        elif entry.kind == "end" and entry.trial_id in open_at:
            start, kind = open_at.pop(entry.trial_id)
            rows.append({"trial_id": entry.trial_id, "start": start, "end": entry.time, "kind": kind,
                         "running": False})
    for trial_id, (start, kind) in open_at.items():
        rows.append({"trial_id": trial_id, "start": start, "end": max(wallclock, start), "kind": kind,
                     "running": True})
    frame = pd.DataFrame(rows, columns=["trial_id", "start", "end", "kind", "running"])
    return frame.sort_values(["start", "trial_id"], ignore_index=True)


# -- outcomes --------------------------------------------------------------------------------
def outcomes(source: "ViewInput | TuningResult", resource_attr: str | None = None) -> dict[int, str]:
    """How each trial ended, by trial id (see the module docstring)."""
    src = view_input(source)
    attr = resource_attr or src.guess_resource_attr()
    stopped_at: dict[int, float] = {}
    reports = src.reports
    if len(reports):
        stops = reports[reports["action"] == "stop"] if "action" in reports else reports.iloc[0:0]
        for trial_id, level in zip(stops["trial_id"], stops["rung"]):
            if _is_number(level):
                stopped_at[int(trial_id)] = float(level)
        if attr is not None and attr in reports:
            reached = pd.to_numeric(reports[attr], errors="coerce").groupby(reports["trial_id"]).max()
            for trial_id, level in zip(reached.index, reached.to_numpy(dtype=float)):
                if _is_number(level):
                    stopped_at.setdefault(int(trial_id), float(level))
    out = {}
    for trial in src.trial_records:
        out[trial.trial_id] = outcome_of(trial, stopped_at.get(trial.trial_id))
    return out


def outcome_of(trial: Trial, level: float | None = None) -> str:
    """A trial's outcome; ``level`` is where a stopped trial was stopped (if known)."""
    if trial.status is TrialStatus.STOPPED:
        return "stopped" if level is None else f"stopped at {level:g}"
    return trial.status.value


def outcome_kind(outcome: str) -> str:
    """The outcome without its level (``stopped at 3`` -> ``stopped``), for colours."""
    return outcome.split(" ", 1)[0]


def ordered_outcomes(values: Iterable[str]) -> list[str]:
    """Distinct outcomes in legend order: by kind, stopped levels ascending."""
    def key(outcome: str) -> tuple[int, float]:
        kind = outcome_kind(outcome)
        rest = outcome[len("stopped at "):] if outcome.startswith("stopped at ") else ""
        return OUTCOMES.index(kind) if kind in OUTCOMES else len(OUTCOMES), float(rest) if rest else -math.inf
    return sorted(set(values), key=key)


# -- learning curves -------------------------------------------------------------------------
@dataclass
class CurvesData:
    """Each trial's metric against the resource (or the report number)."""

    points: pd.DataFrame  # trial_id, x, value, outcome
    levels: list[float]
    x_label: str
    metric: str
    outcomes: list[str]


def learning_curves(source: "ViewInput | TuningResult", resource_attr: str | None = None) -> CurvesData:
    """Every report of every trial: ``x`` is the resource (``resource_attr``, guessed when
    not given) or else the report number; the rung levels are the scheduler's decision levels."""
    src = view_input(source)
    attr = resource_attr or src.guess_resource_attr()
    reports = src.reports
    if resource_attr is not None and resource_attr not in reports.columns and len(reports):
        raise ValueError(f"no report has {resource_attr!r}; pass resource_attr= with the name trials report")
    ends = outcomes(src, attr)
    x_column = attr if attr is not None and attr in reports.columns else "step"
    points = pd.DataFrame({
        "trial_id": reports["trial_id"].astype(int) if len(reports) else pd.Series([], dtype=int),
        "x": pd.to_numeric(reports[x_column], errors="coerce") if len(reports) else pd.Series([], dtype=float),
        "value": pd.to_numeric(reports[src.metric], errors="coerce") if src.metric in reports else np.nan,
    })
    points["outcome"] = [ends.get(int(t), "running") for t in points["trial_id"]]
    levels = sorted(src.decision_levels) if x_column == attr else []
    return CurvesData(points=points, levels=levels, x_label=attr if x_column == attr else "report",
                      metric=src.metric, outcomes=ordered_outcomes(ends.values()))


def polylines(points: pd.DataFrame, x: str = "x", y: str = "value") -> tuple[list[int], list[np.ndarray]]:
    """Each trial's points as an ``(n, 2)`` array of ``(x, y)``, in trial id order, without
    a Python loop over rows (the renderers draw one collection per colour from these)."""
    if points.empty:
        return [], []
    ordered = points.sort_values("trial_id", kind="stable")
    ids = ordered["trial_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    xy = np.column_stack([ordered[x].to_numpy(dtype=float), ordered[y].to_numpy(dtype=float)])
    return [int(i) for i in ids[starts]], np.split(xy, starts[1:])


# -- the incumbent ---------------------------------------------------------------------------
@dataclass
class IncumbentData:
    over_time: pd.DataFrame  # elapsed, best_value, trial_id (a step line, last row at wallclock)
    over_trials: pd.DataFrame  # n, trial_id, value, best_value
    time_split: dict[str, float]
    metric: str


def incumbent(source: "ViewInput | TuningResult") -> IncumbentData:
    """The best value so far against wall-clock time and against finished trials, and where
    the time went: the searcher's and scheduler's decisions vs. training (summed over trials)."""
    src = view_input(source)
    finished = sorted((t for t in src.trial_records if t.is_finished and t.ended_at is not None),
                      key=lambda t: (t.ended_at, t.trial_id))
    rows, best = [], math.nan
    time_rows: list[tuple[float, float, int]] = []
    for n, trial in enumerate(finished, start=1):
        value = trial.metric_value
        ok = trial.status is not TrialStatus.FAILED and value is not None and math.isfinite(value)
        if ok and (math.isnan(best) or src.sign * value < src.sign * best):  # type: ignore[operator]
            best = float(value)  # type: ignore[arg-type]
            time_rows.append((float(trial.ended_at), best, trial.trial_id))  # type: ignore[arg-type]
        rows.append({"n": n, "trial_id": trial.trial_id, "value": float(value) if ok else math.nan,  # type: ignore[arg-type]
                     "best_value": best})
    over_trials = pd.DataFrame(rows, columns=["n", "trial_id", "value", "best_value"])
    if time_rows and src.wallclock > time_rows[-1][0]:
        time_rows.append((src.wallclock, time_rows[-1][1], time_rows[-1][2]))
    over_time = pd.DataFrame(time_rows, columns=["elapsed", "best_value", "trial_id"])
    training = float(sum(t.run_time for t in src.trial_records))
    split = {"wallclock": src.wallclock, "decision_time": src.decision_time, "training_time": training,
             "n_trials": float(len(src.trial_records))}
    return IncumbentData(over_time=over_time, over_trials=over_trials, time_split=split, metric=src.metric)


# -- metric per rung level -------------------------------------------------------------------
@dataclass
class RungData:
    points: pd.DataFrame  # trial_id, level, value, best
    levels: list[float]
    log_scale: bool
    best_trial_id: int | None
    resource_attr: str
    metric: str


def metric_per_rung(source: "ViewInput | TuningResult", resource_attr: str | None = None,
                    levels: Sequence[float] | None = None) -> RungData:
    """The metric of every trial at each rung level it reached (d2l's rung scatter).

    ``levels`` default: the scheduler's decision levels plus the top rung (the highest
    resource any trial reported); every reported resource value if the scheduler made no
    decision. A trial's value at a level is its first report at or past that level.
    ``log_scale`` is true when the values are positive and span more than two decades.
    """
    src = view_input(source)
    attr = resource_attr or src.guess_resource_attr()
    reports = src.reports
    if attr is None or attr not in reports.columns:
        wanted = f"{attr!r}" if attr is not None else "a resource (no resource_attr given, none found)"
        raise ValueError(f"no report has {wanted}; reports have {src.metric_columns()}: pass resource_attr= "
                         "with the name of the resource trials report (e.g. 'epoch')")
    resource = pd.to_numeric(reports[attr], errors="coerce")
    if levels is None:
        chosen = set(src.decision_levels)
        if chosen:
            chosen.add(float(resource.max()))
        else:
            chosen = {float(v) for v in resource.dropna().unique()}
        levels = sorted(chosen)
    else:
        levels = sorted({float(v) for v in levels})
        if not levels:
            raise ValueError("levels= is empty: pass the rung levels to show, or None for the default")
    frame = pd.DataFrame({"trial_id": reports["trial_id"].astype(int), "r": resource,
                          "value": pd.to_numeric(reports[src.metric], errors="coerce")})
    best_id = src.best_trial_id()
    parts = []
    for level in levels:  # a trial's value at a level: its first report at or past it
        reached = frame[frame["r"] >= level - 1e-9 * max(1.0, abs(level))]
        first = reached.groupby("trial_id", sort=True)["value"].first()
        parts.append(pd.DataFrame({"trial_id": first.index.to_numpy(dtype=int), "level": level,
                                   "value": first.to_numpy(dtype=float)}))
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["trial_id", "level", "value"])
    rows = rows.sort_values(["trial_id", "level"], ignore_index=True)
    rows["best"] = rows["trial_id"] == best_id
    points = rows[["trial_id", "level", "value", "best"]]
    return RungData(points=points, levels=list(levels), log_scale=spans_decades(points["value"]),
                    best_trial_id=best_id, resource_attr=attr, metric=src.metric)


def spans_decades(values: Iterable[float], ratio: float = LOG_RATIO) -> bool:
    """True if the finite values are all positive and max / min exceeds ``ratio``."""
    data = np.asarray([v for v in values if _is_number(v) and math.isfinite(v)], dtype=float)
    return bool(len(data) and (data > 0).all() and data.max() / data.min() > ratio)


# -- hyperparameters -------------------------------------------------------------------------
@dataclass
class ParamTable:
    """Trials with a finite metric, one row each, with every parameter as a number.

    Categorical parameters (non-numeric values) are coded 0..k-1 in the order of
    ``categories[name]``; ``log_params`` are numeric parameters to draw on a log axis.
    """

    table: pd.DataFrame  # trial_id, value, outcome, <params>
    params: list[str]
    categories: dict[str, list[Any]]
    log_params: list[str]
    metric: str


def param_table(source: "ViewInput | TuningResult", params: Sequence[str] | None = None) -> ParamTable:
    """The trials' parameters and final metric, numeric, for the hyperparameter views."""
    src = view_input(source)
    names = list(params) if params is not None else list(src.parameter_names)
    unknown = [p for p in names if p not in src.parameter_names]
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; the space has {src.parameter_names}")
    ends = outcomes(src)
    rows = []
    for trial in src.trial_records:
        value = trial.metric_value
        if trial.status is TrialStatus.FAILED or value is None or not math.isfinite(value):
            continue
        row: dict[str, Any] = {"trial_id": trial.trial_id, "value": float(value), "outcome": ends[trial.trial_id]}
        for name in names:
            row[name] = trial.config.get(name, math.nan)
        rows.append(row)
    table = pd.DataFrame(rows, columns=["trial_id", "value", "outcome", *names])
    categories: dict[str, list[Any]] = {}
    log_params = []
    for name in names:
        column = table[name]
        present = column.dropna()
        if len(present) and not all(_is_number(v) for v in present):
            labels = sorted({v for v in present}, key=lambda v: (str(type(v)), str(v)))
            categories[name] = labels
            index = {label: i for i, label in enumerate(labels)}
            table[name] = [index[v] if v in index else math.nan for v in column]
        else:
            table[name] = pd.to_numeric(column, errors="coerce").astype(float)
            domain = src.space.get(name)
            if _space_is_log(domain) if isinstance(domain, Mapping) else spans_decades(table[name], 1000.0):
                log_params.append(name)
    return ParamTable(table=table, params=names, categories=categories, log_params=log_params, metric=src.metric)


def _space_is_log(domain: Any) -> bool:
    if not isinstance(domain, Mapping):
        return False
    return bool(domain.get("log")) or "log" in str(domain.get("type", ""))


def parallel_coordinates(source: "ViewInput | TuningResult", params: Sequence[str] | None = None) -> ParamTable:
    """The table drawn as parallel coordinates: one axis per parameter, then the metric."""
    return param_table(source, params)


def scatter(source: "ViewInput | TuningResult", params: Sequence[str]) -> ParamTable:
    """Chosen parameters (two for a 2-D scatter; two or three for 3-D) and the metric."""
    params = list(params)
    if not 1 <= len(params) <= 3:
        raise ValueError(f"params= takes one to three parameter names, got {params}")
    return param_table(source, params)


def slices(source: "ViewInput | TuningResult", params: Sequence[str] | None = None) -> pd.DataFrame:
    """Each parameter against the metric (long form: param, x, value, trial_id, categorical)."""
    data = param_table(source, params)
    frames = []
    for name in data.params:
        frames.append(pd.DataFrame({"param": name, "x": data.table[name], "value": data.table["value"],
                                    "trial_id": data.table["trial_id"], "categorical": name in data.categories}))
    if not frames:
        return pd.DataFrame(columns=["param", "x", "value", "trial_id", "categorical"])
    return pd.concat(frames, ignore_index=True)


def importance(source: "ViewInput | TuningResult", params: Sequence[str] | None = None, seed: int = 0,
               n_repeats: int = 5) -> pd.DataFrame:
    """How much each parameter explains the metric: the permutation importance of each
    parameter in a random forest fitted on the trials (scikit-learn), mean and std over
    ``n_repeats`` shuffles, sorted from most to least important.

    Categorical parameters enter as codes (trees split them as numbers); inactive parameters
    (conditional spaces) as NaN, which scikit-learn's forests handle. Needs at least four
    trials with a finite metric.
    """
    try:
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.inspection import permutation_importance
    except ImportError as error:  # pragma: no cover - the plots extra brings it
        raise ImportError("parameter importance needs scikit-learn: pip install 'rung[plots]'") from error
    data = param_table(source, params)
    if len(data.table) < 4:
        raise ValueError(f"parameter importance needs at least 4 trials with a finite metric, have {len(data.table)}")
    if not data.params:
        raise ValueError("parameter importance needs at least one parameter")
    features = data.table[data.params].to_numpy(dtype=float)
    target = data.table["value"].to_numpy(dtype=float)
    model = RandomForestRegressor(n_estimators=50, min_samples_leaf=2, random_state=seed)
    model.fit(features, target)
    scores = permutation_importance(model, features, target, n_repeats=n_repeats, random_state=seed)
    frame = pd.DataFrame({"param": data.params, "importance": scores.importances_mean,
                          "std": scores.importances_std})
    return frame.sort_values(["importance", "param"], ascending=[False, True], ignore_index=True)


# -- workers ---------------------------------------------------------------------------------
def timeline(source: "ViewInput | TuningResult") -> pd.DataFrame:
    """Every stay of a trial on a worker: trial_id, lane, start, end, outcome, running.

    The store records no worker ids, so lanes are worker slots rebuilt by packing: each
    stay takes the lowest lane free at its start. With n workers this uses at most n lanes.
    """
    src = view_input(source)
    ends = outcomes(src)
    segments = src.segments.sort_values(["start", "trial_id"], ignore_index=True)
    lanes_end: list[float] = []
    lanes = []
    for start, end in zip(segments["start"], segments["end"]):
        for lane, busy_until in enumerate(lanes_end):
            if busy_until <= start + 1e-9:
                lanes_end[lane] = end
                lanes.append(lane)
                break
        else:
            lanes_end.append(end)
            lanes.append(len(lanes_end) - 1)
    out = segments.assign(lane=lanes)
    out["outcome"] = ["running" if running else ends.get(int(t), "running")
                      for t, running in zip(out["trial_id"], out["running"])]
    return out[["trial_id", "lane", "start", "end", "outcome", "running", "kind"]]


# -- the trial table -------------------------------------------------------------------------
def trials_table(source: "ViewInput | TuningResult") -> pd.DataFrame:
    """One row per trial: id, outcome, metric, reports, timings, reason, config (sorted best first)."""
    src = view_input(source)
    ends = outcomes(src)
    rows = []
    for trial in src.trial_records:
        row: dict[str, Any] = {"trial_id": trial.trial_id, "outcome": ends[trial.trial_id],
                               src.metric: trial.metric_value, "reports": trial.n_reports,
                               "run_time": trial.run_time, "end_reason": trial.end_reason or trial.error or ""}
        for name in src.parameter_names:
            row[name] = trial.config.get(name)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["trial_id", "outcome", src.metric, "reports", "run_time", "end_reason",
                                        *src.parameter_names])
    key = pd.to_numeric(frame[src.metric], errors="coerce") * src.sign
    return frame.assign(_k=key).sort_values(["_k", "trial_id"], na_position="last").drop(columns="_k")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and not (isinstance(value, float) and math.isnan(value))
