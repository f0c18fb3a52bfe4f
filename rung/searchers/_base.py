"""The searcher contract: which config to try next.

A searcher is an ask/tell object: ``suggest()`` returns a config (or ``None`` when it has
nothing left, e.g. a finished grid) and ``observe(config, metrics)`` tells it a result.
It knows nothing of time, workers or trials; it is deterministic given its seed.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..space import Space, SpaceError

from .._objective import MODES, Objective, check_metric, check_mode  # noqa: F401  (re-exported)


class Searcher(ABC):
    """Base class for searchers.

    Parameters
    ----------
    space:
        The config space (a :class:`rung.space.Space` or a plain dict of domains).
    metric, mode:
        Name of the metric to optimize and whether to minimize or maximize it. Searchers
        that do not learn from results (random, grid) accept ``metric=None``.
    seed:
        Seed of the searcher's random generator; same seed, same configs.
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        *,
        metric: str | None = None,
        mode: str = "min",
        seed: int | None = None,
    ) -> None:
        self.space = Space.coerce(space)
        self.metric = check_metric(metric)
        self.mode = check_mode(mode)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._starting_points: list[dict[str, Any]] = []
        self._n_starting_used = 0
        self._objective: Objective | None = None

    # -- starting points ---------------------------------------------------------------------
    def _set_starting_points(self, points: Iterable[Mapping[str, Any]] | None) -> None:
        """Keep ``points_to_evaluate`` (complete or partial configs) to try before anything else.

        They are checked against the space now, so a typo fails before any trial runs; the
        check uses a throwaway generator so it does not consume the searcher's randomness.
        """
        self._starting_points = []
        for index, point in enumerate(points or ()):
            if not isinstance(point, Mapping):
                raise TypeError(f"points_to_evaluate[{index}] must be a dict, got {point!r}")
            try:
                self.space.sample(np.random.default_rng(0), fixed=point)
            except SpaceError as err:
                raise SpaceError(f"points_to_evaluate[{index}]: {err.reason}", param=err.param) from None
            self._starting_points.append(dict(point))
        self._n_starting_used = 0

    def _next_starting_point(self) -> dict[str, Any] | None:
        """The next starting point with its missing parameters sampled, or None when used up."""
        points = self._starting_points
        if self._n_starting_used >= len(points):
            return None
        fixed = points[self._n_starting_used]
        self._n_starting_used += 1
        return self.space.sample(self.rng, fixed=fixed)

    def observe_prior(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        """A result from an earlier experiment (warm start). By default the same as
        :meth:`observe`; the GP fits such results as less certain than its own."""
        self.observe(config, metrics)

    def prepend_starting_points(self, points: Iterable[Mapping[str, Any]]) -> None:
        """Try ``points`` next, before any starting point not used yet (warm start puts the
        best parent config here). Checked like ``points_to_evaluate``; searchers that take no
        starting points (Grid) never use them."""
        remaining = self._starting_points[self._n_starting_used:]
        self._set_starting_points([*points, *remaining])

    @abstractmethod
    def suggest(self) -> dict[str, Any] | None:
        """The next config to evaluate, or ``None`` when the searcher has nothing left."""

    def observe(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        """Final result of ``config``. The default ignores it (non-learning searchers)."""

    def observe_partial(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        """An intermediate result of ``config`` (one report of a running trial)."""

    def set_fidelity(
        self,
        resource_attr: str,
        levels: Sequence[float] | None = None,
        max_resource: float | None = None,
    ) -> None:
        """A multi-fidelity scheduler names the report field that holds the resource spent.

        Called once by the scheduler's ``setup`` (ASHA, Hyperband, successive halving and the
        stopping policies), with its rung ``levels`` and ``max_resource`` when it has them.
        Single-fidelity searchers ignore it and learn from final results only; multi-fidelity
        searchers (BOHB-style, asynchronous GP) use it to read ``observe_partial`` reports.
        """

    def on_failed(self, config: Mapping[str, Any]) -> None:
        """``config`` was evaluated without a usable result (failure or early stop)."""

    def stratum(self, config: Mapping[str, Any]) -> str | None:
        """The group a config this searcher suggested is judged in (ASHA stopping asks at
        each start): trials with a stratum are compared at each rung only with trials of
        the same stratum; ``None`` (the default), with every trial."""
        return None

    @property
    def is_finite(self) -> bool:
        """True when ``suggest`` eventually returns ``None`` (e.g. a grid)."""
        return False

    def _objective_value(self, metrics: Mapping[str, Any]) -> float | None:
        """The metric oriented for minimization, or None when absent or not finite."""
        if self.metric is None or self.metric not in metrics:
            return None
        try:
            value = float(metrics[self.metric])
        except (TypeError, ValueError):
            return None
        if not math.isfinite(value):
            return None
        return self.objective.oriented(value)

    @property
    def objective(self) -> Objective:
        """The :class:`rung.Objective` of ``metric`` and ``mode`` (the tuner may set
        ``metric`` after construction, so it is rebuilt when they change)."""
        objective = self._objective
        if objective is None or objective.metric != self.metric or objective.mode != self.mode:
            if self.metric is None:
                raise ValueError("this searcher has no metric yet: pass metric= or let the tuner set it")
            objective = self._objective = Objective(self.metric, check_mode(self.mode))
        return objective

    def __repr__(self) -> str:
        return f"{type(self).__name__}(metric={self.metric!r}, mode={self.mode!r}, seed={self.seed!r})"
