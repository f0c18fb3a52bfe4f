"""The seed's random-forest grid search, with rung.sklearn in place of scikit-learn's class.

The only change from scikit-learn's version is the import: the same grid (smaller by
default; ``--full`` runs the seed's 1200 candidates), the same call, the same
``best_params_`` / ``best_score_``; the fits run on rung's worker processes and, with
``--experiment NAME``, are recorded in rung's store (run it again with the same name after
a crash, or a Ctrl-C, and it continues where it stopped; `rung show NAME` lists the fits).

    python examples/sklearn_grid_search.py [--full] [--experiment rf-grid]

The seed's grid has ``min_samples_split`` 1, which scikit-learn refuses (it must be at
least 2): those fits fail and get ``error_score`` (NaN), with scikit-learn's warning, as
they would with scikit-learn's GridSearchCV.
"""

from __future__ import annotations

import argparse
import warnings

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import train_test_split

from rung.sklearn import GridSearchCV  # was: from sklearn.model_selection import GridSearchCV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the seed's whole grid (6000 fits)")
    parser.add_argument("--experiment", default=None, help="record the search under this name")
    args = parser.parse_args()

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    if args.full:  # the seed's grid, as written
        rf_params = {"bootstrap": [True], "max_depth": [80, 90, 100, 110], "max_features": [2, 3],
                     "min_samples_leaf": range(1, 11), "min_samples_split": range(1, 15, 5),
                     "n_estimators": [100, 200, 300, 500, 1000]}
    else:  # the same parameters, fewer values: 24 candidates, 120 fits
        rf_params = {"bootstrap": [True], "max_depth": [80], "max_features": [2, 3],
                     "min_samples_leaf": [1, 4, 7], "min_samples_split": [1, 6], "n_estimators": [50, 100]}
    rf = RandomForestClassifier(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)  # the min_samples_split=1 fits: see the docstring
        warnings.filterwarnings("ignore", "One or more of the test scores are non-finite", UserWarning)
        rf_gridcv_model = GridSearchCV(estimator=rf, param_grid=rf_params, cv=5, scoring="accuracy", n_jobs=-1,
                                       verbose=1, experiment=args.experiment).fit(X_train, y_train)
    print(rf_gridcv_model.best_params_)
    print("rf gridcv model accuracy score = {}".format(rf_gridcv_model.best_score_))
    print("held-out accuracy of the refitted best model = {:.3f}".format(rf_gridcv_model.score(X_test, y_test)))
    failed = rf_gridcv_model.cv_results_["mean_test_score"] != rf_gridcv_model.cv_results_["mean_test_score"]
    print(f"{int(failed.sum())} of {len(failed)} candidates could not be fitted (min_samples_split=1)")


if __name__ == "__main__":
    main()
