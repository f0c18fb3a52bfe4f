"""Random search: independent draws from the space's priors."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from ..space import Space, SpaceError
from ._base import Searcher


class Random(Searcher):
    """Sample configs independently from the space.

    ``points_to_evaluate`` are configs (complete or partial) to try first, in order, before
    any random draw; missing parameters of a partial config are sampled. They are checked
    against the space when the searcher is built, so a typo fails before any trial runs.
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        metric: str | None = None,
        mode: str = "min",
        seed: int | None = None,
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(space, metric, mode, seed)
        self._initial: list[dict[str, Any]] = []
        for index, point in enumerate(points_to_evaluate or ()):
            if not isinstance(point, Mapping):
                raise TypeError(f"points_to_evaluate[{index}] must be a dict, got {point!r}")
            try:
                # A throwaway generator: checking must not consume the searcher's randomness.
                self.space.sample(np.random.default_rng(0), fixed=point)
            except SpaceError as err:
                raise SpaceError(f"points_to_evaluate[{index}]: {err.reason}", param=err.param) from None
            self._initial.append(dict(point))
        self._n_initial_used = 0

    def suggest(self) -> dict[str, Any] | None:
        if self._n_initial_used < len(self._initial):
            fixed = self._initial[self._n_initial_used]
            self._n_initial_used += 1
            return self.space.sample(self.rng, fixed=fixed)
        return self.space.sample(self.rng)
