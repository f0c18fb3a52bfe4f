"""``GridSearchCV`` and ``RandomizedSearchCV`` whose fits run as a rung experiment.

The classes subclass scikit-learn's own, so everything but the running of the fits is
scikit-learn's: parameter validation, ``ParameterGrid`` / ``ParameterSampler`` (the same
``random_state`` samples the same candidates), ``check_cv``, the scorers
(``check_scoring`` / ``_check_multimetric_scoring``), metadata routing, ``_format_results``
(``cv_results_`` keys, masked arrays and dtypes), the fit-failure warning, the choice of the
best candidate, the refit and the delegation of ``predict`` and friends. :class:`_RungFit`
replaces only ``fit``'s parallel loop: each (candidate, fold) pair is one rung trial on
rung's process backend.
"""

from __future__ import annotations

import time
import warnings
from inspect import signature
from typing import Any, Callable, Sequence

import numpy as np
from sklearn import get_config
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.model_selection import GridSearchCV as _SkGridSearchCV
from sklearn.model_selection import RandomizedSearchCV as _SkRandomizedSearchCV
from sklearn.model_selection import ParameterSampler, check_cv
from sklearn.model_selection._validation import _insert_error_scores, _warn_or_raise_about_fit_failures
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import _check_method_params, _num_samples, indexable

import rung

from ._domains import as_distributions
from ._experiment import Run, content_hash, reissue_warnings, run_experiment
from ._fits import FitTask, FoldFits

#: The constructor parameters rung adds to scikit-learn's, with their checks.
RUNG_PARAMETERS: dict[str, list[Any]] = {
    "experiment": [str, None],
    "storage": [str, HasMethods(["read_log"]), None],
    "backend": [str, HasMethods(["launch"])],
}


class SearchContext:
    """What one ``fit`` knows once it has checked its inputs: the data, folds and scorers."""

    def __init__(self, search: "_RungFit", X: Any, y: Any, routed: Any, scorers: Any, refit_metric: Any) -> None:
        self.X, self.y, self.routed = X, y, routed
        self.scorers, self.refit_metric = scorers, refit_metric
        self.search = search
        self.calls = 0

    def task(self, splits: list[tuple[np.ndarray, np.ndarray]]) -> FitTask:
        s: Any = self.search
        return FitTask(
            estimator=clone(s.estimator), X=self.X, y=self.y, splits=splits, scorer=self.scorers,
            fit_params=dict(self.routed.estimator.fit), score_params=dict(self.routed.scorer.score),
            return_train_score=s.return_train_score, error_score=s.error_score, verbose=s.verbose,
            refit_metric=self.refit_metric if isinstance(self.refit_metric, str) else None,
            durable=s.experiment is not None, config=get_config(),
        )

    def splits(self, cv: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        folds = [(np.asarray(train), np.asarray(test))
                 for train, test in cv.split(self.X, self.y, **self.routed.splitter.split)]
        expected = getattr(self.search, "n_splits_")
        if len(folds) != expected:
            raise ValueError(f"cv.split and cv.get_n_splits return inconsistent results. "
                             f"Expected {expected} splits, got {len(folds)}")
        return folds

    def experiment_name(self) -> str | None:
        """The experiment of this call of ``evaluate_candidates`` (``name``, ``name.2``, ...)."""
        self.calls += 1
        name = self.search.experiment
        return name if name is None or self.calls == 1 else f"{name}.{self.calls}"


class _RungFit:
    """The ``fit`` shared by rung's search classes (a mixin in front of scikit-learn's
    ``BaseSearchCV``); subclasses say how candidates are searched (``_run_search``)."""

    experiment: str | None
    storage: Any
    backend: Any

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any = None, **params: Any) -> Any:
        """Run every fit of the search as a rung experiment, then refit the best candidate
        on the whole data (as scikit-learn's ``BaseSearchCV.fit`` does)."""
        search: Any = self
        if search.pre_dispatch != "2*n_jobs":
            warnings.warn("pre_dispatch has no effect in rung's searches: a fit is sent to each "
                          "worker as it becomes free", UserWarning, stacklevel=2)
        scorers, refit_metric = search._get_scorers()
        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        routed = search._get_routed_params_for_fit(params)
        metadata = {"sample_weight": params["sample_weight"]} if params.get("sample_weight") is not None else None
        root = None
        if hasattr(search, "_init_callback_context"):
            root = search._init_callback_context(max_subtasks=1 + (search.refit is not False)).call_on_fit_task_begin(
                estimator=search, X=X, y=y, metadata=metadata)
        search._checked_cv_orig = check_cv(search.cv, y, classifier=is_classifier(search.estimator))
        search._check_input_parameters(X=X, y=y, split_params=routed.splitter.split)
        search.n_splits_ = search._checked_cv_orig.get_n_splits(X, y, **routed.splitter.split)
        context = SearchContext(search, X, y, routed, scorers, refit_metric)

        all_candidates: list[dict[str, Any]] = []
        all_out: list[dict[str, Any]] = []
        all_more: dict[str, list[Any]] = {}
        results: dict[str, Any] = {}

        def absorb(candidates: list[dict[str, Any]], out: list[dict[str, Any]],
                   more_results: dict[str, list[Any]] | None = None) -> dict[str, Any]:
            nonlocal results
            if len(out) < 1:
                raise ValueError("No fits were performed. Was the CV iterator empty? Were there no candidates?")
            _warn_or_raise_about_fit_failures(out, search.error_score)
            if callable(search.scoring):
                _insert_error_scores(out, search.error_score)
            all_candidates.extend(candidates)
            all_out.extend(out)
            for key, value in (more_results or {}).items():
                all_more.setdefault(key, []).extend(value)
            results = search._format_results(all_candidates, search.n_splits_, all_out, all_more or None)
            return results

        self._search_with_rung(context, absorb, root)

        search.multimetric_ = isinstance(all_out[0]["test_scores"], dict)
        if callable(search.scoring) and search.multimetric_:
            search._check_refit_for_multimetric(all_out[0]["test_scores"])
            refit_metric = search.refit
        if search.refit or not search.multimetric_:
            search.best_index_ = search._select_best_index(search.refit, refit_metric, results)
            if not callable(search.refit):
                search.best_score_ = results[f"mean_test_{refit_metric}"][search.best_index_]
            search.best_params_ = results["params"][search.best_index_]
        if search.refit:
            search.best_estimator_ = clone(clone(search.estimator)).set_params(
                **clone(search.best_params_, safe=False))
            started = time.time()
            if y is not None:
                search.best_estimator_.fit(X, y, **routed.estimator.fit)
            else:
                search.best_estimator_.fit(X, **routed.estimator.fit)
            search.refit_time_ = time.time() - started
            if hasattr(search.best_estimator_, "feature_names_in_"):
                search.feature_names_in_ = search.best_estimator_.feature_names_in_
        search.scorer_ = scorers._scorers if isinstance(scorers, _MultimetricScorer) else scorers
        search.cv_results_ = results
        if root is not None:
            root.call_on_fit_task_end(estimator=search, X=X, y=y, metadata=metadata)
        return search

    def _search_with_rung(self, context: SearchContext, absorb: Callable[..., dict[str, Any]], root: Any) -> None:
        """Grid and randomized search: scikit-learn's ``_run_search`` picks the candidates
        and calls ``evaluate_candidates``, which runs them as a rung experiment."""
        search: Any = self

        def evaluate_candidates(candidate_params: Any, cv: Any = None, more_results: Any = None,
                                callback_ctx: Any = None) -> dict[str, Any]:
            candidates = list(candidate_params)
            splits = context.splits(cv or search._checked_cv_orig)
            out = self._run_folds(context, candidates, splits)
            return absorb(candidates, out, more_results)

        if root is not None and "callback_ctx" in signature(search._run_search).parameters:
            search._run_search(evaluate_candidates, callback_ctx=root)
        else:
            search._run_search(evaluate_candidates)

    def _run_folds(self, context: SearchContext, candidates: list[dict[str, Any]],
                   splits: list[tuple[np.ndarray, np.ndarray]]) -> list[dict[str, Any]]:
        """Every (candidate, fold) fit as one trial; their results in scikit-learn's order."""
        search: Any = self
        n_candidates, n_splits = len(candidates), len(splits)
        if search.verbose > 0:
            print(f"Fitting {n_splits} folds for each of {n_candidates} candidates, "
                  f"totalling {n_candidates * n_splits} fits")
        if n_candidates == 0 or n_splits == 0:
            return []
        task = context.task(splits)
        name = context.experiment_name()
        space: dict[str, Any] = {"candidate": rung.choice(list(range(n_candidates))),
                                 "split": rung.choice(list(range(n_splits)))}
        if name is not None:  # a resumed experiment must be the same search on the same data
            space["fingerprint"] = rung.constant(fingerprint(task, candidates))
        run = run_experiment(FoldFits(task, candidates), space, n_trials=n_candidates * n_splits,
                             n_jobs=search.n_jobs, backend=search.backend, experiment=name,
                             storage=search.storage, searcher="grid", echo=search.verbose > 1,
                             max_failures=1 if search.error_score == "raise" else None)
        return fold_results(run, task, candidates, splits, search.error_score)


def fold_results(run: Run, task: FitTask, candidates: list[dict[str, Any]],
                 splits: list[tuple[np.ndarray, np.ndarray]], error_score: Any) -> list[dict[str, Any]]:
    """The ``_fit_and_score`` outputs in candidate-major order, from the trials' records.

    A fit that left no record (its trial crashed, was killed or raised with
    ``error_score="raise"``) is a failed fit: with ``"raise"`` it is run again here so that
    its own exception propagates; otherwise it gets ``error_score`` and rung's reason.
    """
    by_pair: dict[tuple[int, int], dict[str, Any]] = {}
    trials = {t.trial_id: t for t in run.result.trial_records}
    for trial_id, fits in run.fits.items():
        for fit in fits:
            by_pair[(int(fit["candidate"]), int(fit["split"]))] = fit
    missing = {(int(t.config["candidate"]), int(t.config["split"])): t
               for t in trials.values() if not run.fits.get(t.trial_id)}
    out: list[dict[str, Any]] = []
    ordered: list[dict[str, Any]] = []
    for index, candidate in enumerate(candidates):
        for split, (_, test) in enumerate(splits):
            found = by_pair.get((index, split))
            fit = found if found is not None else lost_fit(
                task, candidate, index, split, len(candidates), missing.get((index, split)), error_score,
                _num_samples(test))
            ordered.append(fit)
            out.append({key: fit[key] for key in ("test_scores", "train_scores", "n_test_samples", "fit_time",
                                                  "score_time", "fit_error") if key != "train_scores"
                        or task.return_train_score})
    reissue_warnings(ordered)
    return out


def lost_fit(task: FitTask, candidate: dict[str, Any], index: int, split: int, n_candidates: int,
             trial: Any, error_score: Any, n_test: int) -> dict[str, Any]:
    """The record of a fit whose trial wrote none."""
    if error_score == "raise":
        task.fit(candidate, split, (index, n_candidates))  # raises the fit's own exception
        reason = "the run ended before this fit" if trial is None else trial.error
        raise RuntimeError(f"fit {split + 1} of candidate {index + 1} failed in its worker ({reason}) "
                           f"but not when run again in this process\n{getattr(trial, 'traceback', '') or ''}")
    if trial is None:
        reason = "the run ended before this fit ran"
    else:
        reason = f"{trial.error or trial.status.value}\n{trial.traceback or ''}".rstrip() + "\n"
    return {"split": split, "candidate": index, "test_scores": error_score,
            "train_scores": error_score if task.return_train_score else None, "n_test_samples": n_test,
            "fit_time": float(getattr(trial, "run_time", 0.0) or 0.0), "score_time": 0.0,
            "fit_error": reason, "printed": "", "warnings": []}


def fingerprint(task: FitTask, candidates: Sequence[dict[str, Any]]) -> str:
    """A hash of what the fits depend on (data, folds, estimator, candidates, scoring), so
    that fitting again under the same experiment name resumes only the same search."""
    return content_hash((task.X, task.y, task.splits, task.estimator, list(candidates), task.scorer,
                            task.fit_params, task.score_params, task.return_train_score, task.error_score))


class GridSearchCV(_RungFit, _SkGridSearchCV):
    """scikit-learn's ``GridSearchCV`` (same parameters, attributes and results) whose fits
    run in parallel as a rung experiment.

    Parameters are scikit-learn's (``estimator``, ``param_grid``, ``scoring``, ``n_jobs``
    (-1: every core), ``refit``, ``cv``, ``verbose``, ``pre_dispatch`` (no effect),
    ``error_score``, ``return_train_score``) plus:

    experiment:
        Name under which the search is recorded in the store; fitting again with the same
        name (after a crash, say) continues it and reuses the fits already done. None
        (default): records in memory only.
    storage:
        The store for a named experiment (see :class:`rung.Tuner`; None: the default
        SQLite file).
    backend:
        ``"process"`` (default: warm worker processes, one per job) or another rung backend.
    """

    _parameter_constraints: dict = {**_SkGridSearchCV._parameter_constraints, **RUNG_PARAMETERS}

    def __init__(self, estimator: Any, param_grid: Any, *, scoring: Any = None, n_jobs: int | None = None,
                 refit: Any = True, cv: Any = None, verbose: int = 0, pre_dispatch: Any = "2*n_jobs",
                 error_score: Any = np.nan, return_train_score: bool = False, experiment: str | None = None,
                 storage: Any = None, backend: Any = "process") -> None:
        super().__init__(estimator=estimator, param_grid=param_grid, scoring=scoring, n_jobs=n_jobs, refit=refit,
                         cv=cv, verbose=verbose, pre_dispatch=pre_dispatch, error_score=error_score,
                         return_train_score=return_train_score)
        self.experiment = experiment
        self.storage = storage
        self.backend = backend


class RandomizedSearchCV(_RungFit, _SkRandomizedSearchCV):
    """scikit-learn's ``RandomizedSearchCV`` whose fits run in parallel as a rung experiment.

    ``param_distributions`` takes what scikit-learn's does (lists, scipy.stats
    distributions) and rung domains (``rung.loguniform(1e-3, 1)``, ...); candidates are drawn
    by scikit-learn's ``ParameterSampler``, so the same ``random_state`` gives the same
    candidates as scikit-learn's class. ``experiment``, ``storage`` and ``backend`` are as
    in :class:`GridSearchCV`.
    """

    _parameter_constraints: dict = {**_SkRandomizedSearchCV._parameter_constraints, **RUNG_PARAMETERS}

    def __init__(self, estimator: Any, param_distributions: Any, *, n_iter: int = 10, scoring: Any = None,
                 n_jobs: int | None = None, refit: Any = True, cv: Any = None, verbose: int = 0,
                 pre_dispatch: Any = "2*n_jobs", random_state: Any = None, error_score: Any = np.nan,
                 return_train_score: bool = False, experiment: str | None = None, storage: Any = None,
                 backend: Any = "process") -> None:
        super().__init__(estimator=estimator, param_distributions=param_distributions, n_iter=n_iter,
                         scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                         pre_dispatch=pre_dispatch, random_state=random_state, error_score=error_score,
                         return_train_score=return_train_score)
        self.experiment = experiment
        self.storage = storage
        self.backend = backend

    def _run_search(self, evaluate_candidates: Any, *, callback_ctx: Any = None) -> None:
        """Candidates from scikit-learn's ``ParameterSampler`` (rung domains become objects
        with scipy's ``rvs``)."""
        evaluate_candidates(ParameterSampler(as_distributions(self.param_distributions), self.n_iter,
                                             random_state=self.random_state))


__all__ = ["GridSearchCV", "RandomizedSearchCV"]
