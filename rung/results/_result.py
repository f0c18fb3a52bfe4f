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
    mode: str


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
        rows = []
        for trial in self.trial_records:
            row: dict[str, Any] = {
                "trial_id": trial.trial_id,
                "status": trial.status.value,
                self.metric: trial.metric_value,
                "n_reports": trial.n_reports,
                "started": trial.started_at,
                "ended": trial.ended_at,
                "run_time": trial.run_time,
                "end_reason": trial.end_reason,
                **end_fields(trial),  # the scheduler's rung, value and threshold, in columns
                "error": trial.error,
            }
            for name in self.parameter_names:
                row[f"config/{name}"] = trial.config.get(name, math.nan)
            rows.append(row)
        columns = ["trial_id", "status", self.metric, "n_reports", "started", "ended", "run_time",
                   "end_reason", *(c for c, _ in END_FIELDS), "error"] + [f"config/{name}" for name in self.parameter_names]
        raw = {f"config/{name}": [t.config.get(name) for t in self.trial_records] for name in self.parameter_names}
        return keep_ints(pd.DataFrame(rows, columns=columns), raw)  # a conditional int stays an int

    @cached_property
    def reports(self) -> "pd.DataFrame":
        """One row per accepted report: trial id, step (1, 2, ...), elapsed time, metrics."""
        import pandas as pd
        rows = [{"trial_id": r.trial_id, "step": r.step, "time": r.time, **r.metrics} for r in self.report_records]
        frame = pd.DataFrame(rows)
        if frame.empty:
            frame = pd.DataFrame(columns=["trial_id", "step", "time", self.metric])
        return frame

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
