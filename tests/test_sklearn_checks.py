"""scikit-learn's estimator checks on rung's search classes, with the expected failures
scikit-learn declares for its own search estimators (the same list, looked up by the
scikit-learn class each rung class stands in for). In-process backend: the checks fit
hundreds of times on tiny data; the process backend is exercised in test_sklearn_search.
RandomizedSearchCV differs from GridSearchCV only in how it lists candidates (checked
against scikit-learn's in test_sklearn_search), so the checks run on GridSearchCV and
TuneSearchCV to keep the suite fast."""

from __future__ import annotations

import pytest
from sklearn import model_selection as sk
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils._test_common.instance_generator import PER_ESTIMATOR_XFAIL_CHECKS
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

import rung
from rung.sklearn import GridSearchCV, RandomizedSearchCV, TuneSearchCV


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """One BLAS thread in this process (rung's workers get one each already): on a loaded
    2-core machine, OpenBLAS threads busy-waiting made an L-BFGS fit 10x slower."""
    with threadpool_limits(1):
        yield


STANDS_FOR = {GridSearchCV: sk.GridSearchCV, RandomizedSearchCV: sk.RandomizedSearchCV,
              TuneSearchCV: sk.RandomizedSearchCV}


def expected_failures(estimator):
    return dict(PER_ESTIMATOR_XFAIL_CHECKS.get(STANDS_FOR[type(estimator)], {}))


ESTIMATORS = [
    GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2, error_score="raise", backend="inprocess"),
    TuneSearchCV(Ridge(), {"alpha": rung.loguniform(0.1, 1.0)}, searcher="random", n_trials=2, cv=2,
                 error_score="raise", random_state=0, backend="inprocess"),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
