"""Plots of a tuning result, saved to files with matplotlib (the ``plots`` extra).

Each function takes a :class:`rung.TuningResult` and a path and returns the path written.
matplotlib is imported inside the functions with the non-interactive Agg backend, so
plotting works on machines without a display and costs nothing until used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from ._result import TuningResult


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def metric_per_rung(
    result: "TuningResult",
    path: str | os.PathLike,
    resource_attr: str = "epoch",
    levels: Sequence[float] | None = None,
) -> Path:
    """The metric of every trial at each rung level (one line per trial), as in ASHA plots.

    ``levels`` are the rung levels to show; by default the levels at which the scheduler
    recorded a decision (pause or stop), or every reported resource value if it made none.
    A trial's line ends where it stopped, so the picture shows how the scheduler thinned
    out the trials rung after rung.
    """
    reports = result.reports
    if resource_attr not in reports.columns:
        raise ValueError(f"no report has {resource_attr!r}; pass resource_attr= with the name trials report")
    if levels is None:
        levels = sorted({float(v) for v in result.decision_levels()}) or sorted(reports[resource_attr].dropna().unique())
    levels = sorted(float(v) for v in levels)
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for trial_id, group in reports.groupby("trial_id"):
        points = []
        for level in levels:
            reached = group[group[resource_attr] >= level]
            if reached.empty:
                break
            points.append((level, float(reached.iloc[0][result.metric])))
        if points:
            xs, ys = zip(*points)
            axes.plot(xs, ys, marker="o", markersize=3, linewidth=1, alpha=0.6)
    axes.set_xscale("log")
    axes.set_xticks(levels)
    axes.set_xticklabels([f"{level:g}" for level in levels])
    axes.set_xlabel(f"rung level ({resource_attr})")
    axes.set_ylabel(result.metric)
    axes.set_title(f"{result.experiment}: {result.metric} of every trial at each rung")
    return _save(plt, figure, axes, path)


def incumbent(result: "TuningResult", path: str | os.PathLike) -> Path:
    """The best value so far against elapsed wall-clock time (a step line)."""
    plt = _pyplot()
    trajectory = result.trajectory
    figure, axes = plt.subplots(figsize=(7, 4.5))
    if not trajectory.empty:
        xs = list(trajectory["elapsed"]) + [result.wallclock]
        ys = list(trajectory["best_value"]) + [trajectory["best_value"].iloc[-1]]
        axes.step(xs, ys, where="post")
    axes.set_xlabel("wall-clock (s)")
    axes.set_ylabel(f"best {result.metric}")
    axes.set_title(f"{result.experiment}: incumbent over time")
    return _save(plt, figure, axes, path)


def _save(plt, figure, axes, path: str | os.PathLike) -> Path:
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
