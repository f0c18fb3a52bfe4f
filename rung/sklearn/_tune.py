"""``TuneSearchCV``: the scikit-learn search interface driven by rung's searchers and schedulers.

One trial is one candidate, chosen by a rung searcher (GP, TPE, random, ...; ``"auto"``
picks by the space) and evaluated on every fold. With a multi-fidelity scheduler
(``"asha"``, ``"successive_halving"``, ``"hyperband"`` or a rung scheduler instance) the
candidate is evaluated at increasing amounts of a resource, the number of training samples
of each fold (``resource="n_samples"``) or an estimator parameter (``resource="n_estimators"``,
``"max_iter"``, ...), reporting its mean test score at each level; the scheduler stops (or
pauses) the weak ones, asynchronously for ASHA. ``cv_results_`` has one row per candidate
and level, with ``iter`` and ``n_resources`` as scikit-learn's ``HalvingRandomSearchCV``
gives them, and the best candidate is chosen among those evaluated at the largest resource.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Mapping

import numpy as np
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _num_samples

import rung
from rung.schedulers import ASHA, Hyperband, Scheduler, SuccessiveHalving
from rung.schedulers._rungs import rung_levels
from rung.space import Domain

from ._experiment import Run, reissue_warnings, run_experiment
from ._fits import CandidateFits, FitTask, Levels
from ._search import RUNG_PARAMETERS, SearchContext, _RungFit, fingerprint, lost_fit

SCHEDULERS = ("asha", "successive_halving", "sh", "hyperband")
_JSON_SCALARS = (str, int, float, bool, type(None))


class SpaceCodec:
    """The user's space as a rung space, and rung configs back as estimator parameters.

    Values: rung domains (conditions included), scipy.stats distributions, lists (a choice;
    a choice of objects that are not plain JSON values, estimators say, is a choice of their
    positions), and other values (constants).
    """

    def __init__(self, space: Mapping[str, Any]) -> None:
        if not isinstance(space, Mapping) or not space:
            raise ValueError(f"space must be a non-empty dict of parameter name to values, got space={space!r}")
        self.rung_space: dict[str, Any] = {}
        self.objects: dict[str, list[Any]] = {}  # name -> the objects a position stands for
        self.fixed: dict[str, Any] = {}  # constants that cannot be stored as JSON
        for name, value in space.items():
            if not isinstance(name, str):
                raise ValueError(f"space keys must be parameter names (str), got {name!r}")
            if isinstance(value, Domain):
                self.rung_space[name] = value
            elif hasattr(value, "rvs") and hasattr(value, "dist"):
                self.rung_space[name] = rung.from_scipy(value)
            elif isinstance(value, (list, tuple)):
                if not value:
                    raise ValueError(f"space[{name!r}] is an empty list")
                if all(isinstance(v, _JSON_SCALARS) for v in value):
                    self.rung_space[name] = rung.choice(list(value)) if len(value) > 1 else rung.constant(value[0])
                else:
                    self.objects[name] = list(value)
                    self.rung_space[name] = rung.choice(list(range(len(value))))
            elif isinstance(value, _JSON_SCALARS):
                self.rung_space[name] = rung.constant(value)
            else:
                self.fixed[name] = value

    def decode(self, config: Mapping[str, Any]) -> dict[str, Any]:
        params = {}
        for name, value in config.items():
            params[name] = self.objects[name][int(value)] if name in self.objects else value
        params.update(self.fixed)
        return params


class TuneSearchCV(_RungFit, BaseSearchCV):
    """Cross-validated search with rung's searchers and multi-fidelity schedulers.

    Parameters
    ----------
    estimator:
        A scikit-learn estimator.
    space:
        Dict of parameter name to a rung domain (``rung.loguniform(1e-3, 10)``,
        ``rung.randint(2, 20).when("kernel", "==", "rbf")``), a scipy.stats distribution, a
        list (a choice) or a fixed value.
    searcher:
        A rung searcher name (``"auto"``, ``"gp"``, ``"tpe"``, ``"random"``, ``"bohb"``, ...), class
        or instance built on this space.
    scheduler:
        None (each candidate on all the data), ``"asha"``, ``"successive_halving"``,
        ``"hyperband"``, or a rung scheduler whose ``resource_attr`` is ``"n_resources"``.
    n_trials:
        Candidates to evaluate.
    resource, min_resource, max_resource, reduction_factor:
        What a multi-fidelity scheduler allocates: ``"n_samples"`` (training samples per fold;
        ``max_resource`` defaults to the smallest training fold) or an estimator parameter
        such as ``"n_estimators"`` (``max_resource`` required); levels are
        ``min_resource * reduction_factor**k`` up to ``max_resource`` (``min_resource``
        defaults to ``max_resource / reduction_factor**2``).
    random_state:
        Seed of the searcher, the scheduler and the sample order (an int or None).

    ``scoring``, ``n_jobs``, ``refit``, ``cv``, ``verbose``, ``pre_dispatch`` (no effect),
    ``error_score``, ``return_train_score``, ``experiment``, ``storage`` and ``backend`` are
    as in :class:`rung.sklearn.GridSearchCV`.
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints, **RUNG_PARAMETERS,
        "space": [dict],
        "searcher": [str, type, HasMethods(["suggest", "observe"])],
        "scheduler": [StrOptions(set(SCHEDULERS)), HasMethods(["on_report"]), None],
        "n_trials": [Interval(numbers.Integral, 1, None, closed="left")],
        "resource": [str],
        "min_resource": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "max_resource": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "reduction_factor": [Interval(numbers.Real, 1, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator: Any, space: Any, *, searcher: Any = "auto", scheduler: Any = None,
                 n_trials: int = 10, resource: str = "n_samples", min_resource: float | None = None,
                 max_resource: float | None = None, reduction_factor: float = 3, scoring: Any = None,
                 n_jobs: int | None = None, refit: Any = True, cv: Any = None, verbose: int = 0,
                 pre_dispatch: Any = "2*n_jobs", random_state: Any = None, error_score: Any = np.nan,
                 return_train_score: bool = False, experiment: str | None = None, storage: Any = None,
                 backend: Any = "process") -> None:
        super().__init__(estimator=estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                         pre_dispatch=pre_dispatch, error_score=error_score, return_train_score=return_train_score)
        self.space = space
        self.searcher = searcher
        self.scheduler = scheduler
        self.n_trials = n_trials
        self.resource = resource
        self.min_resource = min_resource
        self.max_resource = max_resource
        self.reduction_factor = reduction_factor
        self.random_state = random_state
        self.experiment = experiment
        self.storage = storage
        self.backend = backend

    @staticmethod
    def _select_best_index(refit: Any, refit_metric: str, results: dict[str, Any]) -> int:
        """The best candidate among those evaluated at the largest resource (as scikit-learn's
        halving searches choose among the last iteration); a callable ``refit`` decides alone."""
        if callable(refit):
            return BaseSearchCV._select_best_index(refit, refit_metric, results)
        scores = np.asarray(results[f"mean_test_{refit_metric}"], dtype=float)
        if "n_resources" in results:
            resources = np.asarray(results["n_resources"], dtype=float)
            rows = np.flatnonzero(resources == np.nanmax(resources))
        else:
            rows = np.arange(len(scores))
        if np.isnan(scores[rows]).all():
            return int(rows[0])
        return int(rows[np.nanargmax(scores[rows])])

    # -- the search ----------------------------------------------------------------------
    def _search_with_rung(self, context: SearchContext, absorb: Callable[..., dict[str, Any]], root: Any) -> None:
        if isinstance(self.scoring, (list, tuple, dict)) and not isinstance(self.refit, str):
            raise ValueError(f"with several scorers, refit must name the one to optimize, got refit={self.refit!r}")
        codec = SpaceCodec(self.space)
        splits = context.splits(self._checked_cv_orig)
        task = context.task(splits)
        seed = _seed(self.random_state)
        levels = self._levels(task, context.X)
        scheduler = self._scheduler(levels, seed)
        if self.verbose > 0:
            what = f"{self.n_trials} candidates" if levels is None else (
                f"up to {self.n_trials} candidates at {self.resource} = "
                f"{', '.join(f'{v:g}' for v in levels.values)}")
            print(f"Fitting {len(splits)} folds for each of {what}")
        space = dict(codec.rung_space)
        name = context.experiment_name()
        if name is not None:
            space["fingerprint"] = rung.constant(fingerprint(task, [{"space": repr(sorted(self.space.items()))}]))
        run = run_experiment(
            CandidateFits(task, codec.decode, levels, seed or 0), space, n_trials=self.n_trials,
            n_jobs=self.n_jobs, backend=self.backend, experiment=name, storage=self.storage,
            searcher=self.searcher, scheduler=scheduler, seed=seed, echo=self.verbose > 1,
            max_failures=1 if self.error_score == "raise" else None)
        candidates, out, more = self._rows(run, task, codec, levels)
        absorb(candidates, out, more if levels is not None else None)

    def _levels(self, task: FitTask, X: Any) -> Levels | None:
        if self.scheduler is None:
            return None
        if isinstance(self.scheduler, Scheduler) and getattr(self.scheduler, "resource_attr", None) != "n_resources":
            raise ValueError(f"scheduler {type(self.scheduler).__name__} must be built with resource_attr="
                             f"'n_resources' (the resource TuneSearchCV reports), got "
                             f"{getattr(self.scheduler, 'resource_attr', None)!r}")
        eta = float(getattr(self.scheduler, "reduction_factor", self.reduction_factor))
        largest = getattr(self.scheduler, "max_resource", None) or self.max_resource
        if largest is None:
            if self.resource != "n_samples":
                raise ValueError(f"max_resource is needed when the resource is the estimator parameter "
                                 f"{self.resource!r} (e.g. max_resource=500)")
            largest = min(_num_samples(train) for train, _ in task.splits)
        elif self.resource == "n_samples":
            smallest_fold = min(_num_samples(train) for train, _ in task.splits)
            if largest > smallest_fold:
                raise ValueError(f"max_resource={largest} is more than the {smallest_fold} training samples "
                                 f"of the smallest fold")
        if self.resource != "n_samples" and self.resource not in self.estimator.get_params():
            raise ValueError(f"resource={self.resource!r} is neither 'n_samples' nor a parameter of "
                             f"{type(self.estimator).__name__}")
        given_min = getattr(self.scheduler, "min_resource", None) if isinstance(self.scheduler, Scheduler) else None
        smallest = given_min or self.min_resource or max(1.0, float(largest) / eta**2)
        if smallest > largest:
            raise ValueError(f"min_resource={smallest} is more than max_resource={largest}")
        values = [float(round(v)) if self.resource == "n_samples" else float(v)
                  for v in rung_levels(float(smallest), float(largest), eta)]
        return Levels(self.resource, values)

    def _scheduler(self, levels: Levels | None, seed: int | None) -> Any:
        if levels is None or isinstance(self.scheduler, Scheduler):
            return self.scheduler
        low, high, eta = levels.values[0], levels.values[-1], self.reduction_factor
        if self.scheduler == "asha":
            return ASHA("n_resources", min_resource=low, max_resource=high, reduction_factor=eta, seed=seed)
        if self.scheduler == "hyperband":
            return Hyperband("n_resources", min_resource=low, max_resource=high, reduction_factor=eta,
                             type="stopping", seed=seed)
        return SuccessiveHalving("n_resources", min_resource=low, max_resource=high, reduction_factor=eta)

    def _rows(self, run: Run, task: FitTask, codec: SpaceCodec,
              levels: Levels | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, list[Any]]]:
        """One ``cv_results_`` row per (candidate, level), ordered by level then trial."""
        n_splits = len(task.splits)
        rows: list[tuple[int, int, dict[str, Any], list[dict[str, Any]]]] = []
        for trial in sorted(run.result.trial_records, key=lambda t: t.trial_id):
            params = codec.decode({k: v for k, v in trial.config.items() if k != "fingerprint"})
            by_level: dict[int, dict[int, dict[str, Any]]] = {}
            for fit in run.fits.get(trial.trial_id, []):
                by_level.setdefault(int(fit.get("level", 0)), {})[int(fit["split"])] = fit
            complete = [lv for lv, fits in sorted(by_level.items()) if len(fits) == n_splits]
            for level in complete:
                rows.append((level, trial.trial_id, params, [by_level[level][k] for k in range(n_splits)]))
            failed_next = trial.status.value == "failed" and not _refused_metric(trial)
            if failed_next or (not complete and trial.status.value != "running"):
                level = complete[-1] + 1 if complete else 0
                if levels is not None and level >= len(levels.values):
                    continue
                lost = [lost_fit(task, self._at_level(params, levels, level), trial.trial_id, k, self.n_trials,
                                 trial, self.error_score, _num_samples(task.splits[k][1])) for k in range(n_splits)]
                rows.append((level, trial.trial_id, params, lost))
        rows.sort(key=lambda r: (r[0], r[1]))
        candidates, out, fits_in_order = [], [], []
        more: dict[str, list[Any]] = {"iter": [], "n_resources": []}
        keys = ["test_scores", "n_test_samples", "fit_time", "score_time", "fit_error"]
        if task.return_train_score:
            keys.append("train_scores")
        for level, _, params, fits in rows:
            candidates.append(params)
            more["iter"].append(level)
            more["n_resources"].append(_plain(levels.values[level]) if levels is not None else None)
            for fit in fits:
                fits_in_order.append(fit)
                out.append({key: fit[key] for key in keys})
        reissue_warnings(fits_in_order)
        return candidates, out, more

    def _at_level(self, params: dict[str, Any], levels: Levels | None, level: int) -> dict[str, Any]:
        if levels is None or levels.resource == "n_samples":
            return params
        return {**params, levels.resource: _plain(levels.values[level])}


def _refused_metric(trial: Any) -> bool:
    """True when rung failed the trial only because its score was NaN (its fits are recorded)."""
    return "metric 'score' is" in (trial.error or "")


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _seed(random_state: Any) -> int | None:
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise ValueError(f"random_state must be an int, a numpy RandomState or None, got random_state={random_state!r}")


__all__ = ["TuneSearchCV"]
