"""Plots of a tuning run: files (matplotlib), notebook figures (plotly), and their data.

- :mod:`rung.plots.data`: the view-data layer, pure functions from a result (or stored
  records) to pandas tables; the dashboard uses it too. No plotting library needed.
- :mod:`rung.plots.mpl`: a matplotlib ``Figure`` per view.
- :mod:`rung.plots.figures`: a plotly ``Figure`` per view (interactive in Jupyter).
- The functions here save a view to a file and return its path, e.g.
  ``rung.plots.learning_curves(result, "curves.png")``; ``TuningResult.plot_<view>(path)``
  calls them. Needs the ``plots`` extra (matplotlib, plotly, scikit-learn for importance).

Every function takes a :class:`rung.TuningResult` or a :class:`rung.plots.data.ViewInput`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["importance", "incumbent", "learning_curves", "metric_per_rung", "parallel_coordinates", "save",
           "scatter", "scatter3d", "slices", "timeline"]


def save(figure: "Figure", path: "str | os.PathLike[str]") -> Path:
    """Write ``figure`` to ``path`` (format from the suffix; the whole figure, titles
    included) and close it."""
    from .mpl import pyplot

    path = Path(path)
    if path.parent and not path.parent.exists():
        raise FileNotFoundError(f"cannot save the plot to {str(path)!r}: directory {str(path.parent)!r} does not exist")
    figure.savefig(path, dpi=120, bbox_inches="tight")
    pyplot().close(figure)
    return path


def learning_curves(source: Any, path: "str | os.PathLike[str]", resource_attr: str | None = None) -> Path:
    """Each trial's metric over its reports, coloured by how it ended, rung levels marked."""
    from . import mpl

    return save(mpl.learning_curves(source, resource_attr), path)


def incumbent(source: Any, path: "str | os.PathLike[str]") -> Path:
    """Best value so far over wall-clock time and over trials; decision vs training time."""
    from . import mpl

    return save(mpl.incumbent(source), path)


def metric_per_rung(source: Any, path: "str | os.PathLike[str]", resource_attr: str | None = None,
                    levels: Sequence[float] | None = None) -> Path:
    """The metric of every trial at each rung level (top rung included), best trial highlighted."""
    from . import mpl

    return save(mpl.metric_per_rung(source, resource_attr, levels), path)


def parallel_coordinates(source: Any, path: "str | os.PathLike[str]", params: Sequence[str] | None = None) -> Path:
    """Parallel coordinates of the parameters and the metric."""
    from . import mpl

    return save(mpl.parallel_coordinates(source, params), path)


def scatter(source: Any, path: "str | os.PathLike[str]", params: Sequence[str]) -> Path:
    """Two parameters, each trial a point coloured by the metric."""
    from . import mpl

    return save(mpl.scatter(source, params), path)


def scatter3d(source: Any, path: "str | os.PathLike[str]", params: Sequence[str]) -> Path:
    """Two parameters and the metric (or three parameters coloured by it) in 3-D."""
    from . import mpl

    return save(mpl.scatter3d(source, params), path)


def slices(source: Any, path: "str | os.PathLike[str]", params: Sequence[str] | None = None) -> Path:
    """Each parameter against the metric, one panel each."""
    from . import mpl

    return save(mpl.slices(source, params), path)


def importance(source: Any, path: "str | os.PathLike[str]", params: Sequence[str] | None = None,
               seed: int = 0) -> Path:
    """Permutation importance of the parameters in a random forest fitted on the trials."""
    from . import mpl

    return save(mpl.importance(source, params, seed), path)


def timeline(source: Any, path: "str | os.PathLike[str]") -> Path:
    """Trials on worker slots over wall-clock time (running ones hatched)."""
    from . import mpl

    return save(mpl.timeline(source), path)
