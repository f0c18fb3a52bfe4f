"""The seed's random-forest search again, with TuneSearchCV: model-based and multi-fidelity.

Same interface as the grid search (``fit``, ``best_params_``, ``best_score_``, ``cv_results_``),
but the candidates come from one of rung's searchers over a space with ranges instead of a
grid, and ASHA gives each candidate more trees only while it stays among the best: every
candidate is first scored with 10 trees, the promising ones with 30, the best with 90.

    python examples/sklearn_tune_search.py [--trials 30] [--experiment rf-tune]
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import rung
from rung.sklearn import TuneSearchCV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--experiment", default=None, help="record the search under this name")
    args = parser.parse_args()

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    space = {
        "max_depth": rung.randint(2, 110),
        "max_features": rung.randint(2, 10),
        "min_samples_leaf": rung.randint(1, 10),
        "min_samples_split": rung.randint(2, 14),
        "bootstrap": [True, False],
    }
    search = TuneSearchCV(RandomForestClassifier(random_state=0), space, searcher="auto", scheduler="asha",
                          resource="n_estimators", min_resource=10, max_resource=90, reduction_factor=3,
                          n_trials=args.trials, cv=5, scoring="accuracy", n_jobs=-1, random_state=0, verbose=1,
                          experiment=args.experiment).fit(X_train, y_train)
    results = search.cv_results_
    for level in np.unique(results["n_resources"]):
        print(f"n_estimators={level}: {int((results['n_resources'] == level).sum())} candidates scored")
    print(search.best_params_)
    print("rf tune model accuracy score = {}".format(search.best_score_))
    print("held-out accuracy of the refitted best model = {:.3f}".format(search.score(X_test, y_test)))


if __name__ == "__main__":
    main()
