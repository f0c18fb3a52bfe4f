"""Asynchronous multi-fidelity Bayesian optimization with one GP over config and resource.

In the spirit of MOBSTER (Klein et al., 2020, "Model-based asynchronous hyperparameter and
neural architecture search") and Hyper-Tune: a single Gaussian process models the metric as
a function of the config *and* the resource spent, so every rung-level report of every
trial informs it, including those of trials stopped early. The resource is an extra GP
input on a log scale in [0, 1] (0 at the first rung level, 1 at ``max_resource``), with its
own ARD lengthscale: the fit learns how strongly values at different levels are related.

Each suggestion maximizes log expected improvement at one resource level, by default the
highest level with at least ``min_points`` results (MOBSTER's choice: high enough to rank
configs as full training would, low enough for the model to be sure there), against the
best value observed at that level. The GP pieces are rung's single-fidelity GP's, from
:mod:`._gp`: ``_encoding`` (inputs), ``_model`` (Matern 5/2 ARD, MAP fit, posterior),
``_data`` (output transform, subset rule), ``_fitting`` (warm-started refits), ``_design``
(Sobol design and candidate blocks), ``_ledger`` (pending and known inputs) and
``_acquisition`` (log EI and its multi-start optimizer), through
:class:`._mobster_data.AtLevel`, which fixes the resource input.

Asynchronous parallel workers: configs suggested but not reported yet are *pending*; they
join the GP at the acquisition level with the incumbent's value (constant liar), which
makes expected improvement vanish near them, so the next worker gets another config. A
config stops being pending at its first report, and a config with any report or failure is
never suggested again.

Bounded cost: the GP conditions on at most ``max_observations`` reports shared across
levels (:func:`._mobster_data.training_set`), its hyperparameters are fitted on at most 100
of them, warm-started, and refitted only when the data grew by ``refit_growth`` since the
last fit (the posterior always uses the current data); BLAS runs on one thread.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..space import Space
from . import _warmup
from ._base import Searcher
from ._checks import int_at_least
from ._fidelity_levels import FINAL, Fidelity
from ._gp._design import SobolDesign, sobol_block
from ._gp._encoding import Encoding
from ._gp._ledger import Ledger, input_key
from ._gp._threads import one_blas_thread

ACQUISITION_LEVELS = ("highest", "max")
# The acquisition optimizer's effort: a fraction of the single-fidelity GP's (half the
# candidates, 2 starts instead of 5, 12 L-BFGS-B iterations instead of 60). A multi-fidelity
# run makes several hundred suggestions, most of them stopped at the first rung, so each
# matters less; at the GP's defaults a suggestion cost 2-3 times more on a loaded machine.
_OPTIMIZER = dict(n_candidates=256, n_local=128, n_starts=2, maxiter=12, n_polish=1)


def _modules() -> tuple[Any, Any, Any, Any, Any]:
    """The model modules, imported on first use (they load scipy)."""
    from . import _mobster_data
    from ._gp import _acquisition, _data, _fitting, _model

    return _acquisition, _data, _fitting, _model, _mobster_data


class MOBSTER(Searcher):
    """Multi-fidelity GP search: one GP over ``(config, log resource)``, EI at a rung level.

    ``Tuner(..., searcher="mobster", scheduler=ASHA(...))`` (or Hyperband, successive
    halving, a stopping policy). With a FIFO scheduler it is a GP on final results.
    Deterministic given the seed and the sequence of calls.

    Parameters
    ----------
    space, metric, mode, seed:
        As for every searcher.
    resource_attr:
        The report field holding the resource when no multi-fidelity scheduler names it.
    points_to_evaluate:
        Configs (complete or partial) to try first.
    n_initial:
        Quasi-random (scrambled Sobol) configs before the model takes over, counting
        configs with a result and pending ones. Default ``min(max(5, 2 d), 20)``.
    min_points:
        Results a level needs to be the acquisition level. Default ``max(5, d + 1)`` for
        ``d`` tunable parameters.
    acquisition_level:
        ``"highest"``: the highest level with ``min_points`` results (the lowest level
        until then); ``"max"``: always ``max_resource`` (the model extrapolates up).
    max_observations:
        At most this many reports condition the GP (``None``: all).
    refit_growth:
        Hyperparameters are refitted when the number of reports grew by this factor since
        the last fit (1.0: at every suggestion).
    random_fraction:
        Share of suggestions drawn at random after the initial design (default 0).
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
        n_initial: int | None = None,
        min_points: int | None = None,
        acquisition_level: str = "highest",
        max_observations: int | None = 100,
        refit_growth: float = 1.25,
        random_fraction: float = 0.0,
    ) -> None:
        super().__init__(space, metric=metric, mode=mode, seed=seed)
        _warmup.start()
        self._set_starting_points(points_to_evaluate)
        n_params = len(self.space.tunable_names)
        self.n_initial = min(max(5, 2 * n_params), 20) if n_initial is None else int_at_least(
            "n_initial", n_initial, 0)
        self.min_points = max(5, n_params + 1) if min_points is None else int_at_least(
            "min_points", min_points, 1)
        if acquisition_level not in ACQUISITION_LEVELS:
            raise ValueError(f"acquisition_level must be 'highest' or 'max', got {acquisition_level!r}")
        self.acquisition_level = acquisition_level
        if max_observations is not None:
            max_observations = int_at_least("max_observations", max_observations, 10)
        self.max_observations = max_observations
        if isinstance(refit_growth, bool) or not isinstance(refit_growth, (int, float)) or not refit_growth >= 1:
            raise ValueError(f"refit_growth must be a number >= 1, got refit_growth={refit_growth!r}")
        self.refit_growth = float(refit_growth)
        if isinstance(random_fraction, bool) or not isinstance(random_fraction, (int, float)) or not (
            0 <= random_fraction <= 1
        ):
            raise ValueError(f"random_fraction must be in [0, 1], got random_fraction={random_fraction!r}")
        self.random_fraction = float(random_fraction)
        self.fidelity = Fidelity(resource_attr)
        self._encoding = Encoding(self.space)
        self._levels: dict[float, Any] = {}  # level -> _mobster_data.LevelData
        self._n_reports = 0
        self._ledger = Ledger()  # pending configs, and those with a report or a failure
        self._acquisition: Any = None
        self._design = SobolDesign(self._encoding, self.rng)
        self._theta: np.ndarray | None = None
        self._fitted_at = 0  # number of reports at the last hyperparameter fit
        #: Level of the last model suggestion (None: design or random), for tests and logs.
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
        config = self._next_starting_point()
        self.model_level = None
        if config is None:
            explore = self.rng.random() < self.random_fraction
            n_known = self._ledger.n_seen + len(self._ledger.pending.distinct())
            if self._encoding.dim == 0:
                config = self.space.sample(self.rng)
            elif self._n_reports < 2 or n_known < self.n_initial:
                config = self._design.next(self._ledger.taken)
            elif explore:
                config = self.space.sample(self.rng)
            else:
                config = self._encoding.decode(self._model_point())
        self._ledger.suggested(self._encoding.encode(config))
        return config

    def observe_partial(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        if not self.fidelity.active:
            return
        x = self._encoding.encode(config)
        self._ledger.release(x)
        level = self.fidelity.level_of_report(metrics)
        if level is not None:
            self._record(x, level, metrics)

    def observe(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        if self._objective_value(metrics) is None:
            self.on_failed(config)
            return
        x = self._encoding.encode(config)
        self._ledger.release(x)
        level = self.fidelity.level_of_result(metrics)
        if level is not None:
            self._record(x, level, metrics)

    def on_failed(self, config: Mapping[str, Any]) -> None:
        x = self._encoding.encode(config)
        self._ledger.release(x)
        self._ledger.mark_seen(x)

    # -- state ----------------------------------------------------------------------------

    def observations(self) -> dict[float, int]:
        """Number of results at each level, lowest level first."""
        return {level: len(self._levels[level]) for level in sorted(self._levels)}

    @property
    def n_pending(self) -> int:
        return len(self._ledger.pending)

    def _record(self, x: np.ndarray, level: float, metrics: Mapping[str, Any]) -> None:
        value = self._objective_value(metrics)
        self._ledger.mark_seen(x)
        if value is None:
            return
        data = self._levels.get(level)
        if data is None:
            data = self._levels[level] = _modules()[4].LevelData()
        if data.add(input_key(x), x, value):
            self._n_reports += 1

    # -- choosing -------------------------------------------------------------------------

    def _target_level(self) -> float:
        """The level expected improvement is measured at."""
        levels = sorted(self._levels)
        if self.acquisition_level == "max":
            top = self.fidelity.max_resource
            return levels[-1] if top is None or levels[-1] == FINAL else max(top, levels[-1])
        for level in reversed(levels):
            if len(self._levels[level]) >= self.min_points:
                return level
        return levels[0]

    def _model_point(self) -> np.ndarray:
        acquisition, data, fitting, model, mdata = _modules()
        if self._acquisition is None:
            self._acquisition = acquisition.AcquisitionOptimizer(self._encoding, **_OPTIMIZER)
        with one_blas_thread():
            level = self._target_level()
            self.model_level = level
            r = self.fidelity.unit(level)
            lengthscales = fitting.lengthscales_of(self._theta, self._encoding.dim)
            X, raw, row_levels = mdata.training_set(self._levels, self.fidelity.unit, self.max_observations,
                                                    lengthscales)
            y = data.transform_outputs(raw)
            self._fit(X, y)
            at = row_levels == level
            if at.any():
                best = float(y[at].min())
                incumbents = X[at][np.argsort(y[at], kind="stable")[:5], :-1]
            else:  # nothing observed there yet ("max"): the best predicted observed config
                probe = np.hstack([X[:, :-1], np.full((len(X), 1), r)])
                mean, _ = model.Posterior(X, y, self._theta).predict(probe)
                best = float(mean.min())
                incumbents = X[np.argsort(mean, kind="stable")[:5], :-1]
            pending = self._ledger.pending.distinct()
            if pending:
                fake = np.array(pending)
                X, y = fitting.with_liars(X, y, np.hstack([fake, np.full((len(fake), 1), r)]), best)
            posterior = mdata.AtLevel(model.Posterior(X, y, self._theta), r)
            return self._acquisition.propose(
                self.rng, self._sobol_block, incumbents, posterior, best, self._ledger.taken_rows
            )

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Refit the hyperparameters if the reports grew enough since the last fit."""
        if self._theta is not None and self._n_reports < self.refit_growth * self._fitted_at:
            return
        self._theta = _modules()[2].refit(X, y, self._theta, self.rng)
        self._fitted_at = self._n_reports

    def _sobol_block(self, n: int) -> np.ndarray:
        return sobol_block(len(self.space.tunable_names), self.rng, n)

    def __repr__(self) -> str:
        return (
            f"MOBSTER(metric={self.metric!r}, mode={self.mode!r}, seed={self.seed!r}, "
            f"resource_attr={self.fidelity.resource_attr!r}, acquisition_level={self.acquisition_level!r})"
        )
