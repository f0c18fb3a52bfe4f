"""Where the objective has shown itself flat: inputs a new evaluation would likely repeat.

A GP assumes a smooth objective. Some objectives are piecewise constant instead: a lookup
table answered by its nearest row, a metric counted on a small validation set (accuracy in
steps of 1/n), a model that ignores a parameter below some threshold. There, expected
improvement is often largest right next to the incumbent, where the model's variance has
grown back, and the evaluation returns the incumbent's value again. On the single-fidelity
LCBench tables, rung's GP evaluated only 29-33 distinct table rows in 50 evaluations. The
GP and TPE both consult it (``plateau_guard``), each on its own encoding of configs as
points of the unit cube (inactive coordinates must be given a fixed value, not NaN).

The evidence of flatness is exact: two different inputs whose results are equal to the
last bit. A continuous objective practically never does that, so on smooth problems this
module changes nothing. Where it has happened, a candidate is taken as known when its
nearest observed input is one of the tied inputs and lies closer than the typical spacing
of the observations (the median distance from an observed input to its nearest other one):
that neighbourhood has already answered the same value twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def input_key(x: np.ndarray) -> bytes:
    """Identity of an input, robust to float noise in a config's round trip."""
    return (np.round(x, 9) + 0.0).tobytes()


class Plateaus:
    """The tied observations of a set of GP inputs ``X`` with results ``y``.

    ``covers(x)`` is true when ``x`` falls within the typical spacing of a tied input and
    that input is its nearest observation. Built once per suggestion; nearest inputs come
    from a k-d tree, so thousands of observations cost milliseconds.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        tied = _tied(X, y)
        self._tree: Any = None
        self._radius = 0.0
        if not tied.any():
            return
        _, first = np.unique(np.round(X, 9), axis=0, return_index=True)
        distinct = np.sort(first)
        self._X, self._tied_rows = X[distinct], tied[distinct]
        from scipy import spatial  # only once a tie is seen: TPE does not load scipy otherwise

        self._tree = spatial.cKDTree(self._X)
        if len(self._X) >= 2:
            distances, _ = self._tree.query(self._X, k=2)
            self._radius = float(np.median(distances[:, 1]))

    @property
    def active(self) -> bool:
        """Whether two different inputs tied (otherwise ``covers`` is always false)."""
        return self._tree is not None and self._radius > 0.0

    def covers(self, x: np.ndarray) -> bool:
        """Whether ``x``'s nearest observed input is a tied one, closer than the spacing."""
        return bool(self.covers_rows(np.asarray(x, dtype=float)[None, :])[0])

    def covers_rows(self, X: np.ndarray) -> np.ndarray:
        """:meth:`covers` for each row of ``X``."""
        if self._tree is None or self._radius <= 0.0:
            return np.zeros(len(X), dtype=bool)
        distances, nearest = self._tree.query(X)
        return np.asarray(self._tied_rows[nearest] & (distances < self._radius), dtype=bool)


def _tied(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per observation: whether a *different* input has exactly the same result (a repeat
    of one input is no evidence of flatness)."""
    tied = np.zeros(len(y), dtype=bool)
    inputs: dict[float, set[bytes]] = {}
    values = y.tolist()
    for value, x in zip(values, X):
        inputs.setdefault(value, set()).add(input_key(x))
    for i, value in enumerate(values):
        tied[i] = len(inputs[value]) > 1
    return tied
