"""What MOBSTER's GP sees: reports per resource level, a bounded subset, one level's view.

Observations are kept per level (see :mod:`._fidelity_levels`), one per config and level.
The GP is fitted on at most ``cap`` of them, shared across levels by water-filling: levels
with few points keep all of them and the others split what is left equally, each choosing
its share with the single-fidelity GP's rule (:func:`._gp._data.select_subset`: the best,
the most recent and a spread of the rest). Low levels fill fastest under successive halving
(two thirds of all reports sit at the first rung with eta = 3), so an unshared cap would be
spent on the least informative points; the level the acquisition looks at keeps its points.

:class:`AtLevel` presents a GP over ``(config, resource)`` as a GP over configs alone, with
the resource input fixed: the single-fidelity acquisition optimizer then maximizes expected
improvement at that level without knowing there is a resource dimension.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._gp import _data as _gp_data


class LevelData:
    """GP inputs (encoded configs) and values, oriented for minimization, at one level."""

    def __init__(self) -> None:
        self.rows: dict[bytes, int] = {}  # config key -> row
        self.X: list[np.ndarray] = []
        self.y: list[float] = []

    def add(self, key: bytes, x: np.ndarray, value: float) -> bool:
        """Record a config's value here unless it already has one; True if recorded."""
        if key in self.rows:
            return False
        self.rows[key] = len(self.y)
        self.X.append(x)
        self.y.append(value)
        return True

    def __len__(self) -> int:
        return len(self.y)


def shares(counts: list[int], cap: int | None) -> list[int]:
    """How many points each level keeps: all if the total fits in ``cap``, else water-filling
    (small levels whole, the rest an equal split of what remains)."""
    if cap is None or sum(counts) <= cap:
        return list(counts)
    out = [0] * len(counts)
    remaining, left = cap, len(counts)
    for i in sorted(range(len(counts)), key=lambda i: counts[i]):
        out[i] = min(counts[i], remaining // left)
        remaining -= out[i]
        left -= 1
    return out


def training_set(
    levels: dict[float, LevelData],
    unit: Any,
    cap: int | None,
    lengthscales: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, level)`` of at most ``cap`` observations: inputs with the level's unit
    resource (``unit(level)``) as the last column, raw values, and each row's level."""
    order = sorted(levels)
    counts = [len(levels[level]) for level in order]
    quota = shares(counts, cap)
    blocks_x, blocks_y, blocks_level = [], [], []
    for level, take in zip(order, quota):
        data = levels[level]
        if not take:
            continue
        X, y = np.array(data.X), np.array(data.y)
        keep = _gp_data.select_subset(X, y, take, lengthscales)
        X, y = X[keep], y[keep]
        blocks_x.append(np.hstack([X, np.full((len(X), 1), unit(level))]))
        blocks_y.append(y)
        blocks_level.append(np.full(len(y), level))
    return np.vstack(blocks_x), np.concatenate(blocks_y), np.concatenate(blocks_level)


class AtLevel:
    """A posterior over ``(x, r)`` seen as one over ``x`` at the fixed resource input ``r``.

    Offers what the acquisition optimizer uses: ``predict``, ``predict_with_gradient`` and
    the ``lengthscales`` of the config inputs.
    """

    def __init__(self, posterior: Any, r: float) -> None:
        self.posterior = posterior
        self.r = float(r)
        self.lengthscales = posterior.lengthscales[:-1]

    def _with_r(self, X: np.ndarray) -> np.ndarray:
        return np.hstack([X, np.full((len(X), 1), self.r)])

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.posterior.predict(self._with_r(X))

    def predict_with_gradient(
        self, X: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        mean, var, dmean, dvar = self.posterior.predict_with_gradient(self._with_r(X))
        return mean, var, dmean[:, :-1], dvar[:, :-1]
