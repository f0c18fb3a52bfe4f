"""The one-parameter sweep: training and validation scores of an estimator as one of its
parameters varies, with their spread over the folds, and the plot with spread bands.

scikit-learn's ``validation_curve`` computes the scores; each value of the parameter is
one rung trial (values run in parallel on the workers, and a named experiment is stored
and resumable like the searches).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np

import rung

from ._experiment import content_hash, run_experiment
from ._fits import append_fit

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes


@dataclass
class SweepFits:
    """Objective of a sweep: one trial = ``validation_curve`` at one value of the parameter."""

    estimator: Any
    X: Any
    y: Any
    param_name: str
    values: list[Any]
    splits: list[tuple[np.ndarray, np.ndarray]]
    scoring: Any
    params: dict[str, Any]
    durable: bool
    config: dict[str, Any]

    def __call__(self, config: Mapping[str, Any]) -> dict[str, float]:
        from sklearn import config_context
        from sklearn.model_selection import validation_curve

        index = int(config["value"])
        with config_context(**self.config):
            train, test = validation_curve(
                self.estimator, self.X, self.y, param_name=self.param_name, param_range=[self.values[index]],
                cv=self.splits, scoring=self.scoring, n_jobs=1, error_score=np.nan, params=self.params or None,
            )
        record = {"index": index, "split": 0, "train": [float(v) for v in train[0]],
                  "test": [float(v) for v in test[0]]}
        append_fit(record, durable=self.durable)
        return {"score": float(np.mean(test[0])), "train_score": float(np.mean(train[0]))}


def sweep(estimator: Any, param_name: str, param_range: Iterable[Any], X: Any, y: Any = None, *, cv: Any = 5,
          scoring: Any = None, groups: Any = None, params: Mapping[str, Any] | None = None,
          n_jobs: int | None = -1, experiment: str | None = None, storage: Any = None,
          backend: Any = "process", plot: str | None = None) -> "pd.DataFrame":
    """Training and validation scores of ``estimator`` for each value of ``param_name``.

    Returns a pandas DataFrame indexed by the values (index name ``param_name``) with
    ``mean_train_score``, ``std_train_score``, ``mean_validation_score``,
    ``std_validation_score`` and the per-fold scores (``split<k>_train_score``,
    ``split<k>_validation_score``). ``cv`` and ``scoring`` are scikit-learn's
    (``check_cv``, ``check_scoring``); a value whose fits fail gets NaN scores (and
    scikit-learn's warning). ``n_jobs``: workers (-1, the default: every core).
    ``experiment``/``storage``/``backend`` as in :class:`rung.sklearn.GridSearchCV`.
    ``plot``: also save :func:`plot_sweep` of the table to this path.

    >>> table = sweep(RandomForestClassifier(), "min_samples_leaf", range(1, 11), X, y, cv=5)
    """
    import pandas as pd
    from sklearn import get_config
    from sklearn.base import clone, is_classifier
    from sklearn.model_selection import check_cv
    from sklearn.utils.validation import indexable

    if not isinstance(param_name, str) or param_name not in estimator.get_params():
        raise ValueError(f"param_name={param_name!r} is not a parameter of {type(estimator).__name__}")
    values = list(param_range)
    if not values:
        raise ValueError("param_range is empty")
    X, y, groups = indexable(X, y, groups)
    splitter = check_cv(cv, y, classifier=is_classifier(estimator))
    splits = [(np.asarray(a), np.asarray(b)) for a, b in splitter.split(X, y, groups)]
    objective = SweepFits(clone(estimator), X, y, param_name, values, splits, scoring, dict(params or {}),
                          durable=experiment is not None, config=get_config())
    space: dict[str, Any] = {"value": rung.choice(list(range(len(values))))}
    if experiment is not None:
        space["fingerprint"] = rung.constant(content_hash((X, y, splits, estimator, param_name, values, scoring)))
    run = run_experiment(objective, space, n_trials=len(values), n_jobs=n_jobs, backend=backend,
                         experiment=experiment, storage=storage, searcher="grid")
    n_splits = len(splits)
    train = np.full((len(values), n_splits), np.nan)
    test = np.full((len(values), n_splits), np.nan)
    for fits in run.fits.values():
        for record in fits:
            train[record["index"]], test[record["index"]] = record["train"], record["test"]
    table = pd.DataFrame({
        "mean_train_score": train.mean(axis=1), "std_train_score": train.std(axis=1),
        "mean_validation_score": test.mean(axis=1), "std_validation_score": test.std(axis=1),
        **{f"split{k}_train_score": train[:, k] for k in range(n_splits)},
        **{f"split{k}_validation_score": test[:, k] for k in range(n_splits)},
    }, index=pd.Index(values, name=param_name))
    if plot is not None:
        import matplotlib.pyplot as plt

        figure, ax = plt.subplots(figsize=(6.4, 4.2))
        plot_sweep(table, ax)
        figure.savefig(plot, dpi=120, bbox_inches="tight")
        plt.close(figure)
    return table


def plot_sweep(table: "pd.DataFrame", ax: "Axes | None" = None, *, log: bool = False,
               ylabel: str = "score") -> "Axes":
    """Mean training and validation scores against the parameter, each with a band of one
    standard deviation over the folds (the table :func:`sweep` returns)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.2))
    index = list(table.index)
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in index)
    x = np.asarray(index, dtype=float) if numeric else np.arange(len(index), dtype=float)
    for part, label, color in (("train", "training", "tab:blue"), ("validation", "validation", "tab:orange")):
        mean = table[f"mean_{part}_score"].to_numpy(dtype=float)
        std = table[f"std_{part}_score"].to_numpy(dtype=float)
        ax.plot(x, mean, marker="o", color=color, label=f"{label} score")
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
    if not numeric:
        ax.set_xticks(x, [str(v) for v in index])
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(str(table.index.name))
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return ax
