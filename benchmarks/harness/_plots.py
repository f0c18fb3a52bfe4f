"""Plots of a suite, saved as PNG files (matplotlib, Agg backend).

- ``regret.png``: per problem (one panel each, in a grid), the mean regret of each method
  against time with its 95 % band over seeds (log scale when every mean is positive).
- ``ranks.png``: average rank over problems against the fraction of the time budget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ._method import RunResult
from ._scoring import REFERENCE, rank_curves, regret_curves


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colors(methods: list[str]) -> dict[str, object]:
    plt = _pyplot()
    cmap = plt.get_cmap("tab20" if len(methods) > 10 else "tab10")
    return {m: cmap(i % cmap.N) for i, m in enumerate(methods)}


def _style(method: str) -> str:
    return "-" if method.startswith("rung-") else "--"


def plot_regret(
    results: Iterable[RunResult], path: str | Path, optima: Mapping[str, float | None] | None = None,
    clock: Mapping[str, str] | None = None,
) -> Path:
    """Regret against time, one panel per problem, mean and 95 % band; saved to ``path``.

    ``clock``: per problem, the label of its time axis (default "simulated seconds").
    """
    plt = _pyplot()
    curves = regret_curves(results, optima)
    problems = list(dict.fromkeys(curves["problem"]))
    methods = sorted(set(curves["method"]))
    colors = _colors(methods)
    cols = min(3, max(1, len(problems)))
    rows = max(1, math.ceil(len(problems) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax, problem in zip(axes.flat, problems):
        data = curves[curves["problem"] == problem]
        positive = bool((data["mean"].dropna() > 0).all()) and data["mean"].notna().any()
        for method in methods:
            line = data[data["method"] == method]
            if line.empty:
                continue
            low = line["low"].to_numpy(dtype=float)
            if positive:
                floor = float(line["mean"][line["mean"] > 0].min() if (line["mean"] > 0).any() else 1e-12) / 10
                low = np.where(np.isfinite(low), np.maximum(low, floor), low)
            ax.plot(line["time"], line["mean"], _style(method), color=colors[method], label=method, lw=1.5)
            ax.fill_between(line["time"], low, line["high"], color=colors[method], alpha=0.15, lw=0)
        if positive:
            ax.set_yscale("log")
        ax.set_title(problem, fontsize=10)
        ax.set_xlabel((clock or {}).get(problem, "simulated seconds"))
        ax.set_ylabel("regret (mean, 95% band)")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(problems):]:
        ax.set_visible(False)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle=_style(m), color=colors[m], lw=1.5) for m in methods]
    if handles:
        fig.legend(handles, methods, loc="lower center", ncol=min(len(methods), 5), fontsize=8, frameon=False)
    legend_rows = math.ceil(len(methods) / 5)
    fig.tight_layout(rect=(0, (0.2 + 0.15 * legend_rows) / fig.get_figheight(), 1, 1))
    return _save(fig, path)


def plot_ranks(
    results: Iterable[RunResult], path: str | Path, optima: Mapping[str, float | None] | None = None,
    reference: str = REFERENCE,
) -> Path:
    """Average rank over problems against the fraction of the budget; saved to ``path``."""
    plt = _pyplot()
    table: pd.DataFrame = rank_curves(results, optima, reference=reference)
    methods = sorted(set(table["method"]))
    colors = _colors(methods)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in methods:
        line = table[table["method"] == method].sort_values("fraction")
        ax.plot(line["fraction"], line["rank"], _style(method), color=colors[method], label=method, lw=1.5)
    n_problems = int(table["problems"].max()) if len(table) else 0
    ax.set_xlabel("fraction of the time budget")
    ax.set_ylabel(f"average rank over {n_problems} problem(s) (1 = best)")
    ax.invert_yaxis()
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:  # type: ignore[no-untyped-def]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path
