"""Scores shared by ``rung compare`` and the benchmark harness (``benchmarks/harness``).

- :func:`incumbent_steps`: the best value so far as a step function of time.
- :func:`incumbent_at`: that step function read at given times (NaN before the first value).
- :func:`time_to`: the first time the incumbent is at least as good as a target (inf if never).
- :func:`mean_interval`: mean and Student-t 95 % half-width over seeds.
- :func:`median_time`: the time by which half of the seeds (rounded up) got there: the lower
  median, so it is a time some seed actually took (inf when more than half never did).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

Point = tuple[float, float]


def _sign(mode: str) -> float:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    return 1.0 if mode == "min" else -1.0


def incumbent_steps(points: Iterable[Point], mode: str) -> list[Point]:
    """``(time, best)`` at each improvement of ``points`` (``(time, value)`` in time order);
    non-finite values are skipped."""
    sign = _sign(mode)
    steps: list[Point] = []
    for time, value in points:
        if not math.isfinite(value):
            continue
        if not steps or sign * value < sign * steps[-1][1]:
            steps.append((float(time), float(value)))
    return steps


def incumbent_at(steps: Sequence[Point], times: "Sequence[float] | np.ndarray") -> np.ndarray:
    """The step function ``steps`` at each of ``times`` (NaN before its first step)."""
    query = np.asarray(times, dtype=float)
    if not steps:
        return np.full(query.shape, np.nan)
    step_times = np.array([t for t, _ in steps])
    step_values = np.array([v for _, v in steps])
    index = np.searchsorted(step_times, query, side="right") - 1
    return np.where(index >= 0, step_values[np.clip(index, 0, None)], np.nan)


def time_to(steps: Sequence[Point], target: float, mode: str) -> float:
    """First time the incumbent ``steps`` is at least as good as ``target`` (inf if never)."""
    sign = _sign(mode)
    for time, value in steps:
        if sign * value <= sign * target:
            return time
    return math.inf


def mean_interval(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float, int]:
    """``(mean, half_width, n)`` of the finite values: Student-t interval (NaN if n < 2)."""
    from scipy import stats

    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    n = len(data)
    if n == 0:
        return math.nan, math.nan, 0
    mean = float(data.mean())
    if n < 2:
        return mean, math.nan, 1
    sem = float(data.std(ddof=1)) / math.sqrt(n)
    return mean, float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sem, n


def median_time(times: Iterable[float]) -> float:
    """The lower median of ``times`` (the ceil(n/2)-th smallest; inf allowed, NaN dropped)."""
    data = np.sort(np.asarray(list(times), dtype=float))
    data = data[~np.isnan(data)]
    return float(data[math.ceil(len(data) / 2) - 1]) if len(data) else math.nan
