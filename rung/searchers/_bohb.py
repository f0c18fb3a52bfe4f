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

Three guards, on by default, keep the model from doing worse than random configs under ASHA
(rung's issue 18: on LCBench and XGBoost tables BOHB-style search ended below random
search, because it spent most of its budget training copies of one config to the end):

* **Trust check** (``trust_check``): a level's model makes suggestions only once it has
  ranked held-out results better than chance. Each result that arrives at a level whose
  model exists is first scored by that model (``log l - log g`` from the level's data
  before this result), then recorded; the level is *trusted* while Kendall's tau between
  those scores and the results' quality, over its latest :data:`TRUST_WINDOW` checks,
  is significantly positive (one-sided normal test, ``z >= trust_z``, at least
  ``min_checks`` checks). The model is fitted on the highest trusted level with enough
  data; with none, suggestions are random (ASHA with random configs).
* **Duplicate guard** (``duplicate_guard``): two configs whose results are identical at
  every level both reached (at least two) are the same point of the objective (a table
  answering with its nearest row, a parameter that does nothing). The median distance
  between such pairs is the objective's resolution; model candidates closer than that to
  any config already tried or pending are dropped, and when every candidate is dropped
  the suggestion is random. Without identical results (any noisy or continuous
  objective) the radius stays 0 and nothing is dropped.
* **Random stratum** (``random_stratum``): the random configs are judged apart. ASHA
  (stopping) asks :meth:`BOHB.stratum` of each config it starts, and compares a random
  config at each rung only with the other random configs there, as ASHA with random
  configs alone would; the model's configs are compared with every config. Without it a
  model that finds configs good at low rungs (fast starters) fills the rungs and raises
  their cut, so random configs are stopped more often than plain ASHA stops them (LCBench
  34539, seed 0: 23 % of the random configs passed the first rung instead of a third),
  though random configs are the search's only way into regions the model has not seen
  (there, slow starters that end best). With it, the random share of the suggestions is
  a plain ASHA search that the model cannot crowd out.

The density code is TPE's, from :mod:`._tpe`: its encoding, sorted history and pending
configs, densities and bad-group subsampling; the candidate scoring is repeated here so
that candidates can be screened.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..space import Space
from ._base import Searcher
from ._checks import flag, fraction, int_at_least, positive_number
from ._fidelity_levels import Fidelity
from ._tpe._encoding import Encoding
from ._tpe._history import History, Pending, bad_centres, point_key
from ._tpe._scoring import with_extra_bad


#: Failed configs kept for the bad group (the most recent): bounds the cost of a suggestion.
_MAX_FAILED = 64
#: The trust check of a level looks at its latest this many held-out checks.
TRUST_WINDOW = 50
#: Relative tolerance under which two results count as identical (duplicate guard).
_SAME = 1e-12


def kendall_z(scores: Sequence[float], quality: Sequence[float]) -> float:
    """Normal score of Kendall's tau-b between ``scores`` and ``quality`` (0 if undefined).

    Positive when higher scores go with higher quality. The variance is the no-ties null
    variance ``2 (2n + 5) / (9 n (n - 1))``; with ties tau-b is smaller, so the test is
    conservative. Pure numpy, O(n^2) for the small windows it gets.
    """
    a = np.asarray(scores, dtype=float)
    b = np.asarray(quality, dtype=float)
    n = len(a)
    if n < 3:
        return 0.0
    da = np.sign(a[:, None] - a[None, :])
    db = np.sign(b[:, None] - b[None, :])
    upper = np.triu_indices(n, 1)
    concordance = float(np.sum(da[upper] * db[upper]))
    ties_a = float(np.sum(da[upper] != 0))
    ties_b = float(np.sum(db[upper] != 0))
    if ties_a == 0 or ties_b == 0:
        return 0.0
    tau = concordance / math.sqrt(ties_a * ties_b)
    return tau / math.sqrt(2.0 * (2 * n + 5) / (9.0 * n * (n - 1)))


def _distances(points: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Euclidean distances ``(n, m)`` between unit points, NaN meaning inactive.

    A coordinate active in both points counts its difference; active in one only, 1 (as
    far as the cube allows); inactive in both, 0. Computed with matrix products (the
    squares expand into sums of per-point terms), so screening stays cheap with thousands
    of tried configs.
    """
    a_on = (~np.isnan(points)).astype(float)
    b_on = (~np.isnan(others)).astype(float)
    a = np.nan_to_num(points)
    b = np.nan_to_num(others)
    squared = ((a_on * a * a) @ b_on.T + a_on @ (b_on * b * b).T - 2.0 * (a_on * a) @ (b_on * b).T
               + a_on.sum(axis=1)[:, None] + b_on.sum(axis=1)[None, :] - 2.0 * a_on @ b_on.T)
    return np.sqrt(np.maximum(squared, 0.0))


def _sorted_history(x: np.ndarray, y: np.ndarray) -> History:
    """A :class:`History` holding rows already sorted by value, filled in one copy
    (adding them one by one costs a binary search and a call each)."""
    history = History(x.shape[1], capacity=max(64, len(y)))
    history._x[: len(y)] = x
    history._y[: len(y)] = y
    history.n = len(y)
    history.n_finite = int(np.isfinite(y).sum())
    return history


class _Level:
    """The observations at one resource level, sorted by value (TPE's :class:`History`)."""

    def __init__(self, d: int) -> None:
        self.history = History(d)
        self.keys: set[bytes] = set()  # configs recorded here (one value per config)
        self.values: dict[bytes, float] = {}  # each config's value here (duplicate guard)
        #: (model score before the result was recorded, result quality), arrival order.
        self.checks: list[tuple[float, float]] = []


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
    trust_check, min_checks, trust_z:
        The trust check (module docstring): a level's model is used only once at least
        ``min_checks`` of its held-out checks give a Kendall-tau z score of at least
        ``trust_z`` (1.645: one-sided 5 %). ``trust_check=False``: BOHB's rule, the
        highest level with ``min_points`` results.
    duplicate_guard:
        Drop model candidates within the objective's observed resolution of a config
        already tried (module docstring).
    random_stratum:
        Put the configs drawn at random in a stratum of their own (:meth:`stratum`), so
        that ASHA judges them only against each other (module docstring). It changes no
        suggestion, only which trials ASHA compares.
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
        trust_check: bool = True,
        min_checks: int = 6,
        trust_z: float = 1.645,
        duplicate_guard: bool = True,
        random_stratum: bool = True,
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
        self.multivariate = flag("multivariate", multivariate)
        self.constant_liar = flag("constant_liar", constant_liar)
        self.lower_as_bad = flag("lower_as_bad", lower_as_bad)
        self.trust_check = flag("trust_check", trust_check)
        self.min_checks = int_at_least("min_checks", min_checks, 3)
        self.trust_z = float(trust_z)
        self.duplicate_guard = flag("duplicate_guard", duplicate_guard)
        self.random_stratum = flag("random_stratum", random_stratum)
        self.fidelity = Fidelity(resource_attr)
        self._levels: dict[float, _Level] = {}
        self._pending = Pending(d)
        self._failed: list[np.ndarray] = []
        #: Level the last model suggestion was fitted on (None: random), for tests and logs.
        self.model_level: float | None = None
        #: Where the last suggestion came from: "start", "random", "model", or "screened"
        #: (random because the duplicate guard dropped every model candidate).
        self.source = "random"
        # Every config suggested or recorded (unit points by key): what the guard screens.
        self._tried: dict[bytes, np.ndarray] = {}
        # Distances between configs found identical (duplicate guard), in order found.
        self.duplicate_distances: list[float] = []
        # Configs last suggested at random (random_stratum): unit-point keys.
        self._random_keys: set[bytes] = set()

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
        self.source = "start"
        if config is None:
            # One draw per suggestion whatever happens, so the stream of random numbers does
            # not depend on which branch earlier suggestions took.
            explore = self.rng.random() < self.random_fraction
            level = self._model_level()
            self.model_level = None
            self.source = "random"
            if explore or level is None or self._encoding.d == 0:
                config = self.space.sample(self.rng)
            else:
                config = self._model_suggestion(level)
                if config is None:
                    self.source = "screened"
                    config = self.space.sample(self.rng)
                else:
                    self.model_level = level
                    self.source = "model"
        if self._encoding.d:
            x = self.space.to_unit(config)
            self._pending.add(x)
            key = point_key(x)
            self._tried.setdefault(key, x)
            if self.random_stratum:
                if self.source in ("random", "screened"):
                    self._random_keys.add(key)
                else:
                    self._random_keys.discard(key)
        return config

    def stratum(self, config: Mapping[str, Any]) -> str | None:
        """``"random"`` for a config last suggested at random (``random_stratum``): ASHA then
        judges it only against other random configs. None for the model's configs and
        starting points, which ASHA judges against every trial."""
        if not self.random_stratum or not self._random_keys:
            return None
        return "random" if point_key(self.space.to_unit(config)) in self._random_keys else None

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

    def trust(self, level: float) -> float:
        """The level's trust statistic: Kendall-tau z score of its latest held-out checks
        (0 with fewer than ``min_checks``)."""
        entry = self._levels.get(level)
        if entry is None or len(entry.checks) < self.min_checks:
            return 0.0
        window = entry.checks[-TRUST_WINDOW:]
        return kendall_z([c[0] for c in window], [c[1] for c in window])

    def trusted(self, level: float) -> bool:
        """Whether the level's model may make suggestions (always, without the check)."""
        return not self.trust_check or self.trust(level) >= self.trust_z

    @property
    def exclusion_radius(self) -> float:
        """The duplicate guard's radius: median distance between identical configs (0: none)."""
        if not self.duplicate_guard or not self.duplicate_distances:
            return 0.0
        return float(np.median(self.duplicate_distances))

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
        if self.trust_check and math.isfinite(value) and entry.history.n_finite >= self.min_points:
            # Held out: scored by the level's model before the model sees it.
            entry.checks.append((self._score(level, x), -value))
        entry.keys.add(key)
        entry.values[key] = value
        entry.history.add(x, value)
        self._tried.setdefault(key, x)
        if self.duplicate_guard and math.isfinite(value):
            self._find_duplicate(x, key, level, value)

    def _find_duplicate(self, x: np.ndarray, key: bytes, level: float, value: float) -> None:
        """Record the distance to the nearest other config with identical results at every
        level both reached, once they share exactly two levels (each pair counts once;
        one level alone could tie by chance, e.g. an accuracy on a small validation set)."""
        entry = self._levels[level]
        tolerance = _SAME * max(1.0, abs(value))
        same = [other for other, v in entry.values.items() if other != key and abs(v - value) <= tolerance]
        if not same:
            return
        best: float | None = None
        for other in same:
            shared = [lv for lv in self._levels.values() if key in lv.values and other in lv.values]
            if len(shared) != 2:  # fewer: not yet evidence; more: this pair was counted before
                continue
            if any(abs(lv.values[key] - lv.values[other]) > _SAME * max(1.0, abs(lv.values[key])) for lv in shared):
                continue
            distance = float(_distances(x[None, :], self._tried[other][None, :])[0, 0])
            best = distance if best is None else min(best, distance)
        if best is not None and best > 0:
            self.duplicate_distances.append(best)

    def _with_lower(self, level: float) -> History:
        """The level's history followed by every config seen only below it (as ``+inf``).

        Only configs that survived to ``level`` are recorded there, so its bad group alone
        holds good-ish configs and ``l / g`` would favour regions nobody tried. Configs
        stopped (or still running) below the level are worse than its survivors, or not
        known to be better: counting them as bad makes ``g`` the density of everything
        tried, which is what ``l`` must stand out from.
        """
        top = self._levels[level]
        rows = [top.history.x]
        seen = set(top.keys)
        for lower in sorted((k for k in self._levels if k < level), reverse=True):
            history = self._levels[lower].history
            keys = [point_key(x) for x in history.x]
            fresh = [i for i, key in enumerate(keys) if key not in seen]
            seen.update(keys)
            if fresh:
                rows.append(history.x[fresh])
        x = np.vstack(rows)
        y = np.concatenate([top.history.y, np.full(len(x) - top.history.n, math.inf)])
        return _sorted_history(x, y)

    def _model_level(self) -> float | None:
        """The highest level with at least ``min_points`` results that is trusted."""
        for level in sorted(self._levels, reverse=True):
            if self._levels[level].history.n_finite >= self.min_points and self.trusted(level):
                return level
        return None

    # -- the model ------------------------------------------------------------------------

    def _densities(self, level: float, rng: np.random.Generator, extra_bad: bool) -> tuple[Any, Any]:
        """The good and bad Parzen densities of ``level`` (``l`` and ``g``)."""
        from ._tpe._parzen import Parzen  # loads scipy: only once a model is needed

        history = self._levels[level].history
        n = history.n_finite
        n_good = min(max(math.ceil(self.gamma * n), 1), self.max_good, n - 1)
        good = history.x[:n_good]
        if self.lower_as_bad:
            history = self._with_lower(level)
        bad, bad_weights = bad_centres(history, n_good, self.max_bad_centres, rng)
        if extra_bad:
            extra = list(self._failed)
            if self.constant_liar and self._pending.n:
                extra.extend(self._pending.points())
            bad, bad_weights = with_extra_bad(bad, bad_weights, extra)
        l = Parzen(self._encoding, good, np.ones(n_good), self.prior_weight, self.multivariate, "scott")
        g = Parzen(self._encoding, bad, bad_weights, self.prior_weight, self.multivariate, "scott")
        return l, g

    def _log_ratio(self, l: Any, g: Any, x: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """``log l - log g`` at candidates ``x`` (multivariate: one per candidate; univariate:
        one per candidate and column)."""
        if self.multivariate:
            active = self._encoding.active(x)
            return l.log_density(x, bins, active) - g.log_density(x, bins, active)
        return l.log_density(x, bins) - g.log_density(x, bins)

    def _score(self, level: float, x: np.ndarray) -> float:
        """The level's model score of one config (the trust check's prediction).

        The densities are the suggestion's, without pending and failed configs (the
        check asks how the model ranks results, not where it would send a worker); the
        bad group's subsample draws from a generator of its own, so checks leave the
        suggestion stream untouched.
        """
        l, g = self._densities(level, np.random.default_rng(len(self._levels[level].keys)), extra_bad=False)
        point = np.nan_to_num(np.asarray(x, dtype=float)[None, :], nan=0.5)
        bins = self._encoding.snap(point)
        ratio = self._log_ratio(l, g, point, bins)
        return float(np.sum(ratio))

    def _model_suggestion(self, level: float) -> dict[str, Any] | None:
        """The best of ``n_candidates`` draws from ``l`` by ``l / g``, among the draws the
        duplicate guard keeps; None when it keeps none."""
        l, g = self._densities(level, self.rng, extra_bad=True)
        x, bins = l.sample(self.rng, self.n_candidates)
        score = self._log_ratio(l, g, x, bins)
        if not self.multivariate:
            best = x[np.argmax(score, axis=0), np.arange(self._encoding.d)]
            return None if self._screened(best[None, :])[0] else self.space.from_unit(best)
        score = np.where(self._screened(x), -np.inf, score)
        if not np.isfinite(score).any():
            return None
        return self.space.from_unit(x[int(np.argmax(score))])

    def _screened(self, x: np.ndarray) -> np.ndarray:
        """Which candidates lie within the exclusion radius of a config already tried."""
        radius = self.exclusion_radius
        if radius <= 0 or not self._tried:
            return np.zeros(len(x), dtype=bool)
        points = np.where(self._encoding.active(x), x, np.nan)
        tried = np.array(list(self._tried.values()))
        return np.asarray((_distances(points, tried) < radius).any(axis=1), dtype=bool)

    def __repr__(self) -> str:
        return (
            f"BOHB(metric={self.metric!r}, mode={self.mode!r}, seed={self.seed!r}, "
            f"resource_attr={self.fidelity.resource_attr!r}, min_points={self.min_points})"
        )
