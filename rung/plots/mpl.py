"""matplotlib figures of every view (the static renderer).

Each function takes a :class:`rung.TuningResult` (or a :class:`~rung.plots.data.ViewInput`)
and returns a matplotlib ``Figure`` drawing exactly what :mod:`rung.plots.data` computes;
:mod:`rung.plots` saves them to files. matplotlib is imported on first use with the Agg
backend (no display needed).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import data as views
from ._style import BEST_COLOR, METRIC_COLORSCALE, outcome_colors, wrap_title

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _figure(width: float = 7.5, height: float = 4.8, **kwargs: Any) -> tuple["Figure", Any]:
    plt = pyplot()
    return plt.subplots(figsize=(width, height), layout="constrained", **kwargs)


def _title(axes: "Axes | Figure", text: str) -> None:
    if hasattr(axes, "set_title"):
        axes.set_title(wrap_title(text), fontsize=10)
    else:
        axes.suptitle(wrap_title(text), fontsize=10)


def _level_ticks(axes: "Axes", levels: Sequence[float]) -> None:
    """Ticks exactly at the rung levels, no others (no stray minor labels on a log axis)."""
    from matplotlib.ticker import FixedLocator, NullLocator

    axes.xaxis.set_major_locator(FixedLocator(list(levels)))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xticklabels([f"{level:g}" for level in levels])


def learning_curves(source: Any, resource_attr: str | None = None) -> "Figure":
    """Each trial's metric against the resource, coloured by outcome, rung levels marked."""
    curves = views.learning_curves(source, resource_attr)
    src = views.view_input(source)
    fig, axes = _figure()
    colors = outcome_colors(curves.outcomes)
    handles = []
    for outcome in curves.outcomes:  # one collection per outcome: fast with many trials
        part = curves.points[curves.points["outcome"] == outcome]
        if part.empty:
            continue
        ids, lines = views.polylines(part)
        axes.add_collection(LineCollection(lines, colors=colors[outcome], linewidths=1, alpha=0.8,
                                           gid=f"outcome-{outcome}"))
        axes.plot(part["x"], part["value"], "o", markersize=2.5, color=colors[outcome], alpha=0.8,
                  gid=f"points-{outcome}")
        handles.append(Line2D([], [], color=colors[outcome], marker="o", markersize=3, label=outcome))
    axes.autoscale_view()
    for level in curves.levels:
        axes.axvline(level, color="#999999", linestyle=":", linewidth=1, gid=f"rung-{level:g}")
    if curves.levels:
        handles.append(Line2D([], [], color="#999999", linestyle=":", label="rung level"))
    if views.spans_decades(curves.points["value"]):
        axes.set_yscale("log")
    axes.set_xlabel(curves.x_label)
    axes.set_ylabel(curves.metric)
    _title(axes, f"{src.experiment}: {curves.metric} of each trial")
    if handles:
        axes.legend(handles=handles, fontsize=8, title="how it ended", title_fontsize=8, loc="upper right")
    axes.grid(True, alpha=0.3)
    return fig


def incumbent(source: Any) -> "Figure":
    """Best value so far over wall-clock and over finished trials; decision vs training time."""
    data = views.incumbent(source)
    src = views.view_input(source)
    fig, (over_time, over_trials, split) = _figure(7.5, 8.4, nrows=3, height_ratios=[3, 3, 1.2])
    if len(data.over_time):
        over_time.step(data.over_time["elapsed"], data.over_time["best_value"], where="post", color="#1f77b4",
                       label="incumbent", gid="incumbent-time")
        over_time.plot(data.over_time["elapsed"].iloc[:-1] if len(data.over_time) > 1 else data.over_time["elapsed"],
                       data.over_time["best_value"].iloc[:-1] if len(data.over_time) > 1
                       else data.over_time["best_value"], "o", color="#1f77b4", markersize=3)
    over_time.set_xlabel("wall-clock (s)")
    over_time.set_ylabel(f"best {data.metric}")
    _title(over_time, f"{src.experiment}: incumbent over time")
    finite = data.over_trials.dropna(subset=["value"])
    over_trials.plot(finite["n"], finite["value"], ".", color="#bbbbbb", label="trial", gid="trial-values")
    over_trials.step(data.over_trials["n"], data.over_trials["best_value"], where="post", color="#1f77b4",
                     label="incumbent", gid="incumbent-trials")
    over_trials.set_xlabel("trials finished")
    over_trials.set_ylabel(data.metric)
    over_trials.legend(fontsize=8)
    if views.spans_decades(finite["value"]):
        over_trials.set_yscale("log")
    names = ["decisions", "training (sum over trials)", "wall-clock"]
    values = [data.time_split["decision_time"], data.time_split["training_time"], data.time_split["wallclock"]]
    bars = split.barh(names, values, color=["#ff7f0e", "#2ca02c", "#7f7f7f"], gid="time-split")
    split.bar_label(bars, labels=[f"{v:.3g} s" for v in values], fontsize=8, padding=2)
    split.set_xlabel("seconds")
    split.set_ylabel("time")
    split.invert_yaxis()
    for axes in (over_time, over_trials, split):
        axes.grid(True, alpha=0.3)
    return fig


def metric_per_rung(source: Any, resource_attr: str | None = None,
                    levels: Sequence[float] | None = None) -> "Figure":
    """The metric of every trial at each rung level (top rung included), best trial highlighted."""
    data = views.metric_per_rung(source, resource_attr, levels)
    src = views.view_input(source)
    fig, axes = _figure()
    others = data.points[~data.points["best"]]
    _, lines = views.polylines(others, "level", "value")
    axes.add_collection(LineCollection(lines, colors="#1f77b4", linewidths=0.8, alpha=0.5, gid="trials"))
    axes.plot(others["level"], others["value"], "o", markersize=3, color="#1f77b4", alpha=0.5, gid="trial-points")
    axes.autoscale_view()
    best = data.points[data.points["best"]]
    if len(best):
        axes.plot(best["level"], best["value"], marker="o", markersize=5, linewidth=2.2, color=BEST_COLOR,
                  label=f"best trial ({data.best_trial_id})", gid=f"best-{data.best_trial_id}", zorder=5)
        axes.legend(fontsize=8, loc="upper right")
    if len(data.levels) > 1 and min(data.levels) > 0 and max(data.levels) / min(data.levels) >= 4:
        axes.set_xscale("log")
    _level_ticks(axes, data.levels)
    if data.log_scale:
        axes.set_yscale("log")
    axes.set_xlabel(f"rung level ({data.resource_attr})")
    axes.set_ylabel(data.metric)
    _title(axes, f"{src.experiment}: {data.metric} of every trial at each rung")
    axes.grid(True, alpha=0.3)
    return fig


def _axis_values(table: Any, name: str, data: views.ParamTable) -> Any:
    values = table[name].to_numpy(dtype=float)
    return np.log10(values) if name in data.log_params else values


def parallel_coordinates(source: Any, params: Sequence[str] | None = None) -> "Figure":
    """One vertical axis per parameter and one for the metric; one line per trial, coloured
    by the metric (each axis scaled to its range; log parameters on a log scale)."""
    data = views.parallel_coordinates(source, params)
    src = views.view_input(source)
    names = [*data.params, "value"]
    fig, axes = _figure(max(6.0, 1.4 * len(names) + 2), 4.8)
    columns = []
    for name in names:
        values = _axis_values(data.table, name, data) if name != "value" else data.table["value"].to_numpy(float)
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        span = high - low or 1.0
        columns.append(((values - low) / span, low, high))
    scaled = np.column_stack([c[0] for c in columns]) if len(data.table) else np.zeros((0, len(names)))
    segments = [np.column_stack([np.arange(len(names)), row]) for row in scaled]
    lines = LineCollection(segments, cmap=METRIC_COLORSCALE, linewidths=1, alpha=0.7, gid="trials")
    lines.set_array(data.table["value"].to_numpy(dtype=float))
    axes.add_collection(lines)
    fig.colorbar(lines, ax=axes, label=data.metric)
    for i, (name, (_, low, high)) in enumerate(zip(names, columns)):
        axes.axvline(i, color="black", linewidth=0.8)
        if name in data.categories:
            labels = data.categories[name]
            for code, label in enumerate(labels):
                position = (code - low) / ((high - low) or 1.0)
                axes.text(i, position, f" {label}", fontsize=7, va="center")
        else:
            def show(v: float, log: bool = name in data.log_params) -> str:
                return f"{10 ** v:.3g}" if log else f"{v:.3g}"
            axes.text(i, -0.04, show(low), fontsize=7, ha="center", va="top")
            axes.text(i, 1.04, show(high), fontsize=7, ha="center", va="bottom")
    axes.set_xlim(-0.3, len(names) - 0.7)
    axes.set_ylim(-0.12, 1.12)
    axes.set_xticks(range(len(names)))
    axes.set_xticklabels([*data.params, data.metric], rotation=20)
    axes.set_yticks([])
    axes.set_xlabel("parameter")
    axes.set_ylabel("scaled to each axis' range")
    _title(axes, f"{src.experiment}: parallel coordinates ({len(data.table)} trials)")
    return fig


def _param_axis(axes: "Axes", which: str, name: str, data: views.ParamTable) -> None:
    set_label = getattr(axes, f"set_{which}label")
    set_label(name)
    if name in data.categories:
        getattr(axes, f"set_{which}ticks")(range(len(data.categories[name])))
        getattr(axes, f"set_{which}ticklabels")([str(c) for c in data.categories[name]])
    elif name in data.log_params and which != "z":
        getattr(axes, f"set_{which}scale")("log")


def scatter(source: Any, params: Sequence[str]) -> "Figure":
    """Two parameters against each other, each trial a point coloured by the metric."""
    if len(params) != 2:
        raise ValueError(f"a 2-D scatter takes two parameters, got params={list(params)}")
    data = views.scatter(source, params)
    src = views.view_input(source)
    fig, axes = _figure(6.5, 5.2)
    x, y = params
    points = axes.scatter(data.table[x], data.table[y], c=data.table["value"], cmap=METRIC_COLORSCALE, s=18,
                          gid="trials")
    fig.colorbar(points, ax=axes, label=data.metric)
    _param_axis(axes, "x", x, data)
    _param_axis(axes, "y", y, data)
    _title(axes, f"{src.experiment}: {x} and {y} (colour: {data.metric})")
    axes.grid(True, alpha=0.3)
    return fig


def scatter3d(source: Any, params: Sequence[str]) -> "Figure":
    """Three axes: two parameters and the metric, or three parameters coloured by the metric."""
    if len(params) not in (2, 3):
        raise ValueError(f"a 3-D scatter takes two or three parameters, got params={list(params)}")
    data = views.scatter(source, params)
    src = views.view_input(source)
    plt = pyplot()
    fig = plt.figure(figsize=(7, 6), layout="constrained")
    axes = fig.add_subplot(projection="3d")
    names = list(params)
    log = {n: n in data.log_params for n in names}
    coords = [np.log10(data.table[n].to_numpy(float)) if log[n] else data.table[n].to_numpy(float) for n in names]
    if len(names) == 2:
        coords.append(data.table["value"].to_numpy(float))
    points = axes.scatter(*coords, c=data.table["value"], cmap=METRIC_COLORSCALE, s=14, gid="trials")
    labels = [f"log10 {n}" if log[n] else n for n in names] + ([data.metric] if len(names) == 2 else [])
    for which, label, name in zip("xyz", labels, names + [""]):
        getattr(axes, f"set_{which}label")(label)
        if name in data.categories:
            getattr(axes, f"set_{which}ticks")(range(len(data.categories[name])))
            getattr(axes, f"set_{which}ticklabels")([str(c) for c in data.categories[name]])
    if len(names) == 3:
        fig.colorbar(points, ax=axes, label=data.metric, shrink=0.6)
    _title(axes, f"{src.experiment}: {' / '.join(names)} against {data.metric}")
    return fig


def slices(source: Any, params: Sequence[str] | None = None) -> "Figure":
    """One panel per parameter: its value against the metric, points coloured by trial order."""
    long = views.slices(source, params)
    src = views.view_input(source)
    table = views.param_table(src, params)
    names = table.params
    columns = min(3, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / columns))
    fig, grid = _figure(3.6 * columns, 3.2 * rows, nrows=rows, ncols=columns, squeeze=False)
    for axes, name in zip(grid.flat, names):
        part = long[long["param"] == name]
        axes.scatter(part["x"], part["value"], c=part["trial_id"], cmap="Blues", s=14, edgecolors="#555555",
                     linewidths=0.3, gid=f"slice-{name}")
        _param_axis(axes, "x", name, table)
        axes.set_ylabel(src.metric)
        if views.spans_decades(part["value"]):
            axes.set_yscale("log")
        axes.grid(True, alpha=0.3)
    for axes in list(grid.flat)[len(names):]:
        axes.set_visible(False)
    _title(fig, f"{src.experiment}: {src.metric} against each parameter (darker: later trials)")
    return fig


def importance(source: Any, params: Sequence[str] | None = None, seed: int = 0) -> "Figure":
    """Permutation importance of each parameter in a random forest fitted on the trials."""
    table = views.importance(source, params, seed=seed)
    src = views.view_input(source)
    fig, axes = _figure(6.5, 1.2 + 0.45 * len(table))
    axes.barh(table["param"], table["importance"], xerr=table["std"], color="#1f77b4", gid="importance")
    axes.invert_yaxis()
    axes.set_xlabel(f"permutation importance (drop in R² of a random forest on {src.metric})")
    axes.set_ylabel("parameter")
    _title(axes, f"{src.experiment}: parameter importance")
    axes.grid(True, axis="x", alpha=0.3)
    return fig


def timeline(source: Any) -> "Figure":
    """Each trial's time on a worker as a bar, one row per worker slot, coloured by outcome."""
    table = views.timeline(source)
    src = views.view_input(source)
    lanes = int(table["lane"].max()) + 1 if len(table) else 1
    fig, axes = _figure(8, 1.6 + 0.35 * lanes)
    colors = outcome_colors(table["outcome"])
    handles = []
    for outcome in views.ordered_outcomes(table["outcome"]):  # one collection per (outcome, lane)
        part = table[table["outcome"] == outcome]
        for lane, stays in part.groupby("lane", sort=True):
            spans = list(zip(stays["start"].to_numpy(dtype=float),
                             (stays["end"] - stays["start"]).to_numpy(dtype=float)))
            axes.broken_barh(spans, (int(str(lane)) - 0.4, 0.8), facecolors=colors[outcome], edgecolor="white",
                             linewidth=0.5, hatch="//" if outcome == "running" else None,
                             gid=f"{outcome}@{lane}")
        handles.append(Patch(facecolor=colors[outcome], hatch="//" if outcome == "running" else None, label=outcome))
    axes.set_xlim(0, max(float(table["end"].max()) if len(table) else 1.0, 1e-9) * 1.02)
    axes.set_yticks(range(lanes))
    axes.set_yticklabels([str(i) for i in range(lanes)])
    axes.set_ylim(lanes - 0.5, -0.5)
    axes.set_xlabel("wall-clock (s)")
    axes.set_ylabel("worker slot")
    _title(axes, f"{src.experiment}: trials on workers")
    if handles:
        axes.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.grid(True, axis="x", alpha=0.3)
    return fig


VIEWS = {
    "learning_curves": learning_curves, "incumbent": incumbent, "metric_per_rung": metric_per_rung,
    "parallel_coordinates": parallel_coordinates, "scatter": scatter, "scatter3d": scatter3d,
    "slices": slices, "importance": importance, "timeline": timeline,
}
