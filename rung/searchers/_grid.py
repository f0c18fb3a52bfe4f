"""Grid search: the Cartesian product of every parameter's values."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import numpy as np

from ..space import Space
from ._base import Searcher


class Grid(Searcher):
    """Enumerate the Cartesian product of the space's finite domains, once each.

    Continuous domains have no natural grid: they are refused unless ``num_points`` says how
    many evenly spaced values to take (an int for every continuous parameter, or a dict per
    parameter). ``shuffle=True`` visits the grid in a seeded random order, which gives a
    fairer picture when the budget ends before the grid does.
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        *,
        metric: str | None = None,
        mode: str = "min",
        seed: int | None = None,
        num_points: int | Mapping[str, int] | None = None,
        shuffle: bool = False,
    ) -> None:
        super().__init__(space, metric=metric, mode=mode, seed=seed)
        self.num_points = num_points
        self.shuffle = shuffle
        # Counting the grid walks it once, which raises (naming the parameter) for a
        # continuous domain without num_points: before any trial runs.
        self.size = self.space.grid_size(num_points)
        self._order: np.ndarray | None = None
        self._configs: list[dict[str, Any]] | None = None
        self._iterator: Iterator[dict[str, Any]] | None = None
        self._position = 0

    @property
    def is_finite(self) -> bool:
        return True

    def suggest(self) -> dict[str, Any] | None:
        if self._position >= self.size:
            return None
        if self.shuffle:
            if self._configs is None:
                self._configs = list(self.space.grid(self.num_points))
                self._order = self.rng.permutation(len(self._configs))
            assert self._order is not None
            config = self._configs[int(self._order[self._position])]
        else:
            if self._iterator is None:
                self._iterator = iter(self.space.grid(self.num_points))
            config = next(self._iterator)
        self._position += 1
        return dict(config)
