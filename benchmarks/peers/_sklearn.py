"""scikit-learn's ``HalvingRandomSearchCV`` as a benchmark method on the Bayesmark problems.

``sklearn-halving`` applies to the Bayesmark problems only (``kind == "real"``, built on
scikit-learn estimators, see ``benchmarks/problems/bayesmark.py``). It runs for real, in
this process, on wall-clock time, one fit at a time (the harness gives real problems one
worker); there is nothing to simulate.

Setup, Bayesmark's where it has one, sklearn's defaults otherwise:

- Estimator: a thin wrapper (:class:`ConfigClassifier` / :class:`ConfigRegressor`) whose
  one hyperparameter ``config`` is a whole config of the problem's rung space; at ``fit``
  it builds the problem's estimator with ``bayesmark.build_estimator`` (so
  ``normalize``, the one-vs-rest wrapper and the fixed arguments are exactly the
  problem's). The candidates are drawn by ``ParameterSampler`` from a distribution whose
  ``rvs`` samples the rung space (its scales and conditions, as ``rung-random`` draws).
- Data, folds and scorer: the problem's training part, ``cv=5`` (stratified for
  classifiers, as ``cross_val_score``), the problem's scorer; ``resource="n_samples"``,
  ``factor=3``, ``min_resources="exhaust"``, ``random_state=seed``, ``refit=False``,
  ``error_score=nan``.
- Budget: ``n_candidates = max_evaluations`` (configurations started); with only a time
  budget, ``n_candidates="exhaust"`` (and ``min_resources="smallest"``), cut at
  ``max_time``: a fit that would start after it ends the search.
- Its pick: sklearn's last iteration can stop short of all rows (it uses
  ``min_resources * factor**k``); then the search's ``best_params_`` is scored on all rows
  with the problem's own cross-validation (as ``refit`` would train it, timed as part of
  the run) and that is its full-fidelity point.
- Decision time: the search's real time minus its fits and scorings (``cv_results_``
  times); not measured (0, ``info["decision_time_measured"]`` False) when cut short.

Reports. A wrapped scorer stamps each fold's score with the wall-clock time (seconds since
the run started), the candidate's config and the fold's size (train + test rows). Folds
are grouped per candidate and iteration in the order sklearn evaluates them (candidate by
candidate, fold by fold); a candidate's value is its loss as the problem computes it
(``1 - accuracy``, ``-score`` for the others) from the mean fold score, reported at its
last fold. Only evaluations on all rows (train + test of every fold = the whole training
part) are full-fidelity points: at those the folds are the problem's own, so a value is
the problem's ``cross_validate`` of that config (up to the row order, which sklearn's
subsampler shuffles: models sensitive to it can differ slightly). Lower iterations feed
the any-fidelity incumbent.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.harness._method import Budget, RunResult

from ._common import version

if TYPE_CHECKING:
    from benchmarks.problems import Problem

CV_FOLDS = 5
FACTOR = 3


class OutOfTime(BaseException):
    """Raised inside a fit that would start after the time budget: ends the search.

    A ``BaseException`` so that scikit-learn's per-fit ``except Exception`` (which turns
    errors into ``error_score``) lets it through.
    """


def _quiet_fit(estimator: Any, X: np.ndarray, y: np.ndarray) -> None:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        for category in (UserWarning, ConvergenceWarning, FutureWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category)
        estimator.fit(X, y)


def _model_base() -> type:
    from sklearn.base import BaseEstimator

    class ConfigModel(BaseEstimator):
        """Builds the Bayesmark estimator of ``config`` when fitted."""

        def __init__(self, model: str = "dt", task: str = "clf", seed: int = 0,
                     config: dict[str, Any] | None = None, deadline: float = math.inf) -> None:
            self.model = model
            self.task = task
            self.seed = seed
            self.config = config
            self.deadline = deadline

        def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
            from benchmarks.problems.bayesmark import build_estimator

            if time.perf_counter() > self.deadline:
                raise OutOfTime
            self.estimator_ = build_estimator(self.model, self.task, self.config or {}, self.seed)
            _quiet_fit(self.estimator_, X, y)
            self.n_fit_ = len(X)
            return self

        def predict(self, X: np.ndarray) -> np.ndarray:
            return self.estimator_.predict(X)

    return ConfigModel


def _estimator_classes() -> tuple[type, type]:
    from sklearn.base import ClassifierMixin, RegressorMixin

    base = _model_base()

    class ConfigClassifier(ClassifierMixin, base):  # type: ignore[misc, valid-type]
        def fit(self, X: np.ndarray, y: np.ndarray) -> Any:
            super().fit(X, y)
            self.classes_ = self.estimator_.classes_
            return self

        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            return self.estimator_.predict_proba(X)

    class ConfigRegressor(RegressorMixin, base):  # type: ignore[misc, valid-type]
        pass

    return ConfigClassifier, ConfigRegressor


#: Built on first use, so that importing this module does not import scikit-learn.
_CLASSES: dict[str, type] = {}


def estimator_for(problem: Problem, deadline: float) -> Any:
    """The wrapper estimator for a Bayesmark problem (classifier or regressor)."""
    if not _CLASSES:
        _CLASSES["clf"], _CLASSES["reg"] = _estimator_classes()
    return _CLASSES[problem.task](model=problem.model, task=problem.task, seed=problem.seed,
                                  deadline=deadline)


@dataclass
class SpaceDistribution:
    """A ``ParameterSampler`` distribution whose draws are whole configs of a rung space."""

    problem: Problem

    def rvs(self, random_state: Any = None) -> dict[str, Any]:
        from sklearn.utils import check_random_state

        rng = np.random.default_rng(check_random_state(random_state).randint(0, 2**31 - 1))
        return self.problem.rung_space().sample(rng)


def config_key(config: Mapping[str, Any]) -> str:
    return json.dumps(sorted((str(k), repr(v)) for k, v in config.items()))


@dataclass
class FoldScore:
    time: float
    key: str
    config: dict[str, Any]
    rows: int  # train + test rows of the fold
    score: float


@dataclass
class RecordingScorer:
    """Wraps the problem's scorer and stamps each fold's score (see the module docstring)."""

    name: str
    started: float
    records: list[FoldScore] = field(default_factory=list)

    def __call__(self, estimator: Any, X: np.ndarray, y: np.ndarray, **kwargs: Any) -> float:
        from sklearn.metrics import get_scorer

        config = dict(estimator.config or {})
        rows = int(getattr(estimator, "n_fit_", 0)) + len(X)
        score = math.nan
        try:
            score = float(get_scorer(self.name)(estimator, X, y, **kwargs))
            return score
        finally:
            self.records.append(FoldScore(time.perf_counter() - self.started, config_key(config),
                                          config, rows, score))


@dataclass
class Evaluation:
    """One candidate at one iteration: its folds, in order."""

    key: str
    config: dict[str, Any]
    folds: list[FoldScore]

    @property
    def time(self) -> float:
        return self.folds[-1].time

    @property
    def rows(self) -> int:
        return self.folds[0].rows

    def same(self, fold: FoldScore) -> bool:
        """Whether ``fold`` continues this evaluation (same config, size, folds left)."""
        close = abs(fold.rows - self.rows) <= 0.1 * self.rows + 2
        return fold.key == self.key and len(self.folds) < CV_FOLDS and close


def group_folds(records: list[FoldScore]) -> list[Evaluation]:
    """Consecutive fold scores of one candidate at one iteration, grouped."""
    groups: list[Evaluation] = []
    for fold in records:
        if groups and groups[-1].same(fold):
            groups[-1].folds.append(fold)
        else:
            groups.append(Evaluation(fold.key, fold.config, [fold]))
    return groups


def loss(problem: Problem, evaluation: Evaluation) -> float:
    """The problem's loss from the mean fold score (NaN unless every fold scored)."""
    scores = [fold.score for fold in evaluation.folds]
    if len(scores) < CV_FOLDS or not all(math.isfinite(s) for s in scores):
        return math.nan
    mean = float(np.mean(scores))
    return 1.0 - mean if problem.bayesmark_metric == "acc" else -mean


def is_bayesmark(problem: Problem) -> bool:
    """Whether ``problem`` is a Bayesmark problem (the only kind this method fits)."""
    return all(hasattr(problem, attr) for attr in ("model", "task", "dataset", "bayesmark_metric"))


@dataclass
class HalvingOutcome:
    """What one search observed: the fold-score groups and the search's own counts."""

    problem: Problem
    seed: int
    evaluations: list[Evaluation]
    n_samples: int
    n_candidates: int | None
    n_failed_rows: int | None
    real_time: float
    timed_out: bool
    final: tuple[float, float, dict[str, Any]] | None = None
    #: Real seconds outside fitting and scoring (None when the search was cut short).
    decision_time: float | None = None

    def full(self, evaluation: Evaluation) -> bool:
        return all(fold.rows == self.n_samples for fold in evaluation.folds)

    def result(self, method: str, budget: Budget, info: Mapping[str, Any]) -> RunResult:
        limit = budget.max_time if budget.max_time is not None else math.inf
        points, any_fidelity, fractions = [], [], {}
        sign = 1.0 if self.problem.mode == "min" else -1.0
        for evaluation in self.evaluations:
            value = loss(self.problem, evaluation)
            fraction = min(1.0, evaluation.rows / self.n_samples)
            fractions[evaluation.key] = max(fractions.get(evaluation.key, 0.0), fraction)
            if not math.isfinite(value) or evaluation.time > limit:
                continue
            if self.full(evaluation):
                points.append((evaluation.time, value))
            if not any_fidelity or sign * value < sign * any_fidelity[-1][1]:
                any_fidelity.append((evaluation.time, value))
        if self.final is not None and self.final[0] <= limit and math.isfinite(self.final[1]):
            points.append(self.final[:2])
            fractions[config_key(self.final[2])] = 1.0
            if not any_fidelity or sign * self.final[1] < sign * any_fidelity[-1][1]:
                any_fidelity.append(self.final[:2])
        first_rows = self.evaluations[0].rows if self.evaluations else 0
        started = self.n_candidates
        if started is None:
            started = sum(1 for e in self.evaluations if abs(e.rows - first_rows) <= 0.1 * first_rows + 2)
        failed = self.n_failed_rows
        if failed is None:
            failed = sum(1 for e in self.evaluations if not math.isfinite(loss(self.problem, e)))
        elapsed = min(self.real_time, limit)
        return RunResult(
            method=method, problem=self.problem.name, seed=self.seed, mode=self.problem.mode,
            points=points, n_evaluations=int(started), total_resource=float(sum(fractions.values())),
            decision_time=self.decision_time or 0.0, real_time=self.real_time, elapsed=elapsed,
            any_fidelity=any_fidelity, n_failed=int(failed),
            info={"library": f"scikit-learn {version('scikit-learn')}", "clock": "wall-clock",
                  "n_workers": 1, "timed_out": self.timed_out,
                  "decision_time_measured": self.decision_time is not None, **info},
        )


@dataclass(frozen=True)
class SklearnHalvingMethod:
    """``HalvingRandomSearchCV`` over a Bayesmark problem's space (module docstring)."""

    name: str = "sklearn-halving"
    factor: int = FACTOR

    def search(self, problem: Problem, seed: int, budget: Budget) -> HalvingOutcome:
        """Run the search; the outcome keeps every fold score."""
        from sklearn.experimental import enable_halving_search_cv  # noqa: F401
        from sklearn.model_selection import HalvingRandomSearchCV

        from benchmarks.problems.bayesmark import SCORERS, load_data

        if not is_bayesmark(problem):
            raise ValueError(f"{self.name} runs on Bayesmark problems only, got {problem.name!r}")
        X, y = load_data(problem.dataset)
        started = time.perf_counter()
        deadline = started + budget.max_time if budget.max_time is not None else math.inf
        scorer = RecordingScorer(SCORERS[problem.bayesmark_metric], started)
        exhaust = budget.max_evaluations is None
        search = HalvingRandomSearchCV(
            estimator_for(problem, deadline), {"config": SpaceDistribution(problem)},
            n_candidates="exhaust" if exhaust else budget.max_evaluations,
            factor=self.factor, resource="n_samples",
            min_resources="smallest" if exhaust else "exhaust", cv=CV_FOLDS, scoring=scorer,
            refit=False, error_score=np.nan, return_train_score=False, random_state=seed,
            n_jobs=None)
        timed_out = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                search.fit(X, y)
            except OutOfTime:
                timed_out = True
        outcome = HalvingOutcome(problem, seed, group_folds(scorer.records), len(X), None, None,
                                 0.0, timed_out)
        if not timed_out:
            results = search.cv_results_
            outcome.n_candidates = int(search.n_candidates_[0])
            scores = np.asarray(results["mean_test_score"], dtype=float)
            outcome.n_failed_rows = int(np.sum(~np.isfinite(scores)))
            searched = time.perf_counter() - started
            training = CV_FOLDS * float(np.sum(results["mean_fit_time"]) + np.sum(results["mean_score_time"]))
            outcome.decision_time = max(0.0, searched - training)
            last = outcome.evaluations[-1] if outcome.evaluations else None
            if last is None or not outcome.full(last):
                outcome.final = self._check_best(problem, search.best_params_["config"], started,
                                                 deadline)
        outcome.real_time = time.perf_counter() - started
        return outcome

    @staticmethod
    def _check_best(problem: Problem, config: dict[str, Any], started: float,
                    deadline: float) -> tuple[float, float, dict[str, Any]] | None:
        """The search's pick scored on all rows, as ``refit`` would train it (None if out
        of time): sklearn's last iteration can stop short of the whole data set."""
        if time.perf_counter() > deadline:
            return None
        value = problem.cross_validate(config)
        return time.perf_counter() - started, value, dict(config)

    def run(self, problem: Problem, seed: int, budget: Budget) -> RunResult:
        outcome = self.search(problem, seed, budget)
        info = {"factor": self.factor, "cv": CV_FOLDS}
        return outcome.result(self.name, budget, info)


def sklearn_methods(problem: Problem, available: set[str]) -> list[SklearnHalvingMethod]:
    """``sklearn-halving`` for Bayesmark problems when scikit-learn imports."""
    if "sklearn" not in available or not is_bayesmark(problem):
        return []
    return [SklearnHalvingMethod()]
