"""The seed's one-parameter sweep: min_samples_leaf from 1 to 10, training and validation scores.

The seed fitted one forest per value and scored it on one test split; ``rung.sklearn.sweep``
cross-validates each value (scikit-learn's ``validation_curve``, the values spread over the
workers) and returns the mean and spread of the training and validation scores, drawn with
bands of one standard deviation.

    python examples/sklearn_sweep.py [--out sweep.png]
"""

from __future__ import annotations

import argparse

import pandas as pd
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier

from rung.sklearn import sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="sweep.png", help="where to save the plot")
    args = parser.parse_args()

    X, y = load_wine(return_X_y=True)
    table = sweep(RandomForestClassifier(n_estimators=100, random_state=0), "min_samples_leaf", range(1, 11), X, y,
                  cv=5, scoring="accuracy", plot=args.out)
    with pd.option_context("display.precision", 3, "display.width", 120, "display.max_columns", 8):
        print(table[["mean_train_score", "std_train_score", "mean_validation_score", "std_validation_score"]])
    best = table["mean_validation_score"].idxmax()
    print(f"best min_samples_leaf: {best} (validation accuracy {table.loc[best, 'mean_validation_score']:.3f}); "
          f"plot saved to {args.out}")


if __name__ == "__main__":
    main()
