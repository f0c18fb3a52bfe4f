"""TPE's bookkeeping: observations kept sorted by value, and configs still pending.

Everything a suggestion needs is a slice of preallocated arrays: the ``n_good`` best rows
are the good group, the rest the bad group. Adding an observation is a binary search and
one block move (amortized O(n) memory traffic, no Python loop over the history), so the
cost per suggestion does not grow with the number of observations beyond that move.
"""

from __future__ import annotations

import numpy as np


class History:
    """Unit-cube points with their values (lower is better), sorted best first.

    Ties keep arrival order (a later equal value goes after earlier ones), which keeps the
    split deterministic. Failed evaluations can be stored with value ``+inf``: they sort
    last and belong to the bad group.
    """

    def __init__(self, d: int, capacity: int = 64) -> None:
        self.d = d
        self._x = np.empty((capacity, d))
        self._y = np.empty(capacity)
        self.n = 0
        #: Observations with a finite value (the ones that count for the good/bad split).
        self.n_finite = 0

    @property
    def x(self) -> np.ndarray:
        """The points, best first (a view: do not keep it across ``add``)."""
        return self._x[: self.n]

    @property
    def y(self) -> np.ndarray:
        """The values, ascending (a view)."""
        return self._y[: self.n]

    def add(self, x: np.ndarray, y: float) -> None:
        """Insert point ``x`` with value ``y`` at its rank."""
        if self.n == len(self._y):
            self._grow()
        n = self.n
        pos = int(np.searchsorted(self._y[:n], y, side="right"))
        if pos < n:
            # Overlapping slices: numpy copies through a buffer, so this is a safe move.
            self._x[pos + 1 : n + 1] = self._x[pos:n]
            self._y[pos + 1 : n + 1] = self._y[pos:n]
        self._x[pos] = x
        self._y[pos] = y
        self.n = n + 1
        if np.isfinite(y):
            self.n_finite += 1

    def _grow(self) -> None:
        capacity = 2 * len(self._y)
        x = np.empty((capacity, self.d))
        y = np.empty(capacity)
        x[: self.n] = self._x[: self.n]
        y[: self.n] = self._y[: self.n]
        self._x, self._y = x, y


def point_key(x: np.ndarray) -> bytes:
    """A hashable key for a unit-cube point (inactive NaN coordinates included)."""
    return np.where(np.isnan(x), -1.0, x).tobytes()


class Pending:
    """Configs suggested but not yet observed, as unit-cube points (duplicates counted)."""

    def __init__(self, d: int) -> None:
        self.d = d
        self._points: dict[bytes, list[np.ndarray]] = {}
        self.n = 0

    def add(self, x: np.ndarray) -> None:
        self._points.setdefault(point_key(x), []).append(x)
        self.n += 1

    def discard(self, x: np.ndarray) -> bool:
        """Forget one pending copy of ``x``; False if it was not pending (e.g. warm start)."""
        key = point_key(x)
        copies = self._points.get(key)
        if not copies:
            return False
        copies.pop()
        if not copies:
            del self._points[key]
        self.n -= 1
        return True

    def has(self, key: bytes) -> bool:
        """Whether a point with this :func:`point_key` is pending."""
        return key in self._points

    def points(self) -> np.ndarray:
        """All pending points, ``(n, d)``, in the order they were first suggested."""
        if not self.n:
            return np.empty((0, self.d))
        return np.array([x for copies in self._points.values() for x in copies])


def bad_centres(
    history: History,
    n_good: int,
    max_centres: int | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Kernel centres and weights for the bad group: rows ``n_good:`` of ``history``.

    With ``max_centres`` set and more bad rows than that, the density is estimated from a
    fixed-size stratified subset, so its cost stops growing with the history:

    * the best quarter of the budget, the bad rows ranked just after the good group, is
      kept whole (weight 1): near the split is where ``l / g`` must discriminate finely;
    * the rest of the budget is a systematic sample by rank of the remaining rows (evenly
      spaced ranks from a random offset), each standing for ``remaining / sampled`` rows.

    Every remaining row is included with the same probability, so the weighted subset is an
    unbiased estimate of the full bad-group mixture; sampling by rank spreads it over the
    whole range of values.
    """
    x = history.x
    bad = x[n_good:]
    n_bad = len(bad)
    if max_centres is None or n_bad <= max_centres:
        return bad, np.ones(n_bad)
    head = max_centres // 4
    n_sample = max_centres - head
    rest = n_bad - head
    ranks = head + ((np.arange(n_sample) + rng.random()) * (rest / n_sample)).astype(np.int64)
    rows = np.concatenate([np.arange(head), np.minimum(ranks, n_bad - 1)])
    weights = np.ones(max_centres)
    weights[head:] = rest / n_sample
    return bad[rows], weights
