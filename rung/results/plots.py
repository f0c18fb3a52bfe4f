"""Kept for old imports: the plots live in :mod:`rung.plots` now."""

from ..plots import (  # noqa: F401
    importance,
    incumbent,
    learning_curves,
    metric_per_rung,
    parallel_coordinates,
    save,
    scatter,
    scatter3d,
    slices,
    timeline,
)
