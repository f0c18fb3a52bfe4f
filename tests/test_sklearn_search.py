"""rung.sklearn.GridSearchCV / RandomizedSearchCV against scikit-learn's own classes.

Same grid and folds must give the same cv_results_ (keys, dtypes, scores to floating point,
ranks), the same best candidate, the same verbose lines and the same error_score behaviour.
Most tests use the in-process backend (fast); the process-backend tests run real workers.
"""

from __future__ import annotations

import io
import pickle
import re
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
from scipy import stats
from sklearn import config_context
from sklearn import model_selection as sk
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_diabetes, load_iris, make_classification
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

import rung
from rung.sklearn import GridSearchCV, RandomizedSearchCV


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """One BLAS thread in this process (rung's workers get one each already): on a loaded
    2-core machine, OpenBLAS threads busy-waiting made an L-BFGS fit 10x slower."""
    with threadpool_limits(1):
        yield


X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_DIA, Y_DIA = load_diabetes(return_X_y=True)
X_DIA, Y_DIA = X_DIA[:150], Y_DIA[:150]


def same_results(ours: dict, theirs: dict) -> None:
    """Every key of scikit-learn's cv_results_, same dtype and values (times aside)."""
    assert sorted(ours) == sorted(theirs)
    for key, expected in theirs.items():
        got = ours[key]
        if key == "params":
            assert got == expected
            continue
        assert type(got) is type(expected), key
        assert got.dtype == expected.dtype, key
        if "time" in key:
            continue
        if isinstance(expected, np.ma.MaskedArray):
            assert np.array_equal(got.mask, expected.mask), key
            assert list(got.compressed()) == list(expected.compressed()), key
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0, err_msg=key)


CASES = [
    pytest.param(SVC(), {"C": [0.1, 1, 10], "kernel": ["linear", "rbf"]}, "accuracy", X_IRIS, Y_IRIS, id="svc-accuracy"),
    pytest.param(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, "neg_log_loss", X_IRIS[::3], Y_IRIS[::3],
                 id="logreg-logloss"),
    pytest.param(Ridge(), [{"alpha": [0.1, 10.0]}, {"alpha": [1.0], "fit_intercept": [False]}],
                 "neg_mean_squared_error", X_DIA, Y_DIA, id="ridge-list-of-grids-mse"),
    pytest.param(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3, None]}, "f1_macro", X_IRIS, Y_IRIS,
                 id="tree-f1-none-param"),
]


@pytest.mark.parametrize("estimator, grid, scoring, X, y", CASES)
def test_grid_search_matches_scikit_learn(estimator, grid, scoring, X, y):
    kw = dict(scoring=scoring, cv=KFold(4, shuffle=True, random_state=0), return_train_score=True)
    ours = GridSearchCV(estimator, grid, backend="inprocess", **kw).fit(X, y)
    theirs = sk.GridSearchCV(estimator, grid, **kw).fit(X, y)
    same_results(ours.cv_results_, theirs.cv_results_)
    assert ours.best_index_ == theirs.best_index_
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ == theirs.best_score_
    assert ours.n_splits_ == theirs.n_splits_ == 4
    assert ours.multimetric_ is False
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.score(X, y) == theirs.score(X, y)


def test_several_metrics_with_refit_by_name_and_process_workers():
    scoring = {"r2": "r2", "mae": "neg_mean_absolute_error"}
    kw = dict(scoring=scoring, refit="mae", cv=3, return_train_score=True)
    grid = {"alpha": [0.01, 0.1, 1.0, 10.0]}
    ours = GridSearchCV(Ridge(), grid, n_jobs=2, **kw).fit(X_DIA, Y_DIA)  # real worker processes
    theirs = sk.GridSearchCV(Ridge(), grid, **kw).fit(X_DIA, Y_DIA)
    same_results(ours.cv_results_, theirs.cv_results_)
    assert ours.multimetric_ and ours.best_index_ == theirs.best_index_
    assert sorted(ours.scorer_) == ["mae", "r2"]
    assert ours.refit_time_ >= 0


def test_randomized_search_samples_scikit_learns_candidates():
    dists = {"C": stats.loguniform(1e-2, 1e2), "kernel": ["linear", "rbf"], "gamma": stats.uniform(0.01, 1)}
    kw = dict(n_iter=6, cv=3, random_state=7)
    ours = RandomizedSearchCV(SVC(), dists, backend="inprocess", **kw).fit(X_IRIS, Y_IRIS)
    theirs = sk.RandomizedSearchCV(SVC(), dists, **kw).fit(X_IRIS, Y_IRIS)
    same_results(ours.cv_results_, theirs.cv_results_)
    assert ours.best_params_ == theirs.best_params_


def test_randomized_search_takes_rung_domains():
    dists = {"C": rung.loguniform(1e-2, 1e2), "kernel": ["linear", "rbf"]}
    first = RandomizedSearchCV(SVC(), dists, n_iter=4, cv=3, random_state=1, backend="inprocess").fit(X_IRIS, Y_IRIS)
    again = RandomizedSearchCV(SVC(), dists, n_iter=4, cv=3, random_state=1, backend="inprocess").fit(X_IRIS, Y_IRIS)
    values = [p["C"] for p in first.cv_results_["params"]]
    assert values == [p["C"] for p in again.cv_results_["params"]]  # seeded through ParameterSampler
    assert all(1e-2 <= v <= 1e2 and isinstance(v, float) for v in values) and len(set(values)) == 4


class Fragile(BaseEstimator, ClassifierMixin):
    """Fails to fit when ``fail`` is true (a deterministic error)."""

    def __init__(self, fail=False):
        self.fail = fail

    def fit(self, X, y):
        if self.fail:
            raise ValueError("this candidate cannot be fitted")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def _warning_texts(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [str(w.message) for w in caught if "fits failed" in str(w.message) or "non-finite" in str(w.message)]


@pytest.mark.parametrize("error_score", [np.nan, 0.0])
def test_failing_fits_follow_error_score(error_score):
    grid = {"fail": [False, True]}
    ours, our_warnings = _warning_texts(lambda: GridSearchCV(Fragile(), grid, cv=3, error_score=error_score,
                                                             backend="inprocess").fit(X_IRIS, Y_IRIS))
    theirs, their_warnings = _warning_texts(lambda: sk.GridSearchCV(Fragile(), grid, cv=3,
                                                                    error_score=error_score).fit(X_IRIS, Y_IRIS))
    same_results(ours.cv_results_, theirs.cv_results_)
    assert [_strip_paths(t) for t in our_warnings] == [_strip_paths(t) for t in their_warnings]
    assert "3 fits failed out of a total of 6" in our_warnings[0]
    assert "this candidate cannot be fitted" in our_warnings[0]


def _strip_paths(text: str) -> str:
    return re.sub(r'File ".*?", line \d+, in .*?\n(.*\n)?', "", text)


def test_error_score_raise_raises_the_fits_own_exception():
    search = GridSearchCV(Fragile(), {"fail": [False, True]}, cv=3, error_score="raise", backend="inprocess")
    with pytest.raises(ValueError, match="this candidate cannot be fitted"):
        search.fit(X_IRIS, Y_IRIS)


def test_error_score_raise_from_a_worker_process():
    search = GridSearchCV(Fragile(), {"fail": [True]}, cv=2, error_score="raise", n_jobs=2)
    with pytest.raises(ValueError, match="this candidate cannot be fitted"):
        search.fit(X_IRIS, Y_IRIS)


def _normalized(text: str) -> list[str]:
    return [re.sub(r"time=\s*[\d.]+\w*", "time=T", line) for line in text.splitlines()]


@pytest.mark.parametrize("verbose", [1, 2, 3])
def test_verbose_lines_are_scikit_learns(verbose):
    grid = {"C": [0.1, 1.0], "kernel": ["linear", "rbf"]}
    kw = dict(cv=3, verbose=verbose, return_train_score=verbose == 3)
    ours, theirs = io.StringIO(), io.StringIO()
    with redirect_stdout(ours):
        GridSearchCV(SVC(), grid, backend="inprocess", **kw).fit(X_IRIS, Y_IRIS)
    with redirect_stdout(theirs):
        sk.GridSearchCV(SVC(), grid, **kw).fit(X_IRIS, Y_IRIS)
    assert _normalized(ours.getvalue()) == _normalized(theirs.getvalue())
    assert ours.getvalue().splitlines()[0] == "Fitting 3 folds for each of 4 candidates, totalling 12 fits"


def test_delegation_clone_pickle_and_classes():
    search = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, cv=3, backend="inprocess",
                          experiment=None).fit(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(search.classes_, [0, 1, 2])
    assert search.predict_proba(X_IRIS).shape == (150, 3)
    assert search.decision_function(X_IRIS).shape == (150, 3)
    copy = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(copy.predict(X_IRIS), search.predict(X_IRIS))
    fresh = clone(search)
    assert fresh.get_params()["backend"] == "inprocess" and not hasattr(fresh, "cv_results_")
    assert isinstance(search, sk.GridSearchCV)  # code that checks for scikit-learn's class accepts it


def test_inside_a_pipeline_and_as_the_estimator_of_another_search():
    inner = GridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=2, backend="inprocess")
    pipe = Pipeline([("scale", StandardScaler()), ("search", inner)]).fit(X_DIA, Y_DIA)
    theirs = Pipeline([("scale", StandardScaler()), ("search", sk.GridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=2))])
    theirs.fit(X_DIA, Y_DIA)
    assert pipe.named_steps["search"].best_params_ == theirs.named_steps["search"].best_params_
    np.testing.assert_allclose(pipe.predict(X_DIA), theirs.predict(X_DIA), rtol=1e-12)
    outer = GridSearchCV(inner, {"cv": [2, 3]}, cv=2, backend="inprocess").fit(X_DIA, Y_DIA)
    assert outer.best_params_["cv"] in (2, 3) and hasattr(outer.best_estimator_, "best_params_")
    scores = cross_val_score(inner, X_DIA, Y_DIA, cv=KFold(3))
    expected = cross_val_score(sk.GridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=2), X_DIA, Y_DIA, cv=KFold(3))
    np.testing.assert_allclose(scores, expected, rtol=1e-12)


class ConfigProbe(BaseEstimator, ClassifierMixin):
    """Scores 1 when the fold is fitted under transform_output='pandas', else 0."""

    def fit(self, X, y):
        import sklearn

        self.pandas_ = sklearn.get_config()["transform_output"] == "pandas"
        self.classes_ = np.unique(y)
        return self

    def score(self, X, y):
        return float(self.pandas_)


def test_set_output_and_the_global_config_reach_the_workers():
    X, y = make_classification(60, 5, random_state=0)
    with config_context(transform_output="pandas"):
        probe = GridSearchCV(ConfigProbe(), {}, cv=2, n_jobs=2).fit(X, y)
    assert probe.cv_results_["mean_test_score"].tolist() == [1.0]
    pipe = Pipeline([("scale", StandardScaler()), ("pca", PCA(2))]).set_output(transform="pandas")
    search = GridSearchCV(pipe, {"pca__n_components": [1, 2]}, scoring=lambda est, X, y=None: -float(est[-1].n_components),
                          cv=2, backend="inprocess").fit(X)
    out = search.transform(X)
    assert list(out.columns) == ["pca0"] and search.best_params_ == {"pca__n_components": 1}


def test_unknown_constructor_value_is_refused_before_any_fit():
    with pytest.raises(ValueError, match="backend"):
        GridSearchCV(Ridge(), {"alpha": [1.0]}, backend=3).fit(X_DIA, Y_DIA)
    with pytest.warns(UserWarning, match="pre_dispatch has no effect"):
        GridSearchCV(Ridge(), {"alpha": [1.0]}, pre_dispatch=4, cv=2, backend="inprocess").fit(X_DIA, Y_DIA)
