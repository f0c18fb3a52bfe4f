"""Gaussian-process Bayesian optimization: a model of the metric picks the next config.

Each suggestion after the initial design fits a GP (Matern 5/2 kernel with one lengthscale
per input, signal variance and observation noise, by maximum a posteriori) to the observed
results and returns the config that maximizes log expected improvement over the lowest
posterior mean at the observed points (see ``GP._model_point``). The pieces live in
small modules of this package: ``_encoding`` (configs as GP inputs: one-hot categoricals,
snapped integers, imputed inactive parameters), ``_data`` (output transform, bounded subset
of observations), ``_model`` (kernel, fit, posterior), ``_fitting`` (warm-started refits),
``_acquisition`` (log EI and its optimizer), ``_design`` (Sobol design and candidates) and
``_ledger`` (pending and known inputs). MOBSTER builds on the same modules.

Parallel workers: configs suggested but not observed yet are *pending*. They join the GP
with the incumbent's value as a fake observation (a "constant liar"), which makes expected
improvement vanish at and near them, so the next worker gets a different config; ``observe``
and ``on_failed`` remove them.

Failures teach the model: a failed config (``on_failed``, or a result without a finite
value of the metric) joins the fit with the worst value observed so far, so expected
improvement vanishes around it and the search moves away from regions that crash, as from
regions that are merely bad. Ignored instead (as before), on Branin with every trial
failing for ``x > 9`` (where one of its three optima lies), the GP spent 64 to 75 of 80
trials failing there, over 10 seeds (``benchmarks/failures_branin.py``).

Cost: the GP conditions on at most ``max_observations`` results (``_gp_data`` says which),
its hyperparameters are refitted on at most 100 of them, warm-started from the previous
fit, and the linear algebra runs on one BLAS thread (``_threads``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

import numpy as np

from ...space import Space
from .. import _warmup
from .._base import Searcher
from .._checks import flag
from .._plateaus import PlateauTracker
from ._design import SobolDesign, sobol_block
from ._encoding import Encoding
from ._ledger import Ledger
from ._threads import one_blas_thread

#: Default cap on the observations the GP is fitted on (cost grows as its cube).
MAX_OBSERVATIONS = 200
# Fewest observations a model is fitted on.
_MIN_MODEL = 2
# A candidate whose posterior variance is below this fraction of the signal variance is
# as good as observed: nothing is learned there. EI can still be largest at such a point,
# from the posterior mean's overshoot between clustered observations (about 1e-4 of the
# output's spread), and the search then re-samples one spot for good.
_MIN_RELATIVE_VARIANCE = 1e-4
#: Observation noise (in units of the standardized outputs' variance) added to warm-start
#: results (:meth:`GP.observe_prior`): they come from another experiment, so the model does
#: not take them as exact. Taken as exact, the parents' dense good region was "known" (no
#: variance, nothing to improve) and every suggestion left it; see rung/tuner/_warm_start.py.
PRIOR_NOISE = 0.05


def _modules() -> tuple[ModuleType, ModuleType, ModuleType, ModuleType]:
    """The model modules, imported on first use: they load scipy, which ``import rung``
    should not pay for."""
    from . import _acquisition, _data, _fitting, _model

    return _acquisition, _data, _fitting, _model


class GP(Searcher):
    """Bayesian optimization with a Gaussian process and log expected improvement.

    Parameters
    ----------
    space, metric, mode, seed:
        As for every searcher. ``metric`` must be set before results are observed (the
        tuner sets it).
    points_to_evaluate:
        Configs (complete or partial) to try first, in order, as with :class:`Random`.
    n_initial:
        Quasi-random (scrambled Sobol) configs to evaluate before the model takes over,
        counting observed results (including warm-start data) and pending trials. Default
        ``min(max(5, 2 * d), 20)`` for ``d`` tunable parameters.
    max_observations:
        At most this many observations are fitted (the best half and a space-filling
        subset of the rest), so a suggestion costs the same after 300 or 3,000 results.
        ``None``: fit all of them.
    plateau_guard:
        Once two different configs have returned exactly the same value (a piecewise
        constant objective: a lookup table, accuracy on a small validation set), count a
        candidate as known when its nearest observed config is one of those tied and closer
        than the typical spacing of the observations (``rung/searchers/_plateaus.py``). No
        effect until a tie.
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        *,
        metric: str | None = None,
        mode: str = "min",
        seed: int | None = None,
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
        n_initial: int | None = None,
        max_observations: int | None = MAX_OBSERVATIONS,
        plateau_guard: bool = True,
    ) -> None:
        super().__init__(space, metric=metric, mode=mode, seed=seed)
        _warmup.start()
        self._set_starting_points(points_to_evaluate)
        n_params = len(self.space.tunable_names)
        if n_initial is None:
            n_initial = min(max(5, 2 * n_params), 20)
        if isinstance(n_initial, bool) or not isinstance(n_initial, int) or n_initial < 0:
            raise ValueError(f"n_initial must be an int >= 0, got n_initial={n_initial!r}")
        if max_observations is not None and (
            isinstance(max_observations, bool) or not isinstance(max_observations, int) or max_observations < 10
        ):
            raise ValueError(f"max_observations must be None or an int >= 10, got {max_observations!r}")
        self.n_initial = n_initial
        self.max_observations = max_observations
        self.plateau_guard = flag("plateau_guard", plateau_guard)
        self._encoding = Encoding(self.space)
        self._acquisition: Any = None
        self._design = SobolDesign(self._encoding, self.rng)  # the initial design
        self._X: list[np.ndarray] = []  # fitted observations (GP inputs)
        self._y: list[float] = []  # their metric, oriented for minimization
        self._prior: list[bool] = []  # per observation: warm-start data (observe_prior)
        self._failed: list[np.ndarray] = []  # inputs of failed configs, fitted at the worst value
        self._ledger = Ledger()  # pending, and observed or failed: not worth suggesting again
        self._plateau_tracker = PlateauTracker()  # ties between results (plateau guard)
        self._theta: np.ndarray | None = None  # the last fitted hyperparameters
        # ((n observed, n failed), X, y, extra noise of warm-start rows or None)
        self._fitted: tuple[tuple[int, int], np.ndarray, np.ndarray, np.ndarray | None] | None = None

    @property
    def n_pending(self) -> int:
        """Configs suggested and not yet observed or failed."""
        return len(self._ledger.pending)

    # -- the contract ---------------------------------------------------------------------

    def suggest(self) -> dict[str, Any] | None:
        config = self._next_starting_point()
        pending = self._ledger.pending
        if config is not None:
            pass  # the user's starting points come first
        elif self._encoding.dim == 0:
            config = self.space.sample(self.rng)  # nothing to tune
        elif len(self._y) < _MIN_MODEL or len(self._y) + len(self._failed) + len(pending) < self.n_initial:
            config = self._design.next(self._ledger.taken)
        else:
            config = self._encoding.decode(self._model_point())
        self._ledger.suggested(self._encoding.encode(config))
        return config

    def observe(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        self._observe(config, metrics, prior=False)

    def observe_prior(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        """A result from an earlier experiment (warm start): fitted with ``PRIOR_NOISE``."""
        self._observe(config, metrics, prior=True)

    def _observe(self, config: Mapping[str, Any], metrics: Mapping[str, Any], prior: bool) -> None:
        x = self._encoding.encode(config)
        self._ledger.release(x)
        self._ledger.mark_seen(x)
        value = self._objective_value(metrics)
        if value is not None:
            self._X.append(x)
            self._y.append(value)
            self._prior.append(prior)
            self._plateau_tracker.add(x, value)
        else:
            self._failed.append(x)

    def on_failed(self, config: Mapping[str, Any]) -> None:
        x = self._encoding.encode(config)
        self._ledger.release(x)
        self._ledger.mark_seen(x)
        self._failed.append(x)

    # -- internals ------------------------------------------------------------------------

    def _model_point(self) -> np.ndarray:
        """The canonical GP input maximizing log EI given observations and pending trials.

        The incumbent EI measures improvement against is the lowest posterior *mean* at the
        observed points, not the lowest observed value. They agree when the fit interpolates
        (deterministic, smooth objectives). When the fit explains part of the data as noise
        (an oscillating objective like Rastrigin, or a noisy one), the lowest observed value
        is a lucky draw below the model's mean everywhere; EI against it is largest where
        the variance is, at the corners of the cube, and the search stops exploiting. On
        Rastrigin 5 at 50 evaluations (10 seeds) the mean normalized score went from 26
        to 36, with Hartmann 6 unchanged (93 to 94.5). Candidates the model
        already knows (see ``_MIN_RELATIVE_VARIANCE``) count as taken.
        """
        acquisition, _, fitting, model = _modules()
        if self._acquisition is None:
            self._acquisition = acquisition.AcquisitionOptimizer(self._encoding)
        with one_blas_thread():
            X, y, extra = self._fitted_data()
            posterior = model.Posterior(X, y, self._theta, extra)
            fitted_mean = posterior.predict(X)[0]
            best = float(fitted_mean.min())
            incumbents = X[np.argsort(fitted_mean, kind="stable")[:5]]
            pending = self._ledger.pending.points()
            if pending:
                X, y = fitting.with_liars(X, y, np.array(pending), best)
                if extra is not None:
                    extra = np.concatenate([extra, np.zeros(len(pending))])
                posterior = model.Posterior(X, y, self._theta, extra)
            floor = _MIN_RELATIVE_VARIANCE * posterior.signal
            plateaus = self._plateau_tracker.plateaus() if self.plateau_guard else None

            def uninformative(rows: np.ndarray) -> np.ndarray:
                known = self._ledger.taken_rows(rows) | (posterior.predict(rows)[1] < floor)
                return known if plateaus is None else known | plateaus.covers_rows(rows)

            return self._acquisition.propose(
                self.rng, self._sobol_block, incumbents, posterior, best, uninformative
            )

    def _fitted_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The observations the GP sees (inputs, transformed outputs, extra noise of
        warm-start rows or None), with the hyperparameters refitted if the observations
        changed since the last fit."""
        key = (len(self._y), len(self._failed))
        if self._fitted is not None and self._fitted[0] == key:
            return self._fitted[1], self._fitted[2], self._fitted[3]
        _, data, fitting, _ = _modules()
        X_all, y_all = np.array(self._X), np.array(self._y)
        if self._failed:  # failures at the worst value seen (see the module docstring)
            X_all = np.vstack([X_all, np.array(self._failed)])
            y_all = np.concatenate([y_all, np.full(len(self._failed), y_all.max())])
        lengthscales = fitting.lengthscales_of(self._theta, self._encoding.dim)
        keep = data.select_subset(X_all, y_all, self.max_observations, lengthscales)
        X, y = X_all[keep], data.transform_outputs(y_all[keep])
        prior = np.array(self._prior + [False] * len(self._failed), dtype=bool)[keep]
        extra = PRIOR_NOISE * prior.astype(float) if prior.any() else None
        self._theta = fitting.refit(X, y, self._theta, self.rng, extra)
        self._fitted = (key, X, y, extra)
        return X, y, extra

    def _sobol_block(self, n: int) -> np.ndarray:
        """``n`` scrambled Sobol points of the unit cube, freshly scrambled each time."""
        return sobol_block(len(self.space.tunable_names), self.rng, n)
