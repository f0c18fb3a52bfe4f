"""Which GP inputs are pending (suggested, no result yet) or already known.

The GP and MOBSTER both keep this ledger: pending inputs join the model as constant liars,
and an input that is pending, observed or failed is not worth suggesting again
(:meth:`Ledger.taken`). Inputs are compared by :func:`input_key`, which survives the float
noise of a config's round trip through the encoding.
"""

from __future__ import annotations

import numpy as np

from .._plateaus import input_key

__all__ = ["input_key", "PendingInputs", "Ledger"]


class PendingInputs:
    """Inputs suggested and not yet reported, duplicates counted.

    ``points()`` lists every copy in suggestion order (the GP's liars); ``distinct()`` one
    input per key, in the order the key became pending (MOBSTER's liars).
    """

    def __init__(self) -> None:
        self._rows: list[tuple[bytes, np.ndarray]] = []
        self._latest: dict[bytes, np.ndarray] = {}
        self._count: dict[bytes, int] = {}

    def add(self, x: np.ndarray) -> None:
        key = input_key(x)
        self._rows.append((key, x))
        self._latest[key] = x
        self._count[key] = self._count.get(key, 0) + 1

    def release(self, x: np.ndarray) -> bool:
        """Forget the oldest pending copy of ``x``; False if it was not pending."""
        key = input_key(x)
        count = self._count.get(key, 0)
        if not count:
            return False
        for i, (row_key, _) in enumerate(self._rows):
            if row_key == key:
                del self._rows[i]
                break
        if count > 1:
            self._count[key] = count - 1
        else:
            del self._count[key]
            del self._latest[key]
        return True

    def has_key(self, key: bytes) -> bool:
        return key in self._count

    def __len__(self) -> int:
        return len(self._rows)

    def points(self) -> list[np.ndarray]:
        """Every pending copy, in suggestion order."""
        return [x for _, x in self._rows]

    def distinct(self) -> list[np.ndarray]:
        """One input per pending key."""
        return list(self._latest.values())


class Ledger:
    """Pending inputs and the inputs already observed or failed ("seen")."""

    def __init__(self) -> None:
        self.pending = PendingInputs()
        self._seen: set[bytes] = set()

    def suggested(self, x: np.ndarray) -> None:
        self.pending.add(x)

    def release(self, x: np.ndarray) -> None:
        """``x`` is no longer pending (it reported, finished or failed)."""
        self.pending.release(x)

    def mark_seen(self, x: np.ndarray) -> None:
        self._seen.add(input_key(x))

    @property
    def n_seen(self) -> int:
        return len(self._seen)

    def taken(self, x: np.ndarray) -> bool:
        """Whether ``x`` is pending, observed or failed: no new information there."""
        key = input_key(x)
        return key in self._seen or self.pending.has_key(key)

    def taken_rows(self, X: np.ndarray) -> np.ndarray:
        """:meth:`taken` for each row of ``X``."""
        return np.array([self.taken(x) for x in X], dtype=bool)
