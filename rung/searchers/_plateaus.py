"""Where the objective has shown itself flat: inputs a new evaluation would likely repeat.

A GP assumes a smooth objective. Some objectives are piecewise constant instead: a lookup
table answered by its nearest row, a metric counted on a small validation set (accuracy in
steps of 1/n), a model that ignores a parameter below some threshold. There, expected
improvement is often largest right next to the incumbent, where the model's variance has
grown back, and the evaluation returns the incumbent's value again. On the single-fidelity
LCBench tables, rung's GP evaluated only 29-33 distinct table rows in 50 evaluations. The
GP (by default) and TPE (when asked) consult this module (``plateau_guard``), each on its own encoding of configs
as points of the unit cube (inactive coordinates must be given a fixed value, not NaN).

The evidence of flatness is exact: two different inputs whose results are equal to the
last bit. A continuous objective practically never does that, so on smooth problems this
module changes nothing. Where it has happened, a candidate is taken as known when its
nearest observed input is one of the tied inputs and lies closer than the typical spacing
of the observations (the median distance from an observed input to its nearest other one):
that neighbourhood has already answered the same value twice.

Cost: :class:`PlateauTracker` learns of each result in constant time, so a searcher with
thousands of observations and no tie pays nothing per suggestion. Once there is a tie, the
neighbourhoods are computed over the latest :data:`MAX_POINTS` distinct inputs (where the
search is now), once per batch of new results.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The plateau neighbourhoods are computed over at most this many (the latest) distinct inputs.
MAX_POINTS = 512


def input_key(x: np.ndarray) -> bytes:
    """Identity of an input, robust to float noise in a config's round trip."""
    return (np.round(x, 9) + 0.0).tobytes()  # + 0.0 turns -0.0 into 0.0


class PlateauTracker:
    """Results as they arrive (``add``), and the :class:`Plateaus` they show (``plateaus``)."""

    def __init__(self) -> None:
        self._points: dict[bytes, np.ndarray] = {}  # distinct inputs, in order of arrival
        self._keys_by_value: dict[float, set[bytes]] = {}
        self._tied: set[bytes] = set()
        self._cached: Plateaus | None = None
        self._n = 0  # results seen
        self._cached_at = -1  # results seen when the cache was built

    def add(self, x: np.ndarray, value: float) -> None:
        """A finite result ``value`` at input ``x``."""
        key = input_key(x)
        self._points.pop(key, None)
        self._points[key] = np.asarray(x, dtype=float)  # (re)inserted last: the latest
        keys = self._keys_by_value.setdefault(float(value), set())
        keys.add(key)
        if len(keys) > 1:
            self._tied.update(keys)
        self._n += 1

    @property
    def n_tied(self) -> int:
        """Distinct inputs that share their result with another input."""
        return len(self._tied)

    def plateaus(self) -> Plateaus | None:
        """The current plateaus, or None while no two different inputs have tied."""
        if not self._tied:
            return None
        n = self._n
        if self._cached is None or self._cached_at != n:
            keys = list(self._points)[-MAX_POINTS:]
            X = np.array([self._points[k] for k in keys])
            tied = np.array([k in self._tied for k in keys], dtype=bool)
            self._cached, self._cached_at = Plateaus(X, tied), n
        return self._cached


class Plateaus:
    """Distinct inputs ``X`` and which of them are ``tied``: ``covers(x)`` is true when
    ``x``'s nearest input is a tied one, closer than the inputs' typical spacing."""

    def __init__(self, X: np.ndarray, tied: np.ndarray) -> None:
        from scipy import spatial  # only once a tie is seen: TPE does not load scipy otherwise

        self._tied = np.asarray(tied, dtype=bool)
        self._tree: Any = spatial.cKDTree(np.asarray(X, dtype=float))
        self._radius = 0.0
        if len(X) >= 2 and self._tied.any():
            distances, _ = self._tree.query(X, k=2)
            self._radius = float(np.median(distances[:, 1]))

    @property
    def radius(self) -> float:
        """The typical spacing: median distance from an input to its nearest other one."""
        return self._radius

    def covers(self, x: np.ndarray) -> bool:
        """Whether ``x``'s nearest observed input is a tied one, closer than the spacing."""
        return bool(self.covers_rows(np.asarray(x, dtype=float)[None, :])[0])

    def covers_rows(self, X: np.ndarray) -> np.ndarray:
        """:meth:`covers` for each row of ``X``."""
        if self._radius <= 0.0:
            return np.zeros(len(X), dtype=bool)
        distances, nearest = self._tree.query(X)
        return np.asarray(self._tied[nearest] & (distances < self._radius), dtype=bool)
