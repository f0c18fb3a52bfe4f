"""Tree-structured Parzen estimator (TPE): model-based search with two densities.

TPE (Bergstra et al., 2011) splits the observations into a small good group and the rest,
fits a density ``l(x)`` to the good configs and ``g(x)`` to the bad ones, draws candidates
from ``l`` and evaluates the one maximizing ``l(x) / g(x)`` (which ranks candidates as
expected improvement does). Densities live in the space's unit cube, so log scales, ints,
quantized values, choices and normal priors are all handled by the space's own mapping;
the kernels are described in :mod:`._parzen`, the columns in :mod:`._encoding`, and the
scoring of candidates (shared with BOHB) in :mod:`._scoring`.

Defaults of the (default) multivariate model, and why (measured on Branin, Hartmann 6, Ackley 5, Rastrigin 5 and five more test
functions at 50 evaluations, 60 seeds, normalized score against random search; the
defaults of Bergstra et al. and Optuna in brackets):

* kernel widths by the distance to the neighbouring centres, per centre (Optuna's rule;
  [Scott's rule, one width per column]), floored at 0.3 times Scott's width (see
  :mod:`._parzen`): the largest single gain, about +15 points on average, and Branin
  no longer has seeds that end far from an optimum. One width per
  column is set by the spread of the whole good group, so it cannot be narrow around the
  best configs and wide around an isolated one at the same time;
* the good group's kernels weighted by their improvement over the best bad config (the
  "EI" weighting of Watanabe, 2023, arXiv:2304.11127, tempered by an equal share;
  [equal weights]): the best configs pull harder, +2 to +6 points;
* a good group of ``min(ceil(0.15 n), 25)`` ([``0.1 n``], :func:`default_gamma`): with 50
  evaluations, 0.1 means one to five good configs, too few for a density; 0.15 and 0.2
  both did better there (0.2 by about 1 point more, with worse worst seeds), but on
  counting-ones (16 dimensions, half of them binary choices, 80 evaluations) 0.2 fell
  below the old defaults (43 vs 48) while 0.15 matched them (49).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ...space import Space
from .._base import Searcher
from .._checks import flag, int_at_least, one_of, positive_number
from .._plateaus import Plateaus, PlateauTracker
from ._encoding import Encoding
from ._history import History, Pending, bad_centres, point_key
from ._scoring import best_candidate, with_extra_bad


#: Share of the observations in the good group by default (see the module docstring).
GOOD_FRACTION = 0.15
#: Cap on the size of the good group.
MAX_GOOD = 25
#: Share of a good kernel's weight that follows its improvement (the rest is equal for
#: all): with all of it, the best config alone decided ``l`` often enough that the search
#: stayed on a wrong category (11 of 180 seeds on a mixed test space, 2 of 180 with 3/4).
IMPROVEMENT_SHARE = 0.75


def default_gamma(n: int) -> int:
    """Bergstra et al.'s and Optuna's good-group size: ``min(ceil(0.1 n), 25)``.

    Kept for callers and comparisons; TPE's default is :func:`good_group_size`. The best
    10%, capped so that the good group stays a sharp picture of the best region
    however long the search runs (and so that fitting ``l`` costs the same at 10,000
    observations as at 250).
    """
    return min(math.ceil(0.1 * n), 25)


def good_group_size(n: int) -> int:
    """TPE's default good-group size: ``min(ceil(0.15 n), 25)``.

    1.5 times Optuna's share: at 50 observations that is 8 good configs instead of 5,
    enough for the density ``l`` to have a shape, while the cap keeps it a sharp picture of
    the best region (and the cost of fitting ``l`` bounded) on long runs.
    """
    return min(math.ceil(GOOD_FRACTION * n), MAX_GOOD)


def _filled(x: np.ndarray) -> np.ndarray:
    """Unit points with inactive coordinates (NaN) at -1, outside the cube: configs of
    another branch are apart by that much, and distances stay finite."""
    return np.where(np.isnan(x), -1.0, x)


def _gamma_rule(
    gamma: float | Callable[[int], int] | None, multivariate: bool = True
) -> Callable[[int], int]:
    if gamma is None:
        return good_group_size if multivariate else default_gamma
    if callable(gamma):
        return gamma
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0 < gamma < 1:
        raise ValueError(
            f"gamma must be a fraction in (0, 1) or a function n -> size of the good group, "
            f"got gamma={gamma!r}"
        )
    fraction = float(gamma)
    return lambda n: math.ceil(fraction * n)


class TPE(Searcher):
    """Tree-structured Parzen estimator: learns from every result which configs look good.

    ``TPE(space, metric="loss", seed=0)``, then ``suggest()`` / ``observe(config,
    metrics)`` like any searcher (or ``Tuner(..., searcher=TPE)``). Random configs come
    first (``n_initial``), then each suggestion is the best of ``n_candidates`` draws from
    the good configs' density by the ratio to the bad configs' density. Conditional
    parameters are modelled only where they exist, and every suggestion is a valid config.
    Same seed and same sequence of calls, same suggestions: resumed experiments replay.

    Parameters
    ----------
    space, metric, mode, seed:
        As for every searcher. ``metric`` is set by the tuner when left ``None``.
    points_to_evaluate:
        Configs (complete or partial) to try first, in order; missing parameters are drawn
        at random. Checked against the space at construction.
    n_initial:
        Random configs until this many observations have a usable value (warm-start and
        resumed observations count).
    multivariate:
        True: one kernel per observation over all parameters jointly (keeps interactions
        between parameters). False: an independent density per parameter, each parameter
        picking its own best candidate (Bergstra et al.'s original TPE).
    n_candidates:
        Draws from ``l`` scored per suggestion (per parameter when univariate).
    gamma:
        Size of the good group: a function ``n -> count``, or a fraction ``f`` for
        ``ceil(f * n)``. Default: :func:`good_group_size`, ``min(ceil(0.15 n), 25)``,
        when multivariate; :func:`default_gamma`, ``min(ceil(0.1 n), 25)`` (Optuna's),
        when univariate.
    constant_liar:
        Configs suggested but not yet observed join the bad group, so that workers asking
        in parallel are steered away from each other's pending configs. ``observe`` and
        ``on_failed`` clear them.
    prior_weight:
        Weight of the prior (uniform on the unit cube, i.e. the space's own distribution)
        in both densities, in observations: keeps every region reachable.
    max_bad_centres:
        Cap on kernel centres for the bad group (``None``: no cap). Beyond it a stratified
        subset stands for the group (see :func:`._tpe_history.bad_centres`), so the cost of
        a suggestion stops growing with the number of observations.
    failed_as_bad:
        Failed configs (``on_failed``, or a result without a finite metric) join the bad
        group as worse than any result, so the search moves away from regions that crash;
        they never count as observations for ``n_initial`` or ``gamma``.
    bandwidth:
        Kernel widths: ``"neighbour"`` (default when multivariate), per centre and column,
        the distance to the neighbouring centres (narrow where good configs crowd, wide
        around isolated ones); ``"scott"`` (default when univariate), one width per column
        from the group's spread (Scott's rule). See :mod:`._parzen`.
    good_weights:
        Weights of the good group's kernels: ``"improvement"`` (default when
        multivariate), 3/4 by each config's margin over the best bad config,
        ``y_bad_best - y``, 1/4 equal (normalized to mean 1, so the prior keeps its weight
        relative to the group): the best configs pull hardest; ``"uniform"`` (default when
        univariate), all equal.
    plateau_guard:
        (multivariate) Once two different configs returned exactly the same value, a
        candidate whose nearest observed config is one of those tied and closer than the
        observations' typical spacing is passed over like a repeat (see
        ``rung/searchers/_plateaus.py``). Off by default: at 50 evaluations it gained 2.4
        points on Bayesmark and 0.8 on the tables (both within the noise), and at 300 on
        svm-wine it lost 12.9 (8 seeds), where ties are the metric's resolution among good
        configs rather than a plateau (``benchmarks/RESULTS.md``).

    The univariate defaults are the earlier ones: with the multivariate defaults,
    univariate TPE did better on the numeric test functions but stayed on a wrong category
    of a mixed space in a third of the seeds (a univariate categorical column always takes
    the category with the best ratio, so a sharper good group locks it in sooner).
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        *,
        metric: str | None = None,
        mode: str = "min",
        seed: int | None = None,
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
        n_initial: int = 10,
        multivariate: bool = True,
        n_candidates: int = 24,
        gamma: float | Callable[[int], int] | None = None,
        constant_liar: bool = True,
        prior_weight: float = 1.0,
        max_bad_centres: int | None = 256,
        failed_as_bad: bool = True,
        bandwidth: str | None = None,
        good_weights: str | None = None,
        plateau_guard: bool = False,
    ) -> None:
        super().__init__(space, metric=metric, mode=mode, seed=seed)
        self.n_initial = int_at_least("n_initial", n_initial, 1)
        self.n_candidates = int_at_least("n_candidates", n_candidates, 1)
        if max_bad_centres is not None:
            max_bad_centres = int_at_least("max_bad_centres", max_bad_centres, 4)
        self.max_bad_centres = max_bad_centres
        self.prior_weight = positive_number("prior_weight", prior_weight)
        self.multivariate = flag("multivariate", multivariate)
        self.constant_liar = flag("constant_liar", constant_liar)
        self.failed_as_bad = flag("failed_as_bad", failed_as_bad)
        self.plateau_guard = flag("plateau_guard", plateau_guard)
        self.gamma = _gamma_rule(gamma, self.multivariate)
        if bandwidth is None:
            bandwidth = "neighbour" if self.multivariate else "scott"
        if good_weights is None:
            good_weights = "improvement" if self.multivariate else "uniform"
        self.bandwidth = one_of("bandwidth", bandwidth, ("neighbour", "scott"))
        self.good_weights = one_of("good_weights", good_weights, ("improvement", "uniform"))
        self._set_starting_points(points_to_evaluate)
        self._encoding = Encoding(self.space)
        self._history = History(self._encoding.d)
        self._pending = Pending(self._encoding.d)
        #: Keys of the configs observed or failed (``point_key`` of their unit points).
        self._seen: set[bytes] = set()
        self._plateau_tracker = PlateauTracker()  # ties between results (plateau guard)

    # -- state --------------------------------------------------------------------------

    @property
    def n_observed(self) -> int:
        """Observations with a usable value (what ``n_initial`` and ``gamma`` count)."""
        return self._history.n_finite

    @property
    def n_pending(self) -> int:
        """Configs suggested and not yet observed or failed."""
        return self._pending.n

    # -- ask / tell ---------------------------------------------------------------------

    def suggest(self) -> dict[str, Any]:
        """Next config: starting points, then random until ``n_initial`` results, then the
        model's choice. The config stays pending (a "lie" in the bad group) until observed."""
        config = self._next_starting_point()
        if config is None and (self._history.n_finite < self.n_initial or self._encoding.d == 0):
            config = self.space.sample(self.rng)
        elif config is None:
            config = self._model_suggestion()
        if self._encoding.d:
            self._pending.add(self.space.to_unit(config))
        return config

    def observe(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        """Record ``config``'s result (suggested here or not: warm start and resume feed
        results this way). Without a finite value of the metric it counts as a failure."""
        value = self._objective_value(metrics)
        if value is None:
            self.on_failed(config)
            return
        if not self._encoding.d:
            return
        x = self.space.to_unit(config)
        self._pending.discard(x)
        self._history.add(x, value)
        self._seen.add(point_key(x))
        if math.isfinite(value):
            self._plateau_tracker.add(_filled(x), value)

    def on_failed(self, config: Mapping[str, Any]) -> None:
        """``config`` gave no result: no longer pending; worse than any result if
        ``failed_as_bad``."""
        if not self._encoding.d:
            return
        x = self.space.to_unit(config)
        self._pending.discard(x)
        self._seen.add(point_key(x))
        if self.failed_as_bad:
            self._history.add(x, math.inf)

    def add_pending(self, config: Mapping[str, Any]) -> None:
        """Count ``config`` as pending although it was not suggested here (e.g. a running
        trial another searcher suggested, when ``auto`` hands over to TPE)."""
        if self._encoding.d:
            self._pending.add(self.space.to_unit(config))

    # -- the model ----------------------------------------------------------------------

    def _model_suggestion(self) -> dict[str, Any]:
        history = self._history
        n_good = min(max(int(self.gamma(history.n_finite)), 1), history.n_finite)
        good = history.x[:n_good]
        bad, bad_weights = bad_centres(history, n_good, self.max_bad_centres, self.rng)
        if self.constant_liar and self._pending.n:
            bad, bad_weights = with_extra_bad(bad, bad_weights, self._pending.points())
        best = best_candidate(
            self._encoding, good, self._good_weights(n_good), bad, bad_weights,
            prior_weight=self.prior_weight, multivariate=self.multivariate, bandwidth=self.bandwidth,
            n_candidates=self.n_candidates, rng=self.rng, seen=self._known_as(self._plateaus()),
        )
        return self.space.from_unit(best)

    def _plateaus(self) -> Plateaus | None:
        """The plateau guard's neighbourhoods, or None (off, or no tie yet)."""
        return self._plateau_tracker.plateaus() if self.plateau_guard else None

    def _known_as(self, plateaus: Plateaus | None) -> Callable[[np.ndarray], int]:
        """How well a candidate is known: 2 when it decodes to a config observed, failed or
        pending, 1 when it lies on a plateau the observations have shown, else 0."""

        def known(x: np.ndarray) -> int:
            unit = self.space.to_unit(self.space.from_unit(x))
            key = point_key(unit)
            if key in self._seen or self._pending.has(key):
                return 2
            return int(plateaus is not None and plateaus.covers(_filled(unit[None, :])[0]))

        return known

    def _good_weights(self, n_good: int) -> np.ndarray:
        """Kernel weights of the good group (the ``n_good`` best rows), mean 1: equal, or
        :data:`IMPROVEMENT_SHARE` of each row's improvement over the best bad row plus an
        equal share (all equal when there is no finite bad row, or when all good rows tie
        with it)."""
        y = self._history.y
        if self.good_weights == "uniform" or n_good >= self._history.n_finite:
            return np.ones(n_good)
        gain = np.maximum(y[n_good] - y[:n_good], 0.0)
        if not gain.any():
            return np.ones(n_good)
        return (1.0 - IMPROVEMENT_SHARE) + IMPROVEMENT_SHARE * gain / gain.mean()

    def __repr__(self) -> str:
        return (
            f"TPE(metric={self.metric!r}, mode={self.mode!r}, seed={self.seed!r}, "
            f"multivariate={self.multivariate!r}, n_observed={self.n_observed})"
        )
