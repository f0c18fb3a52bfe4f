"""Refitting the GP's hyperparameters: warm starts, restarts, and a bounded fit set.

Shared by the GP and MOBSTER. A refit starts from the previous hyperparameters, which move
little from one observation to the next. On up to ``RESTART_LIMIT`` observations it also
starts from the prior mode and from a prior draw: with few data the likelihood has several
optima and moves a lot per point, and the fits are cheap; later a cold start costs ten warm
ones and rarely wins. The hyperparameters (d + 2 numbers) are pinned down by far fewer
points than the posterior benefits from, so they are fitted on at most ``FIT_LIMIT`` of
the observations, chosen by :func:`._data.select_subset`: a likelihood evaluation costs
O(n^3), about 6 times less on 100 points than on 200, and a fit takes about 20 of them.
"""

from __future__ import annotations

import numpy as np

from . import _data, _model

FIT_LIMIT = 100
RESTART_LIMIT = 50


def lengthscales_of(theta: np.ndarray | None, dim: int) -> np.ndarray | None:
    """The first ``dim`` fitted lengthscales (None before the first fit)."""
    return None if theta is None else np.exp(theta[:dim])


def refit(X: np.ndarray, y: np.ndarray, theta: np.ndarray | None, rng: np.random.Generator,
          extra_noise: np.ndarray | None = None) -> np.ndarray:
    """Hyperparameters fitted to ``(X, y)`` (transformed outputs), from ``theta`` if any."""
    dim = X.shape[1]
    few = _data.select_subset(X, y, FIT_LIMIT, lengthscales_of(theta, dim))
    starts = []
    if theta is not None:
        starts.append(theta)
    if theta is None or len(X) <= RESTART_LIMIT:
        mean, sd = _model.prior(dim)
        starts.append(_model.default_theta(dim))
        starts.append(mean + sd * 0.5 * rng.standard_normal(len(mean)))
    return _model.fit(X[few], y[few], starts, extra_noise=None if extra_noise is None else extra_noise[few])


def with_liars(X: np.ndarray, y: np.ndarray, fake: np.ndarray, value: float) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` with the rows ``fake`` (pending inputs) added as observations of
    ``value`` (the incumbent's): a constant liar, so expected improvement vanishes there."""
    return np.vstack([X, fake]), np.concatenate([y, np.full(len(fake), value)])
