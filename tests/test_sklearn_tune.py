"""TuneSearchCV: rung's searchers and multi-fidelity schedulers behind scikit-learn's interface."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import KFold, cross_validate
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

import rung
from rung.sklearn import TuneSearchCV


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """One BLAS thread in this process (rung's workers get one each already): on a loaded
    2-core machine, OpenBLAS threads busy-waiting made an L-BFGS fit 10x slower."""
    with threadpool_limits(1):
        yield


X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_DIA, Y_DIA = load_diabetes(return_X_y=True)


def test_model_based_search_over_a_conditional_mixed_space_is_seeded_and_consistent():
    space = {"kernel": ["linear", "rbf"], "C": rung.loguniform(1e-2, 1e2),
             "gamma": rung.loguniform(1e-3, 1.0).when("kernel", "==", "rbf")}
    kw = dict(searcher="tpe", n_trials=6, cv=3, random_state=0, backend="inprocess")
    search = TuneSearchCV(SVC(), space, **kw).fit(X_IRIS, Y_IRIS)
    again = TuneSearchCV(SVC(), space, **kw).fit(X_IRIS, Y_IRIS)
    params = search.cv_results_["params"]
    assert params == again.cv_results_["params"] and len(params) == 6
    assert all(("gamma" in p) == (p["kernel"] == "rbf") for p in params)  # conditional parameter
    # every row is exactly scikit-learn's cross-validation of its candidate on the same folds
    for row in (0, 5):
        expected = cross_validate(SVC(**params[row]), X_IRIS, Y_IRIS, cv=search._checked_cv_orig)["test_score"]
        assert search.cv_results_["mean_test_score"][row] == pytest.approx(expected.mean(), rel=1e-12)
    best = int(np.nanargmax(search.cv_results_["mean_test_score"]))
    assert search.best_index_ == best and search.best_params_ == params[best]
    assert search.predict(X_IRIS[:5]).shape == (5,)
    assert "iter" not in search.cv_results_  # one fidelity: plain search results


def test_asha_over_an_estimator_parameter():
    search = TuneSearchCV(RandomForestClassifier(random_state=0), {"max_depth": rung.randint(1, 8)},
                          scheduler="asha", resource="n_estimators", min_resource=2, max_resource=18,
                          reduction_factor=3, n_trials=6, cv=2, random_state=1, backend="inprocess").fit(X_IRIS, Y_IRIS)
    res = search.cv_results_
    assert set(res["n_resources"].tolist()) <= {2, 6, 18}
    assert res["iter"].tolist() == sorted(res["iter"].tolist())
    assert (res["n_resources"] == 2).sum() == 6  # every candidate starts at the smallest level
    top = res["n_resources"] == res["n_resources"].max()
    assert search.best_index_ in np.flatnonzero(top)  # the best is chosen at the largest resource
    assert search.best_score_ == res["mean_test_score"][top].max()
    # a row's score is the candidate's cross-validation with the resource set to that level
    row = int(np.flatnonzero(res["n_resources"] == 6)[0]) if (res["n_resources"] == 6).any() else 0
    params = dict(res["params"][row], n_estimators=int(res["n_resources"][row]))
    expected = cross_validate(RandomForestClassifier(random_state=0, **params), X_IRIS, Y_IRIS,
                              cv=search._checked_cv_orig)["test_score"].mean()
    assert res["mean_test_score"][row] == pytest.approx(expected, rel=1e-12)
    # ASHA stopping rule (eta=3): a candidate continues past a level only if fewer than n/3 of
    # the n scores recorded there before it were better; at least the first one continues
    assert (res["n_resources"] == 6).sum() >= 1 and (res["n_resources"] == 6).sum() < 6


class SampleCounter(BaseEstimator, RegressorMixin):
    """Scores the number of training samples it was fitted on (to check the resource)."""

    def __init__(self, c=0.0):
        self.c = c

    def fit(self, X, y):
        self.n_ = len(X)
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y):
        return float(self.n_)


def test_successive_halving_over_training_samples():
    search = TuneSearchCV(SampleCounter(), {"c": rung.uniform(0, 1)}, scheduler="successive_halving",
                          min_resource=30, max_resource=270, reduction_factor=3, n_trials=9,
                          cv=KFold(3), random_state=0, backend="inprocess").fit(X_DIA, Y_DIA)
    res = search.cv_results_
    # the score is the training-set size: each level fits on exactly n_resources samples
    np.testing.assert_array_equal(res["mean_test_score"], res["n_resources"].astype(float))
    assert sorted(set(res["n_resources"].tolist())) == [30, 90, 270]
    counts = [(res["n_resources"] == r).sum() for r in (30, 90, 270)]
    assert counts == [9, 3, 1]  # synchronous halving promotes the top third of each rung


def test_bad_arguments_are_refused_before_any_fit():
    with pytest.raises(ValueError, match="max_resource is needed"):
        TuneSearchCV(RandomForestClassifier(), {"max_depth": [2, 3]}, scheduler="asha",
                     resource="n_estimators", backend="inprocess").fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="resource='leaves'"):
        TuneSearchCV(RandomForestClassifier(), {"max_depth": [2, 3]}, scheduler="asha", resource="leaves",
                     max_resource=9, backend="inprocess").fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="refit must name the one to optimize"):
        TuneSearchCV(SVC(), {"C": [1.0, 2.0]}, scoring=["accuracy", "f1_macro"], refit=False,
                     backend="inprocess").fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="scheduler"):
        TuneSearchCV(SVC(), {"C": [1.0, 2.0]}, scheduler="fastest", backend="inprocess").fit(X_IRIS, Y_IRIS)


def test_asha_on_worker_processes_records_every_level_it_ran():
    search = TuneSearchCV(RandomForestClassifier(random_state=0), {"max_depth": rung.randint(1, 6)},
                          scheduler="asha", resource="n_estimators", min_resource=3, max_resource=9,
                          n_trials=4, cv=2, n_jobs=2, random_state=0).fit(X_IRIS, Y_IRIS)
    res = search.cv_results_
    assert (res["n_resources"] == 3).sum() == 4 and set(res["n_resources"].tolist()) <= {3, 9}
    row = int(np.argmax(res["n_resources"]))
    params = dict(res["params"][row], n_estimators=int(res["n_resources"][row]))
    expected = cross_validate(RandomForestClassifier(random_state=0, **params), X_IRIS, Y_IRIS,
                              cv=search._checked_cv_orig)["test_score"].mean()
    assert res["mean_test_score"][row] == pytest.approx(expected, rel=1e-12)


class Picky(BaseEstimator, RegressorMixin):
    """Cannot be fitted when c > 0.5."""

    def __init__(self, c=0.0):
        self.c = c

    def fit(self, X, y):
        if self.c > 0.5:
            raise ValueError("c is too large")
        return self

    def predict(self, X):
        return np.zeros(len(X))


def test_failed_candidates_get_error_score_and_scikit_learns_warning():
    with pytest.warns(FitFailedWarning, match=r"fits failed out of a total of 16") as caught:
        search = TuneSearchCV(Picky(), {"c": rung.uniform(0, 1)}, searcher="random", n_trials=8, cv=2,
                              random_state=3, backend="inprocess").fit(X_DIA, Y_DIA)
    assert any("c is too large" in str(w.message) for w in caught)
    params = search.cv_results_["params"]
    failed = np.isnan(search.cv_results_["mean_test_score"])
    assert failed.tolist() == [p["c"] > 0.5 for p in params] and 0 < failed.sum() < 8
    assert f"\n{2 * failed.sum()} fits failed out of a total of 16" in str(caught[0].message)
    assert search.best_params_["c"] <= 0.5
