"""A comparison of methods over seeds: its runs, scores and place in the store.

Each run is an ordinary experiment ``<name>.<method>.s<seed>``; the comparison itself is
an experiment record called ``<name>`` with no trials whose ``settings["comparison"]``
lists the methods, seeds, run experiments and target. So it lives in any store, the CLI
lists it, and the dashboard finds it with :func:`list_comparisons`.

The incumbent of a run is the best value among its trials that *completed* (ran to their
end, i.e. to full fidelity); trials a scheduler stopped early report values at lower
fidelity and are left out, so multi-fidelity methods are scored on what they finished.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..trial._record import TrialStatus
from . import scoring

if TYPE_CHECKING:
    from pathlib import Path

    from ..results._result import TuningResult
    from ..storage import Storage

SETTINGS_KEY = "comparison"
#: The method whose median final value is the default target, when compared.
REFERENCE = "random"


def run_name(comparison: str, method: str, seed: int) -> str:
    """The experiment name of one run of a comparison."""
    return f"{comparison}.{method}.s{seed}"


@dataclass
class RunSummary:
    """One (method, seed) run: its experiment, incumbent steps and costs."""

    method: str
    seed: int
    experiment: str
    steps: list[tuple[float, float]]
    elapsed: float
    n_trials: int
    n_failed: int
    decision_time: float
    status: str = "finished"

    @property
    def final(self) -> float:
        return self.steps[-1][1] if self.steps else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "seed": self.seed, "experiment": self.experiment,
                "steps": [list(p) for p in self.steps], "elapsed": self.elapsed, "n_trials": self.n_trials,
                "n_failed": self.n_failed, "decision_time": self.decision_time, "status": self.status}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunSummary":
        return cls(method=data["method"], seed=int(data["seed"]), experiment=data["experiment"],
                   steps=[(float(t), float(v)) for t, v in data["steps"]], elapsed=float(data["elapsed"]),
                   n_trials=int(data["n_trials"]), n_failed=int(data["n_failed"]),
                   decision_time=float(data["decision_time"]), status=data.get("status", "finished"))


def summarize_run(method: str, seed: int, result: "TuningResult", mode: str) -> RunSummary:
    """The run's incumbent over its completed trials, by the time each ended."""
    points = sorted((float(t.ended_at), float(t.metric_value)) for t in result.trial_records
                    if t.status is TrialStatus.COMPLETED and t.metric_value is not None and t.ended_at is not None)
    return RunSummary(method=method, seed=seed, experiment=result.experiment,
                      steps=scoring.incumbent_steps(points, mode), elapsed=float(result.wallclock),
                      n_trials=len(result.trial_records), n_failed=result.count("failed"),
                      decision_time=float(result.decision_time), status=result.status)


@dataclass
class Comparison:
    """Methods run over seeds on one problem, and how they fared.

    ``runs``: one row per run. :meth:`curves`: the incumbent against wall-clock time, mean
    and 95 % t band per method. :meth:`summary`: final values and time to a target.
    """

    name: str
    metric: str
    mode: str
    methods: list[str]
    seeds: list[int]
    run_records: list[RunSummary] = field(default_factory=list)
    target: float | None = None
    clock: str = "wall-clock (s)"

    # -- tables ------------------------------------------------------------------------------
    @property
    def runs(self) -> pd.DataFrame:
        """method, seed, experiment, final, elapsed, trials, failed, decision_time, time_to_target."""
        target = self.default_target() if self.target is None else self.target
        rows = [{"method": r.method, "seed": r.seed, "experiment": r.experiment, "final": r.final,
                 "elapsed": r.elapsed, "trials": r.n_trials, "failed": r.n_failed,
                 "decision_time": r.decision_time,
                 "time_to_target": scoring.time_to(r.steps, target, self.mode) if math.isfinite(target) else math.nan}
                for r in self.run_records]
        return pd.DataFrame(rows, columns=["method", "seed", "experiment", "final", "elapsed", "trials", "failed",
                                           "decision_time", "time_to_target"])

    def default_target(self) -> float:
        """The target for "time to target": the median final value over seeds of random
        search if compared, else of the first method (NaN if it has none)."""
        reference = REFERENCE if REFERENCE in self.methods else self.methods[0]
        finals = [r.final for r in self.run_records if r.method == reference and math.isfinite(r.final)]
        return float(np.median(finals)) if finals else math.nan

    def horizon(self) -> float:
        return max((r.elapsed for r in self.run_records), default=0.0)

    def curves(self, points: int = 100) -> pd.DataFrame:
        """The incumbent on ``points`` times from 0 to the longest run: per method, mean and
        95 % t band over seeds (only where every seed has a value), median, and seeds with one."""
        grid = np.linspace(0.0, self.horizon(), points + 1)[1:]
        rows = []
        for method in self.methods:
            runs = [r for r in self.run_records if r.method == method]
            if not runs:
                continue
            values = np.array([scoring.incumbent_at(r.steps, grid) for r in runs])
            for i, time in enumerate(grid):
                column = values[:, i]
                have = int(np.isfinite(column).sum())
                if have < len(runs):
                    mean = half = median = math.nan
                else:
                    mean, half, _ = scoring.mean_interval(column)
                    median = float(np.median(column))
                rows.append({"method": method, "time": float(time), "mean": mean, "low": mean - half,
                             "high": mean + half, "median": median, "n": have})
        return pd.DataFrame(rows, columns=["method", "time", "mean", "low", "high", "median", "n"])

    def summary(self, target: float | None = None) -> pd.DataFrame:
        """Per method: seeds, final value (mean, 95 % interval, median, best), the target,
        median time to it over seeds (lower median; inf if more than half never got there),
        seeds that reached it, mean trials and decision seconds."""
        if target is None:
            target = self.default_target() if self.target is None else self.target
        sign = 1.0 if self.mode == "min" else -1.0
        rows = []
        for method in self.methods:
            runs = [r for r in self.run_records if r.method == method]
            finals = [r.final for r in runs]
            mean, half, _ = scoring.mean_interval(finals)
            finite = [v for v in finals if math.isfinite(v)]
            times = [scoring.time_to(r.steps, target, self.mode) for r in runs] if math.isfinite(target) else []
            rows.append({
                "method": method, "seeds": len(runs), "final_mean": mean, "final_low": mean - half,
                "final_high": mean + half, "final_median": float(np.median(finite)) if finite else math.nan,
                "final_best": (min(finite, key=lambda v: sign * v) if finite else math.nan), "target": target,
                "median_time_to_target": scoring.median_time(times) if times else math.nan,
                "reached": int(sum(math.isfinite(t) for t in times)),
                "trials_mean": float(np.mean([r.n_trials for r in runs])) if runs else math.nan,
                "decision_time_mean": float(np.mean([r.decision_time for r in runs])) if runs else math.nan,
            })
        return pd.DataFrame(rows)

    # -- pictures ----------------------------------------------------------------------------
    def plot(self, path: "str | os.PathLike[str]", points: int = 100) -> "Path":
        """Save the incumbent curves (mean and 95 % band per method) to ``path``."""
        from ..plots import save
        from ._draw import comparison_figure

        return save(comparison_figure(self, points), path)

    def figure(self, points: int = 100) -> Any:
        """The incumbent curves as an interactive plotly figure."""
        from ._draw import comparison_plotly

        return comparison_plotly(self, points)

    def _repr_html_(self) -> str:
        import html

        table = self.summary().to_html(index=False, na_rep="", float_format=lambda v: f"{v:.6g}")
        return (f"<div class='rung-comparison'><p><b>{html.escape(self.name)}</b>: {len(self.methods)} methods x "
                f"{len(self.seeds)} seeds on {html.escape(self.metric)} ({self.mode})</p>{table}</div>")

    # -- the store ---------------------------------------------------------------------------
    def stored_settings(self) -> dict[str, Any]:
        return {SETTINGS_KEY: {"methods": list(self.methods), "seeds": list(self.seeds), "target": self.target,
                               "clock": self.clock,
                               "runs": [{"method": r.method, "seed": r.seed, "experiment": r.experiment}
                                        for r in self.run_records]}}

    def __repr__(self) -> str:
        return (f"Comparison(name={self.name!r}, methods={self.methods}, seeds={len(self.seeds)}, "
                f"runs={len(self.run_records)})")


def list_comparisons(storage: "str | os.PathLike[str] | Storage | None" = None) -> list[str]:
    """The names of the comparisons in a store (experiment records without trials whose
    settings describe a comparison), in creation order."""
    from ..storage import open_storage

    store = open_storage(storage)
    try:
        names = []
        for summary in store.list_experiments():
            if summary.n_trials:
                continue
            record = store.get_experiment(summary.name)
            if record is not None and isinstance((record.settings or {}).get(SETTINGS_KEY), dict):
                names.append(summary.name)
        return names
    finally:
        if store is not storage:
            store.dispose()


def load_comparison(name: str, storage: "str | os.PathLike[str] | Storage | None" = None) -> Comparison:
    """The comparison ``name`` from the store, its runs read from their experiments."""
    from ..results import load
    from ..storage import open_storage

    store = open_storage(storage)
    try:
        record = store.require_experiment(name)
        stored = (record.settings or {}).get(SETTINGS_KEY)
        if not isinstance(stored, dict):
            raise ValueError(f"experiment {name!r} in {store.url} is not a comparison")
        runs = []
        for run in stored.get("runs", []):
            if store.get_experiment(run["experiment"]) is None:
                continue
            result = load(run["experiment"], store)
            runs.append(summarize_run(run["method"], int(run["seed"]), result, record.mode))
    finally:
        if store is not storage:
            store.dispose()
    return Comparison(name=name, metric=record.metric, mode=record.mode, methods=list(stored["methods"]),
                      seeds=[int(s) for s in stored["seeds"]], run_records=runs, target=stored.get("target"),
                      clock=stored.get("clock", "wall-clock (s)"))

