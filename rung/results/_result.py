"""What a tuning run leaves behind: every trial, every report, the incumbent over time."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
import os
from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence

from ..trial._record import Report, Trial, TrialStatus
from ._columns import END_FIELDS, end_fields, keep_ints

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd


class _Mode(Protocol):
    @property
    def mode(self) -> str: ...


def best_trial_of(trials: Iterable[Trial], objective: _Mode) -> Trial | None:
    """The trial with the best finite metric value among ``trials`` that did not fail (the
    first in ``trials`` of equally good ones), for ``objective.mode``; None if none has one."""
    best: Trial | None = None
    for trial in trials:
        value = trial.metric_value
        if trial.status is TrialStatus.FAILED or value is None or not math.isfinite(value):
            continue
        if best is None or _better(objective.mode, value, best.metric_value):
            best = trial
    return best


def _better(mode: str, a: float, b: float | None) -> bool:
    if b is None:
        return True
    return a < b if mode == "min" else a > b


@dataclass
class TrajectoryPoint:
    elapsed: float
    best_value: float
    trial_id: int


@dataclass
class TuningResult:
    """The outcome of :meth:`rung.Tuner.run` (and, later, of ``rung.load``).

    ``trials``, ``reports`` and ``trajectory`` are pandas DataFrames built on first access.
    Config columns are named ``config/<parameter>``; a parameter inactive in a trial's
    config (conditional spaces) is NaN there.
    """

    experiment: str
    metric: str
    mode: str
    trial_records: list[Trial]
    report_records: list[Report]
    trajectory_points: list[TrajectoryPoint]
    stop_reason: str
    wallclock: float
    decision_time: float
    parameter_names: list[str] = field(default_factory=list)
    workdir: str | None = None
    status: str = "finished"
    warm_start: dict[str, Any] | None = None
    decision_rungs: set[float] = field(default_factory=set)
    #: The stored log (reports with their decisions, trial events) when read from a store
    #: (``rung.load``); the views use it for each trial's stays on workers. None otherwise.
    log_entries: list[Any] | None = field(default=None, repr=False)
    #: The space as a dict (``Space.to_dict()``), so views know log-scaled parameters.
    space: dict[str, Any] | None = field(default=None, repr=False)

    # -- the incumbent ---------------------------------------------------------------------
    @cached_property
    def best_trial(self) -> Trial | None:
        """The trial with the best final metric among those that produced one."""
        return best_trial_of(self.trial_records, self)

    @property
    def best_config(self) -> dict[str, Any] | None:
        return None if self.best_trial is None else dict(self.best_trial.config)

    @property
    def best_value(self) -> float | None:
        return None if self.best_trial is None else self.best_trial.metric_value

    def _better(self, a: float, b: float | None) -> bool:
        return _better(self.mode, a, b)

    # -- tables ------------------------------------------------------------------------------
    @cached_property
    def trials(self) -> "pd.DataFrame":
        """One row per trial: id, status, config, final metric, timings, failure reason."""
        import pandas as pd  # imported late: trial code imports rung and should stay light

        # Built column by column (a list per column, not a dict per row): the same frame, in
        # a fraction of the time for 100,000 trials.
        trials = self.trial_records
        none_ended = {column: None for column, _ in END_FIELDS}
        ends = [end_fields(trial) if trial.end_details else none_ended for trial in trials]
        data: dict[str, list[Any]] = {
            "trial_id": [t.trial_id for t in trials],
            "status": [t.status.value for t in trials],
            self.metric: [t.metric_value for t in trials],
            "n_reports": [t.n_reports for t in trials],
            "started": [t.started_at for t in trials],
            "ended": [t.ended_at for t in trials],
            "run_time": [t.run_time for t in trials],
            "end_reason": [t.end_reason for t in trials],
            **{column: [end[column] for end in ends] for column, _ in END_FIELDS},  # the scheduler's rung, value, threshold
            "error": [t.error for t in trials],
        }
        configs = [t.config for t in trials]
        raw: dict[str, list[Any]] = {}  # the values, None where inactive, of the columns with gaps
        for name in self.parameter_names:
            column = data[f"config/{name}"] = [config.get(name, math.nan) for config in configs]
            if any(name not in config for config in configs):
                raw[f"config/{name}"] = [config.get(name) for config in configs]
            elif any(value is None for value in column):  # a None value, not a gap: as before
                raw[f"config/{name}"] = column
        # A metric called like a fixed column: the later column wins, as in a dict per row.
        columns = list(dict.fromkeys(["trial_id", "status", self.metric, "n_reports", "started", "ended", "run_time",
                                      "end_reason", *(c for c, _ in END_FIELDS), "error"]
                                     + [f"config/{name}" for name in self.parameter_names]))
        if not trials:  # no rows: columns of dtype object, as a frame of no records has
            return pd.DataFrame([], columns=columns)
        return keep_ints(pd.DataFrame({column: data[column] for column in columns}, columns=columns), raw)

    @cached_property
    def reports(self) -> "pd.DataFrame":
        """One row per accepted report: trial id, step (1, 2, ...), elapsed time, metrics."""
        import pandas as pd

        records = self.report_records
        if not records:
            return pd.DataFrame(columns=["trial_id", "step", "time", self.metric])
        # Column by column, as a dict per row ``{"trial_id", "step", "time", **metrics}``
        # would give: columns in order of first appearance, a metric named like a fixed
        # column replacing it in the reports that have it, NaN where a report lacks a metric.
        metrics = [r.metrics for r in records]
        names: dict[str, None] = {}
        last_keys = None
        for values in metrics:
            keys = values.keys()
            if keys != last_keys:
                names.update(dict.fromkeys(keys))
                last_keys = keys
        fixed: dict[str, list[Any]] = {"trial_id": [r.trial_id for r in records], "step": [r.step for r in records],
                 "time": [r.time for r in records]}
        data: dict[str, list[Any]] = {}
        for column, base in fixed.items():
            data[column] = [m[column] if column in m else b for m, b in zip(metrics, base)] if column in names else base
        for name in names:
            if name not in fixed:
                data[name] = [m.get(name, math.nan) for m in metrics]
        return pd.DataFrame(data)

    @cached_property
    def trajectory(self) -> "pd.DataFrame":
        """The incumbent over time: elapsed seconds, best value so far, trial that set it."""
        import pandas as pd
        return pd.DataFrame(
            [(p.elapsed, p.best_value, p.trial_id) for p in self.trajectory_points],
            columns=["elapsed", "best_value", "trial_id"],
        )

    # -- plots -------------------------------------------------------------------------------
    def decision_levels(self) -> list[float]:
        """Resource levels (rungs or intervals) at which the scheduler paused or stopped trials."""
        return sorted(self.decision_rungs)

    def plot_metric_per_rung(self, path: "str | os.PathLike[str]", resource_attr: str | None = None,
                             levels: "Sequence[float] | None" = None) -> "Path":
        """Save the metric of every trial at each rung level to ``path`` (see ``rung.plots``)."""
        from ..plots import metric_per_rung

        return metric_per_rung(self, path, resource_attr=resource_attr, levels=levels)

    def plot_incumbent(self, path: "str | os.PathLike[str]") -> "Path":
        """Save the best value so far against wall-clock time and trials to ``path``."""
        from ..plots import incumbent

        return incumbent(self, path)

    def plot_learning_curves(self, path: "str | os.PathLike[str]", resource_attr: str | None = None) -> "Path":
        """Save each trial's metric over its reports, coloured by how it ended, to ``path``."""
        from ..plots import learning_curves

        return learning_curves(self, path, resource_attr=resource_attr)

    def plot_parallel_coordinates(self, path: "str | os.PathLike[str]",
                                  params: "Sequence[str] | None" = None) -> "Path":
        """Save parallel coordinates of the parameters and the metric to ``path``."""
        from ..plots import parallel_coordinates

        return parallel_coordinates(self, path, params=params)

    def plot_scatter(self, path: "str | os.PathLike[str]", params: "Sequence[str]") -> "Path":
        """Save two parameters against each other, coloured by the metric, to ``path``."""
        from ..plots import scatter

        return scatter(self, path, params=params)

    def plot_scatter3d(self, path: "str | os.PathLike[str]", params: "Sequence[str]") -> "Path":
        """Save a 3-D scatter (two parameters and the metric, or three parameters) to ``path``."""
        from ..plots import scatter3d

        return scatter3d(self, path, params=params)

    def plot_slices(self, path: "str | os.PathLike[str]", params: "Sequence[str] | None" = None) -> "Path":
        """Save each parameter against the metric to ``path``."""
        from ..plots import slices

        return slices(self, path, params=params)

    def plot_importance(self, path: "str | os.PathLike[str]", params: "Sequence[str] | None" = None,
                        seed: int = 0) -> "Path":
        """Save the parameters' importance (random forest, permutation importance) to ``path``."""
        from ..plots import importance

        return importance(self, path, params=params, seed=seed)

    def plot_timeline(self, path: "str | os.PathLike[str]") -> "Path":
        """Save the trials on worker slots over wall-clock time to ``path``."""
        from ..plots import timeline

        return timeline(self, path)

    def figure(self, view: str, **options: Any) -> Any:
        """An interactive plotly figure of ``view`` (shows itself in Jupyter): one of
        ``learning_curves``, ``incumbent``, ``metric_per_rung``, ``parallel_coordinates``,
        ``scatter``, ``scatter3d``, ``slices``, ``importance``, ``timeline``; ``options`` are
        that view's (``params=[...]``, ``resource_attr=``, ``levels=``)."""
        from ..plots.figures import VIEWS

        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}; choose one of {sorted(VIEWS)}")
        draw: Any = VIEWS[view]
        return draw(self, **options)

    def _repr_html_(self) -> str:
        """The result in Jupyter: headline, time split and the best trials as a table."""
        from ..plots._html import result_html

        return result_html(self)

    # -- summary -----------------------------------------------------------------------------
    def count(self, status: TrialStatus | str) -> int:
        status = TrialStatus(status)
        return sum(1 for trial in self.trial_records if trial.status is status)

    @property
    def trial_time(self) -> float:
        """Seconds spent inside trials, summed over trials (exceeds wallclock when parallel)."""
        return sum(trial.run_time for trial in self.trial_records)

    def trial(self, trial_id: int) -> Trial:
        for trial in self.trial_records:
            if trial.trial_id == trial_id:
                return trial
        raise KeyError(f"no trial with id {trial_id} in experiment {self.experiment!r}")

    def __repr__(self) -> str:
        return (
            f"TuningResult(experiment={self.experiment!r}, trials={len(self.trial_records)}, "
            f"best_value={self.best_value!r}, stop_reason={self.stop_reason!r})"
        )
