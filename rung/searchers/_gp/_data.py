"""What the GP is fitted on: the output transform and the bounded subset of observations.

Output transform (values oriented for minimization, so large is bad), in three steps:

1. Bad tail saturated: in robust units (median, interquartile range) values more than 2
   units worse than the median are smoothly squashed so that none lies beyond 3. A diverged
   run reporting loss 1e6 among losses near 0.3 would otherwise own the variance: after
   standardization every good point sits at the same value and the model sees a flat
   landscape with one cliff. On a 4-D quadratic that diverges in a fifth of the cube this
   took the best value after 30 evaluations from 0.1 to 1e-5.
2. Yeo-Johnson power transform with the exponent fitted by maximum likelihood but capped at
   1: it may compress what is left of a long bad tail (exponent < 1 also stretches the good
   side), never the good tail, the region the search must resolve. For symmetric data it is
   about the identity.
3. Standardization.

Every step is strictly increasing, so the incumbent and the ranking are kept. A rank-based
(Gaussian copula) transform is even more robust but throws away how much better the best
points are: on the smooth 4-D quadratic it left the search 1,000 times further from the
optimum after 30 evaluations.

Subset. The GP costs O(n^3) to fit and O(n^2) per candidate scored, so it sees at most
``cap`` observations: a third the best ones (the incumbent's region, and the incumbent
itself, which expected improvement is measured against), a third the most recent ones, and
the rest a space-filling selection (greedy farthest-point in lengthscale units) of the
others, so the model still knows which regions were ruled out. The recent third matters
most: a subset of the best and spread points alone drops the mediocre points the search has
just evaluated around the incumbent, so the model forgets them, finds that region uncertain
again and proposes it again, without end. On Levy 6 with the cap at 100 and 200
evaluations (4 seeds), best-and-spread ended at a mean best of 1.73, most-recent-only at
0.24, this mix at 0.26; without a cap, 0.05. See ``benchmarks/searcher_overhead_gp.py``
for the effect of the default cap.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

_MIN_EXPONENT = -1.0
# Robust units beyond the median where the bad tail starts to be squashed, and its limit.
_TAIL_START, _TAIL_END = 2.0, 3.0


def transform_outputs(y: np.ndarray) -> np.ndarray:
    """``y`` standardized, with a long tail of large (bad) values compressed."""
    z = _standardize(_saturate_bad_tail(np.asarray(y, dtype=float)))
    if len(z) < 4 or np.ptp(z) == 0.0:
        return z
    # Maximum likelihood exponent within [-1, 1] (1 is the identity).
    shift = np.sign(z) * np.log1p(np.abs(z))  # sum of these is the log-Jacobian per (lambda - 1)
    jacobian = float(shift.sum())
    n = len(z)

    def negative_log_likelihood(exponent: float) -> float:
        var = float(np.var(_yeo_johnson(z, exponent)))
        if not var > 0:
            return np.inf
        return 0.5 * n * np.log(var) - (exponent - 1.0) * jacobian

    result = optimize.minimize_scalar(
        negative_log_likelihood, bounds=(_MIN_EXPONENT, 1.0), method="bounded", options={"xatol": 1e-3}
    )
    exponent = float(result.x)
    if not np.isfinite(exponent) or exponent > 0.99:
        return z
    return _standardize(_yeo_johnson(z, exponent))


def _saturate_bad_tail(y: np.ndarray) -> np.ndarray:
    """``y`` in robust units, values beyond ``_TAIL_START`` squashed below ``_TAIL_END``."""
    low, median, high = np.percentile(y, [25, 50, 75])
    scale = (high - low) / 1.349  # the standard deviation, for normal data
    if not scale > 0:
        scale = float(np.std(y)) or 1.0
    z = (y - median) / scale
    width = _TAIL_END - _TAIL_START
    over = z > _TAIL_START
    z[over] = _TAIL_START - width * np.expm1(-(z[over] - _TAIL_START) / width)
    return z


def _yeo_johnson(z: np.ndarray, exponent: float) -> np.ndarray:
    """The Yeo-Johnson power transform of ``z`` with the given exponent."""
    out = np.empty_like(z)
    pos = z >= 0
    zp, zn = z[pos], z[~pos]
    if abs(exponent) < 1e-8:
        out[pos] = np.log1p(zp)
    else:
        out[pos] = np.expm1(exponent * np.log1p(zp)) / exponent
    if abs(exponent - 2.0) < 1e-8:
        out[~pos] = -np.log1p(-zn)
    else:
        out[~pos] = -np.expm1((2.0 - exponent) * np.log1p(-zn)) / (2.0 - exponent)
    return out


def _standardize(y: np.ndarray) -> np.ndarray:
    sd = float(np.std(y))
    return (y - float(np.mean(y))) / (sd if sd > 0 else 1.0)


def select_subset(X: np.ndarray, y: np.ndarray, cap: int | None, lengthscales: np.ndarray | None) -> np.ndarray:
    """Indices (sorted) of at most ``cap`` observations to fit: a third the best, a third
    the most recent, the rest spread out. ``X`` and ``y`` are in the order observed."""
    n = len(y)
    if cap is None or n <= cap:
        return np.arange(n)
    third = cap // 3
    chosen = np.zeros(n, dtype=bool)
    chosen[np.argsort(y, kind="stable")[:third]] = True
    recent = np.flatnonzero(~chosen)[::-1][:third]
    chosen[recent] = True
    # Greedy farthest-point selection among the others, in lengthscale units.
    Z = X if lengthscales is None else X / lengthscales
    rest = np.flatnonzero(~chosen)
    rest_z = Z[rest]
    nearest = _sqdist(rest_z, Z[chosen]).min(axis=1)
    between = _sqdist(rest_z, rest_z)
    for _ in range(cap - int(chosen.sum())):
        j = int(np.argmax(nearest))
        chosen[rest[j]] = True
        np.minimum(nearest, between[j], out=nearest)
        nearest[j] = -1.0
    return np.flatnonzero(chosen)


def _sqdist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.maximum((A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * (A @ B.T), 0.0)
