"""Random search: independent draws from the space's priors."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..space import Space
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
        *,
        metric: str | None = None,
        mode: str = "min",
        seed: int | None = None,
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(space, metric=metric, mode=mode, seed=seed)
        self._set_starting_points(points_to_evaluate)

    def suggest(self) -> dict[str, Any] | None:
        starting = self._next_starting_point()
        return starting if starting is not None else self.space.sample(self.rng)
