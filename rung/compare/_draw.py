"""Pictures of a comparison: the incumbent against wall-clock, mean and 95 % band per method."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..plots._style import wrap_title
from ..plots.data import spans_decades

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ._comparison import Comparison

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")


def method_colors(methods: list[str]) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(methods)}


def comparison_figure(comparison: "Comparison", points: int = 100) -> "Figure":
    """matplotlib: one line (mean over seeds) and band (95 % t interval) per method."""
    from ..plots.mpl import pyplot

    curves = comparison.curves(points)
    colors = method_colors(comparison.methods)
    fig, axes = pyplot().subplots(figsize=(7.5, 4.8), layout="constrained")
    for method in comparison.methods:
        line = curves[curves["method"] == method]
        if line.empty:
            continue
        axes.plot(line["time"], line["mean"], color=colors[method], lw=1.6, label=method, gid=f"mean-{method}")
        axes.fill_between(line["time"], line["low"], line["high"], color=colors[method], alpha=0.18, lw=0,
                          gid=f"band-{method}")
    if spans_decades(curves["mean"]):
        axes.set_yscale("log")
    axes.set_xlabel(comparison.clock)
    axes.set_ylabel(f"best {comparison.metric} (mean over {len(comparison.seeds)} seeds, 95% band)")
    axes.set_title(wrap_title(f"{comparison.name}: incumbent of each method"), fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    return fig


def comparison_plotly(comparison: "Comparison", points: int = 100) -> Any:
    """plotly: the same curves and bands, one legend entry per method."""
    import plotly.graph_objects as go

    curves = comparison.curves(points)
    colors = method_colors(comparison.methods)
    fig = go.Figure()
    for method in comparison.methods:
        line = curves[curves["method"] == method].dropna(subset=["mean"])
        if line.empty:
            continue
        color = colors[method]
        band_x = line["time"].tolist() + line["time"].tolist()[::-1]
        band_y = line["high"].fillna(line["mean"]).tolist() + line["low"].fillna(line["mean"]).tolist()[::-1]
        fig.add_trace(go.Scatter(x=band_x, y=band_y, fill="toself", fillcolor=color, opacity=0.18,
                                 line={"width": 0}, hoverinfo="skip", legendgroup=method, showlegend=False,
                                 name=f"{method} band"))
        fig.add_trace(go.Scatter(x=line["time"].tolist(), y=line["mean"].tolist(), mode="lines", name=method,
                                 legendgroup=method, line={"color": color, "width": 2}))
    if spans_decades(curves["mean"]):
        fig.update_yaxes(type="log")
    fig.update_layout(title={"text": f"{comparison.name}: incumbent of each method"},
                      xaxis_title=comparison.clock,
                      yaxis_title=f"best {comparison.metric} (mean over {len(comparison.seeds)} seeds, 95% band)",
                      template="plotly_white")
    return fig
