"""BOHB-style search: a TPE density model per resource level (Falkner et al., 2018).

BOHB pairs Hyperband-style schedulers with a model-based searcher that learns from every
fidelity: observations are kept per resource level, and each suggestion fits TPE's two
densities (good and bad configs, :mod:`._tpe._parzen`) on the *highest* level that has
enough observations. Low levels are cheap and fill first, so the model starts early; as
trials reach higher levels the model moves up, where the ranking of configs is the one
that matters (low fidelities can point to the wrong region). A fixed fraction of
suggestions is drawn at random, which keeps the search exploring and makes it robust when
the model is misled.

Levels come from the scheduler (``Searcher.set_fidelity``, see :mod:`._fidelity_levels`):
ASHA, Hyperband and successive halving give their rung levels; stopping policies give only
the resource field, and every distinct resource value is then a level. With a FIFO
scheduler nothing is set, and BOHB is TPE on final results with a random fraction.

The density code is TPE's, from :mod:`._tpe`: its encoding, sorted history and pending
configs, densities, and the scoring of candidates (:func:`._tpe._scoring.best_candidate`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..space import Space
from ._base import Searcher
from ._checks import fraction, int_at_least, positive_number
from ._fidelity_levels import Fidelity
from ._tpe._encoding import Encoding
from ._tpe._history import History, Pending, bad_centres, point_key
from ._tpe._scoring import best_candidate, with_extra_bad


#: Failed configs kept for the bad group (the most recent): bounds the cost of a suggestion.
_MAX_FAILED = 64


class _Level:
    """The observations at one resource level, sorted by value (TPE's :class:`History`)."""

    def __init__(self, d: int) -> None:
        self.history = History(d)
        self.keys: set[bytes] = set()  # configs recorded here (one value per config)


class BOHB(Searcher):
    """BOHB-style multi-fidelity search: TPE densities fitted per resource level.

    ``Tuner(..., searcher="bohb", scheduler=ASHA(...))`` (or Hyperband, successive halving,
    a stopping policy). Each suggestion is random with probability ``random_fraction``,
    else the best of ``n_candidates`` draws from the good density of the highest level with
    at least ``min_points`` results, ranked by ``l(x) / g(x)``. Deterministic given the seed
    and the sequence of calls (resume and warm start replay through the same calls).

    Parameters
    ----------
    space, metric, mode, seed:
        As for every searcher.
    resource_attr:
        The report field holding the resource, for use without a multi-fidelity scheduler
        (the scheduler's ``set_fidelity`` overrides it). ``None``: learn from final results
        only until a scheduler names it.
    points_to_evaluate:
        Configs (complete or partial) to try first.
    min_points:
        Results a level needs before the model is fitted on it. Default ``d + 2`` for ``d``
        tunable parameters: BOHB's ``min_points_in_model`` is ``d + 1`` and it needs at
        least one more point to split into a good and a bad group. Below it at every level,
        suggestions are random.
    random_fraction:
        Share of suggestions drawn from the prior even when a model exists (BOHB: 1/3).
    gamma:
        Share of a level's results in the good group: ``ceil(gamma * n)``, at least one
        and at most ``max_good``. BOHB's 15% was worse on the multi-fidelity Hartmann
        problems (6 seeds each, mean final -2.72 and -2.74 against -2.87 and -2.82 with
        30%): the top level has few results, and a good group of one or two configs
        locks onto them.
    max_good:
        Cap on the good group, as in TPE, so that it stays a sharp picture of the best region.
    n_candidates:
        Draws from the good density scored per suggestion (BOHB: 64).
    multivariate, prior_weight, max_bad_centres:
        As for :class:`~rung.searchers.TPE` (joint kernels; weight of the prior in both
        densities; cap on bad-group kernel centres, which bounds the cost of a suggestion).
    constant_liar:
        Configs suggested and not yet reported join the bad group, so workers asking in
        parallel are steered apart. A config stops being pending at its first report.
    lower_as_bad:
        Configs reported only below the model's level join its bad group (a departure from
        BOHB, which fits each level on its own data; see :meth:`_with_lower`).
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        *,
        metric: str | None = None,
        mode: str = "min",
        seed: int | None = None,
        resource_attr: str | None = None,
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
        min_points: int | None = None,
        random_fraction: float = 1 / 3,
        gamma: float = 0.3,
        max_good: int = 25,
        n_candidates: int = 64,
        multivariate: bool = True,
        prior_weight: float = 1.0,
        max_bad_centres: int | None = 256,
        constant_liar: bool = True,
        lower_as_bad: bool = True,
    ) -> None:
        super().__init__(space, metric=metric, mode=mode, seed=seed)
        self._set_starting_points(points_to_evaluate)
        self._encoding = Encoding(self.space)
        d = self._encoding.d
        self.min_points = d + 2 if min_points is None else int_at_least("min_points", min_points, 2)
        self.random_fraction = fraction("random_fraction", random_fraction, closed=True)
        self.gamma = fraction("gamma", gamma, closed=False)
        self.max_good = int_at_least("max_good", max_good, 1)
        self.n_candidates = int_at_least("n_candidates", n_candidates, 1)
        if max_bad_centres is not None:
            max_bad_centres = int_at_least("max_bad_centres", max_bad_centres, 4)
        self.max_bad_centres = max_bad_centres
        self.prior_weight = positive_number("prior_weight", prior_weight)
        self.multivariate = bool(multivariate)
        self.constant_liar = bool(constant_liar)
        self.lower_as_bad = bool(lower_as_bad)
        self.fidelity = Fidelity(resource_attr)
        self._levels: dict[float, _Level] = {}
        self._pending = Pending(d)
        self._failed: list[np.ndarray] = []
        #: Level the last model suggestion was fitted on (None: random), for tests and logs.
        self.model_level: float | None = None

    # -- the contract ---------------------------------------------------------------------

    def set_fidelity(
        self,
        resource_attr: str,
        levels: Sequence[float] | None = None,
        max_resource: float | None = None,
    ) -> None:
        self.fidelity.configure(resource_attr, levels, max_resource)

    def suggest(self) -> dict[str, Any]:
        """Starting points, then random with probability ``random_fraction`` or while no
        level has ``min_points`` results, else the model's pick at the highest such level."""
        config = self._next_starting_point()
        if config is None:
            # One draw per suggestion whatever happens, so the stream of random numbers does
            # not depend on which branch earlier suggestions took.
            explore = self.rng.random() < self.random_fraction
            level = self._model_level()
            if explore or level is None or self._encoding.d == 0:
                self.model_level = None
                config = self.space.sample(self.rng)
            else:
                self.model_level = level
                config = self._model_suggestion(level)
        if self._encoding.d:
            self._pending.add(self.space.to_unit(config))
        return config

    def observe_partial(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        """A report of a running trial: recorded at the rung level it reached."""
        if not self.fidelity.active:
            return
        x = self._unit(config)
        if x is None:
            return
        self._pending.discard(x)
        level = self.fidelity.level_of_report(metrics)
        if level is not None:
            self._record(x, level, metrics)

    def observe(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        """A final result (or the last report of a stopped trial, or warm-start data):
        recorded at its resource's level, or at the top level if it has no resource."""
        value = self._objective_value(metrics)
        if value is None:
            self.on_failed(config)
            return
        x = self._unit(config)
        if x is None:
            return
        self._pending.discard(x)
        level = self.fidelity.level_of_result(metrics)
        if level is not None:
            self._record(x, level, metrics)

    def on_failed(self, config: Mapping[str, Any]) -> None:
        """No usable result: no longer pending, and worse than any result in every model."""
        x = self._unit(config)
        if x is None:
            return
        self._pending.discard(x)
        self._failed.append(x)
        if len(self._failed) > _MAX_FAILED:
            del self._failed[0]

    # -- state ----------------------------------------------------------------------------

    def observations(self) -> dict[float, int]:
        """Number of results with a finite value at each level, lowest level first."""
        return {level: self._levels[level].history.n_finite for level in sorted(self._levels)}

    @property
    def n_pending(self) -> int:
        return self._pending.n

    def _unit(self, config: Mapping[str, Any]) -> np.ndarray | None:
        return self.space.to_unit(config) if self._encoding.d else None

    def _record(self, x: np.ndarray, level: float, metrics: Mapping[str, Any]) -> None:
        value = self._objective_value(metrics)
        if value is None:
            return
        entry = self._levels.get(level)
        if entry is None:
            entry = self._levels[level] = _Level(self._encoding.d)
        key = point_key(x)
        if key in entry.keys:
            return  # already recorded here (the final result repeats the last report)
        entry.keys.add(key)
        entry.history.add(x, value)

    def _with_lower(self, level: float) -> History:
        """The level's history followed by every config seen only below it (as ``+inf``).

        Only configs that survived to ``level`` are recorded there, so its bad group alone
        holds good-ish configs and ``l / g`` would favour regions nobody tried. Configs
        stopped (or still running) below the level are worse than its survivors, or not
        known to be better: counting them as bad makes ``g`` the density of everything
        tried, which is what ``l`` must stand out from.
        """
        top = self._levels[level]
        merged = History(self._encoding.d, capacity=max(64, top.history.n))
        for x, y in zip(top.history.x, top.history.y):
            merged.add(x, y)  # already sorted: appends
        seen = set(top.keys)
        for lower in sorted((k for k in self._levels if k < level), reverse=True):
            for x in self._levels[lower].history.x:
                key = point_key(x)
                if key not in seen:
                    seen.add(key)
                    merged.add(x, math.inf)  # +inf sorts last: appends
        return merged

    def _model_level(self) -> float | None:
        """The highest level with at least ``min_points`` results."""
        for level in sorted(self._levels, reverse=True):
            if self._levels[level].history.n_finite >= self.min_points:
                return level
        return None

    # -- the model ------------------------------------------------------------------------

    def _model_suggestion(self, level: float) -> dict[str, Any]:
        history = self._levels[level].history
        n = history.n_finite
        n_good = min(max(math.ceil(self.gamma * n), 1), self.max_good, n - 1)
        good = history.x[:n_good]
        if self.lower_as_bad:
            history = self._with_lower(level)
        bad, bad_weights = bad_centres(history, n_good, self.max_bad_centres, self.rng)
        extra = list(self._failed)
        if self.constant_liar and self._pending.n:
            extra.extend(self._pending.points())
        bad, bad_weights = with_extra_bad(bad, bad_weights, extra)
        best = best_candidate(
            self._encoding, good, np.ones(n_good), bad, bad_weights,
            prior_weight=self.prior_weight, multivariate=self.multivariate, bandwidth="scott",
            n_candidates=self.n_candidates, rng=self.rng,
        )
        return self.space.from_unit(best)

    def __repr__(self) -> str:
        return (
            f"BOHB(metric={self.metric!r}, mode={self.mode!r}, seed={self.seed!r}, "
            f"resource_attr={self.fidelity.resource_attr!r}, min_points={self.min_points})"
        )
