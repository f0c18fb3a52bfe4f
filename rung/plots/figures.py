"""plotly figures of every view (the interactive renderer, for notebooks).

Each function takes a :class:`rung.TuningResult` (or a :class:`~rung.plots.data.ViewInput`)
and returns a ``plotly.graph_objects.Figure`` drawing exactly what :mod:`rung.plots.data`
computes; in Jupyter a figure shows itself when it is the cell's value. Hover shows the
trial id. ``TuningResult.figure(view, ...)`` calls these by name.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from . import data as views
from ._style import BEST_COLOR, METRIC_COLORSCALE, outcome_colors

if TYPE_CHECKING:
    import plotly.graph_objects as go


def _go() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError as error:  # pragma: no cover - the plots extra brings it
        raise ImportError("interactive figures need plotly: pip install 'rung[plots]'") from error
    return go


def _layout(fig: "go.Figure", title: str, x: str, y: str, **extra: Any) -> "go.Figure":
    fig.update_layout(title={"text": title}, xaxis_title=x, yaxis_title=y, template="plotly_white",
                      legend={"title": extra.pop("legend_title", None)}, **extra)
    return fig


def _gapped(ids: list[int], lines: list[np.ndarray]) -> tuple[list[Any], list[Any], list[Any]]:
    """Polylines as one x/y series with None between trials (plotly draws gaps there)."""
    x: list[Any] = []
    y: list[Any] = []
    custom: list[Any] = []
    for trial_id, line in zip(ids, lines):
        if x:
            x.append(None)
            y.append(None)
            custom.append(None)
        x.extend(line[:, 0].tolist())
        y.extend(line[:, 1].tolist())
        custom.extend([trial_id] * len(line))
    return x, y, custom


def learning_curves(source: Any, resource_attr: str | None = None) -> "go.Figure":
    go = _go()
    curves = views.learning_curves(source, resource_attr)
    src = views.view_input(source)
    colors = outcome_colors(curves.outcomes)
    fig = go.Figure()
    for outcome in curves.outcomes:  # one trace per outcome, trials separated by gaps
        part = curves.points[curves.points["outcome"] == outcome]
        if part.empty:
            continue
        x, y, ids = _gapped(*views.polylines(part))
        fig.add_trace(go.Scattergl(
            x=x, y=y, mode="lines+markers", name=outcome, line={"color": colors[outcome], "width": 1},
            marker={"size": 4}, customdata=ids, connectgaps=False,
            hovertemplate=f"trial %{{customdata}}<br>{curves.x_label}=%{{x}}<br>{curves.metric}=%{{y}}"
                          f"<extra>{outcome}</extra>",
        ))
    for level in curves.levels:
        fig.add_vline(x=level, line={"dash": "dot", "color": "#999999", "width": 1})
    if views.spans_decades(curves.points["value"]):
        fig.update_yaxes(type="log")
    return _layout(fig, f"{src.experiment}: {curves.metric} of each trial", curves.x_label, curves.metric,
                   legend_title="how it ended")


def incumbent(source: Any) -> "go.Figure":
    go = _go()
    from plotly.subplots import make_subplots

    data = views.incumbent(source)
    src = views.view_input(source)
    fig = make_subplots(rows=3, cols=1, row_heights=[0.4, 0.4, 0.2], vertical_spacing=0.1,
                        subplot_titles=("incumbent over wall-clock", "incumbent over trials", "where the time went"))
    fig.add_trace(go.Scatter(x=data.over_time["elapsed"].tolist(), y=data.over_time["best_value"].tolist(),
                             mode="lines+markers", line={"shape": "hv", "color": "#1f77b4"}, name="incumbent",
                             customdata=data.over_time["trial_id"].tolist(),
                             hovertemplate="t=%{x:.3g} s<br>best=%{y}<br>trial %{customdata}<extra></extra>"),
                  row=1, col=1)
    finite = data.over_trials.dropna(subset=["value"])
    fig.add_trace(go.Scatter(x=finite["n"].tolist(), y=finite["value"].tolist(), mode="markers", name="trial",
                             marker={"color": "#bbbbbb", "size": 5}, customdata=finite["trial_id"].tolist(),
                             hovertemplate="trial %{customdata}<br>%{y}<extra></extra>"), row=2, col=1)
    fig.add_trace(go.Scatter(x=data.over_trials["n"].tolist(), y=data.over_trials["best_value"].tolist(),
                             mode="lines", line={"shape": "hv", "color": "#1f77b4"}, name="incumbent (trials)",
                             showlegend=False), row=2, col=1)
    split = data.time_split
    names = ["decisions", "training (sum over trials)", "wall-clock"]
    values = [split["decision_time"], split["training_time"], split["wallclock"]]
    fig.add_trace(go.Bar(x=values, y=names, orientation="h", name="seconds",
                         marker={"color": ["#ff7f0e", "#2ca02c", "#7f7f7f"]}, text=[f"{v:.3g} s" for v in values],
                         showlegend=False), row=3, col=1)
    fig.update_xaxes(title_text="wall-clock (s)", row=1, col=1)
    fig.update_yaxes(title_text=f"best {data.metric}", row=1, col=1)
    fig.update_xaxes(title_text="trials finished", row=2, col=1)
    fig.update_yaxes(title_text=data.metric, row=2, col=1)
    fig.update_xaxes(title_text="seconds", row=3, col=1)
    fig.update_yaxes(title_text="time", row=3, col=1)
    fig.update_layout(title={"text": f"{src.experiment}: incumbent"}, template="plotly_white", height=800)
    return fig


def metric_per_rung(source: Any, resource_attr: str | None = None,
                    levels: Sequence[float] | None = None) -> "go.Figure":
    go = _go()
    data = views.metric_per_rung(source, resource_attr, levels)
    src = views.view_input(source)
    fig = go.Figure()
    others = data.points[~data.points["best"]]
    if len(others):
        x, y, ids = _gapped(*views.polylines(others, "level", "value"))
        fig.add_trace(go.Scattergl(x=x, y=y, mode="lines+markers", line={"color": "#1f77b4", "width": 1},
                                   opacity=0.5, name="trials", customdata=ids, connectgaps=False,
                                   hovertemplate="trial %{customdata}<br>level %{x}<br>%{y}<extra></extra>"))
    best = data.points[data.points["best"]]
    if len(best):
        fig.add_trace(go.Scatter(x=best["level"].tolist(), y=best["value"].tolist(), mode="lines+markers",
                                 line={"color": BEST_COLOR, "width": 3}, name=f"best trial ({data.best_trial_id})"))
    log_x = len(data.levels) > 1 and min(data.levels) > 0 and max(data.levels) / min(data.levels) >= 4
    fig.update_xaxes(type="log" if log_x else "linear", tickmode="array", tickvals=data.levels,
                     ticktext=[f"{v:g}" for v in data.levels])
    if data.log_scale:
        fig.update_yaxes(type="log")
    return _layout(fig, f"{src.experiment}: {data.metric} of every trial at each rung",
                   f"rung level ({data.resource_attr})", data.metric)


def parallel_coordinates(source: Any, params: Sequence[str] | None = None) -> "go.Figure":
    go = _go()
    data = views.parallel_coordinates(source, params)
    src = views.view_input(source)
    dimensions = []
    for name in data.params:
        values = data.table[name].to_numpy(dtype=float)
        if name in data.categories:
            labels = data.categories[name]
            dimensions.append({"label": name, "values": values.tolist(), "tickvals": list(range(len(labels))),
                               "ticktext": [str(v) for v in labels]})
        elif name in data.log_params:
            logs = np.log10(values)
            finite = logs[np.isfinite(logs)]
            ticks = list(range(math.floor(finite.min()), math.ceil(finite.max()) + 1)) if len(finite) else []
            dimensions.append({"label": name, "values": logs.tolist(), "tickvals": ticks,
                               "ticktext": [f"1e{t}" for t in ticks]})
        else:
            dimensions.append({"label": name, "values": values.tolist()})
    dimensions.append({"label": data.metric, "values": data.table["value"].tolist()})
    fig = go.Figure(go.Parcoords(
        dimensions=dimensions,
        line={"color": data.table["value"].tolist(), "colorscale": METRIC_COLORSCALE, "showscale": True,
              "colorbar": {"title": {"text": data.metric}}},
    ))
    fig.update_layout(title={"text": f"{src.experiment}: parallel coordinates ({len(data.table)} trials)"},
                      template="plotly_white")
    return fig


def _axis(name: str, data: views.ParamTable) -> dict[str, Any]:
    if name in data.categories:
        labels = data.categories[name]
        return {"title": {"text": name}, "tickmode": "array", "tickvals": list(range(len(labels))),
                "ticktext": [str(v) for v in labels]}
    return {"title": {"text": name}, "type": "log" if name in data.log_params else "linear"}


def _hover(data: views.ParamTable) -> list[str]:
    return [f"trial {int(t)}<br>{data.metric}={v:.6g}" for t, v in zip(data.table["trial_id"], data.table["value"])]


def scatter(source: Any, params: Sequence[str]) -> "go.Figure":
    go = _go()
    if len(params) != 2:
        raise ValueError(f"a 2-D scatter takes two parameters, got params={list(params)}")
    data = views.scatter(source, params)
    src = views.view_input(source)
    x, y = params
    fig = go.Figure(go.Scatter(
        x=data.table[x].tolist(), y=data.table[y].tolist(), mode="markers", text=_hover(data),
        marker={"color": data.table["value"].tolist(), "colorscale": METRIC_COLORSCALE, "showscale": True,
                "colorbar": {"title": {"text": data.metric}}, "size": 7},
        hovertemplate="%{text}<extra></extra>",
    ))
    fig.update_layout(title={"text": f"{src.experiment}: {x} and {y} (colour: {data.metric})"},
                      xaxis=_axis(x, data), yaxis=_axis(y, data), template="plotly_white")
    return fig


def scatter3d(source: Any, params: Sequence[str]) -> "go.Figure":
    go = _go()
    if len(params) not in (2, 3):
        raise ValueError(f"a 3-D scatter takes two or three parameters, got params={list(params)}")
    data = views.scatter(source, params)
    src = views.view_input(source)
    names = list(params)
    coords = [data.table[n].tolist() for n in names]
    axes = [_axis(n, data) for n in names]
    if len(names) == 2:
        coords.append(data.table["value"].tolist())
        axes.append({"title": {"text": data.metric}})
    fig = go.Figure(go.Scatter3d(
        x=coords[0], y=coords[1], z=coords[2], mode="markers", text=_hover(data),
        marker={"color": data.table["value"].tolist(), "colorscale": METRIC_COLORSCALE, "showscale": True,
                "colorbar": {"title": {"text": data.metric}}, "size": 4},
        hovertemplate="%{text}<extra></extra>",
    ))
    fig.update_layout(title={"text": f"{src.experiment}: {' / '.join(names)} against {data.metric}"},
                      scene={"xaxis": axes[0], "yaxis": axes[1], "zaxis": axes[2]}, template="plotly_white")
    return fig


def slices(source: Any, params: Sequence[str] | None = None) -> "go.Figure":
    go = _go()
    from plotly.subplots import make_subplots

    long = views.slices(source, params)
    table = views.param_table(source, params)
    src = views.view_input(source)
    names = table.params
    columns = min(3, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / columns))
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=names, shared_yaxes=True)
    for i, name in enumerate(names):
        part = long[long["param"] == name]
        row, col = i // columns + 1, i % columns + 1
        fig.add_trace(go.Scatter(
            x=part["x"].tolist(), y=part["value"].tolist(), mode="markers", name=name, showlegend=False,
            marker={"color": part["trial_id"].tolist(), "colorscale": "Blues", "size": 6,
                    "line": {"width": 0.5, "color": "#555555"}},
            hovertemplate="trial %{marker.color}<br>%{x}<br>%{y}<extra></extra>",
        ), row=row, col=col)
        axis = _axis(name, table)
        fig.update_xaxes(row=row, col=col, **axis)
        fig.update_yaxes(title_text=src.metric if col == 1 else None, row=row, col=col)
    fig.update_layout(title={"text": f"{src.experiment}: {src.metric} against each parameter"},
                      template="plotly_white", height=320 * rows)
    return fig


def importance(source: Any, params: Sequence[str] | None = None, seed: int = 0) -> "go.Figure":
    go = _go()
    table = views.importance(source, params, seed=seed)
    src = views.view_input(source)
    fig = go.Figure(go.Bar(x=table["importance"].tolist(), y=table["param"].tolist(), orientation="h",
                           error_x={"type": "data", "array": table["std"].tolist()}, marker={"color": "#1f77b4"}))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, f"{src.experiment}: parameter importance",
                   f"permutation importance (random forest on {src.metric})", "parameter")


def timeline(source: Any) -> "go.Figure":
    go = _go()
    table = views.timeline(source)
    src = views.view_input(source)
    colors = outcome_colors(table["outcome"])
    fig = go.Figure()
    for outcome in views.ordered_outcomes(table["outcome"]):
        part = table[table["outcome"] == outcome]
        fig.add_trace(go.Bar(
            x=(part["end"] - part["start"]).tolist(), base=part["start"].tolist(), y=part["lane"].tolist(),
            orientation="h", name=outcome, marker={"color": colors[outcome]},
            customdata=part["trial_id"].tolist(),
            hovertemplate="trial %{customdata}<br>%{base:.3g} s + %{x:.3g} s<extra>" + outcome + "</extra>",
        ))
    fig.update_yaxes(autorange="reversed", dtick=1)
    return _layout(fig, f"{src.experiment}: trials on workers", "wall-clock (s)", "worker slot",
                   barmode="overlay", legend_title="how it ended")


VIEWS = {
    "learning_curves": learning_curves, "incumbent": incumbent, "metric_per_rung": metric_per_rung,
    "parallel_coordinates": parallel_coordinates, "scatter": scatter, "scatter3d": scatter3d,
    "slices": slices, "importance": importance, "timeline": timeline,
}
