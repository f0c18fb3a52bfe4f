"""Real single-fidelity problems: the Bayesmark scikit-learn problems on today's scikit-learn.

Bayesmark (Uber, 2019) tunes nine scikit-learn models on small data sets that ship with
scikit-learn, scoring each config by 5-fold cross-validation. Re-created here from its
documented setup (facts, not code):

- Data: ``load_iris``, ``load_wine``, ``load_breast_cancer`` ("breast"), ``load_digits``
  (classification) and ``load_diabetes`` (regression), features as loaded (no scaling), split
  80/20 by ``train_test_split(test_size=0.2, shuffle=True, random_state=0)``; the CV runs on
  the 80 % part with ``cross_val_score(cv=5)`` (stratified folds for classifiers). Bayesmark
  also used ``load_boston``, which scikit-learn removed in 1.2 (ethical problems with the
  data): it is left out.
- Metrics (Bayesmark's ``acc``/``nll`` for classification, ``mse``/``mae`` for regression),
  all losses, minimized: ``cv_error`` = 1 - mean accuracy (Bayesmark reports -accuracy; the
  two differ by the constant 1, so normalized scores and rankings are identical),
  ``cv_nll`` = mean log loss, ``cv_mse``, ``cv_mae``.
- Models and search spaces (Bayesmark's ``sklearn_funcs``); fixed arguments in brackets,
  "log" for a log-uniform range, ints marked, everything else uniform:

  - ``dt``: DecisionTree [max_leaf_nodes=None]: max_depth int 1-15, min_samples_split
    0.01-0.99, min_samples_leaf 0.01-0.49, min_weight_fraction_leaf 0.01-0.49,
    max_features 0.01-0.99, min_impurity_decrease 0-0.5.
  - ``rf``: RandomForest [n_estimators=10, max_leaf_nodes=None]: the six of ``dt``.
  - ``mlp-adam``: MLP [solver=adam, early_stopping]: hidden_layer_sizes int 50-200, alpha
    1e-5-10 log, batch_size int 10-250, learning_rate_init 1e-5-0.1 log, tol 1e-5-0.1 log,
    validation_fraction 0.1-0.9, beta_1 0.5-0.99, beta_2 0.9-0.999999, epsilon 1e-9-1e-6 log.
  - ``mlp-sgd``: MLP [solver=sgd, early_stopping, learning_rate=invscaling,
    nesterovs_momentum; tanh for regression]: the first six of ``mlp-adam``, power_t
    0.1-0.9, momentum 0.001-0.999.
  - ``svm``: SVC [rbf, probability=True] / SVR [rbf]: C 1-1000 log, gamma 1e-4-1e-3 log,
    tol 1e-5-0.1 log.
  - ``ada``: AdaBoost: n_estimators int 10-100, learning_rate 1e-4-10 log.
  - ``knn``: KNeighbors: n_neighbors int 1-25, p int 1-4.
  - ``lasso``: classification: LogisticRegression [L1, liblinear, one-vs-rest] with C
    1e-2-100 log, intercept_scaling 1e-2-100 log; regression: Lasso with alpha 1e-2-100
    log, fit_intercept bool, normalize bool, max_iter int 10-5000 log, tol 1e-5-0.1 log,
    positive bool.
  - ``linear``: classification: LogisticRegression [L2, liblinear, one-vs-rest], same space
    as ``lasso``; regression: Ridge with alpha 1e-2-100 log, fit_intercept bool, normalize
    bool, max_iter int 10-5000 log, tol 1e-4-0.1 log.

Where today's scikit-learn differs, the old behaviour is rebuilt or the difference stated:

- Bayesmark's "logit" scale (uniform in log(p / (1 - p))) has no rung counterpart: those
  parameters are uniform on their range here. This mostly matters for ``beta_2``, whose
  values near 1 are rarer than under Bayesmark's warping.
- ``normalize=True`` (removed from linear models in 1.2) is rebuilt as a pipeline that centres
  each column and divides it by its L2 norm, which is what the old option did before the fit
  (predictions are the same); as before, it only acts when ``fit_intercept`` is True.
- ``multi_class="ovr"`` (removed) is ``OneVsRestClassifier``; ``penalty`` (deprecated) is
  ``l1_ratio`` 1 or 0 with the liblinear solver.
- AdaBoost's default ``algorithm="SAMME.R"`` is gone (removed in 1.6): SAMME is used.
- Every estimator that takes ``random_state`` gets the problem's ``seed`` (Bayesmark left it
  unset), so an objective value is reproducible; vary ``seed`` to see the noise.

Cost: measured seconds of the cross-validation (the step really trains). Optimum: unknown
(``None``); the benchmark's normalized score uses the best value any method found.
Names: ``bayesmark-<model>-<dataset>-<metric>``, e.g. ``bayesmark-svm-wine-acc``.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

import rung

from ._base import Problem, Step

MODELS = ("dt", "mlp-adam", "mlp-sgd", "rf", "svm", "ada", "knn", "lasso", "linear")
CLASSIFICATION = ("iris", "wine", "breast", "digits")
REGRESSION = ("diabetes",)
METRICS = {"clf": ("acc", "nll"), "reg": ("mse", "mae")}
LOSS_NAMES = {"acc": "cv_error", "nll": "cv_nll", "mse": "cv_mse", "mae": "cv_mae"}
SCORERS = {"acc": "accuracy", "nll": "neg_log_loss", "mse": "neg_mean_squared_error",
           "mae": "neg_mean_absolute_error"}
CV_FOLDS = 5


def _tree_space() -> dict[str, Any]:
    return {
        "max_depth": rung.randint(1, 15),
        "min_samples_split": rung.uniform(0.01, 0.99),
        "min_samples_leaf": rung.uniform(0.01, 0.49),
        "min_weight_fraction_leaf": rung.uniform(0.01, 0.49),
        "max_features": rung.uniform(0.01, 0.99),
        "min_impurity_decrease": rung.uniform(0.0, 0.5),
    }


def _mlp_common() -> dict[str, Any]:
    return {
        "hidden_layer_sizes": rung.randint(50, 200),
        "alpha": rung.loguniform(1e-5, 1e1),
        "batch_size": rung.randint(10, 250),
        "learning_rate_init": rung.loguniform(1e-5, 1e-1),
        "tol": rung.loguniform(1e-5, 1e-1),
        "validation_fraction": rung.uniform(0.1, 0.9),
    }


def search_space(model: str, task: str) -> dict[str, Any]:
    """Bayesmark's space for ``model`` on a ``task`` of type "clf" or "reg"."""
    if model in ("dt", "rf"):
        return _tree_space()
    if model == "mlp-adam":
        return {**_mlp_common(), "beta_1": rung.uniform(0.5, 0.99),
                "beta_2": rung.uniform(0.9, 1.0 - 1e-6), "epsilon": rung.loguniform(1e-9, 1e-6)}
    if model == "mlp-sgd":
        space = _mlp_common()
        space["power_t"] = rung.uniform(0.1, 0.9)
        space["momentum"] = rung.uniform(0.001, 0.999)
        return space
    if model == "svm":
        return {"C": rung.loguniform(1.0, 1e3), "gamma": rung.loguniform(1e-4, 1e-3),
                "tol": rung.loguniform(1e-5, 1e-1)}
    if model == "ada":
        return {"n_estimators": rung.randint(10, 100), "learning_rate": rung.loguniform(1e-4, 1e1)}
    if model == "knn":
        return {"n_neighbors": rung.randint(1, 25), "p": rung.randint(1, 4)}
    if model in ("lasso", "linear") and task == "clf":
        return {"C": rung.loguniform(1e-2, 1e2), "intercept_scaling": rung.loguniform(1e-2, 1e2)}
    if model in ("lasso", "linear"):
        space = {"alpha": rung.loguniform(1e-2, 1e2), "fit_intercept": rung.choice([False, True]),
                 "normalize": rung.choice([False, True]),
                 "max_iter": rung.randint(10, 5000, log=True),
                 "tol": rung.loguniform(1e-5 if model == "lasso" else 1e-4, 1e-1)}
        if model == "lasso":
            space["positive"] = rung.choice([False, True])
        return space
    raise ValueError(f"unknown Bayesmark model {model!r} (known: {', '.join(MODELS)})")


# Defaults: scikit-learn's own where they fall in the range, else a mid value.
DEFAULTS: dict[str, dict[str, Any]] = {
    "dt": {"max_depth": 8, "min_samples_split": 0.05, "min_samples_leaf": 0.02,
           "min_weight_fraction_leaf": 0.01, "max_features": 0.99, "min_impurity_decrease": 0.0},
    "mlp-adam": {"hidden_layer_sizes": 100, "alpha": 1e-4, "batch_size": 200,
                 "learning_rate_init": 1e-3, "tol": 1e-4, "validation_fraction": 0.1,
                 "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
    "mlp-sgd": {"hidden_layer_sizes": 100, "alpha": 1e-4, "batch_size": 200,
                "learning_rate_init": 1e-3, "tol": 1e-4, "validation_fraction": 0.1,
                "power_t": 0.5, "momentum": 0.9},
    "svm": {"C": 1.0, "gamma": 1e-3, "tol": 1e-3},
    "ada": {"n_estimators": 50, "learning_rate": 1.0},
    "knn": {"n_neighbors": 5, "p": 2},
    "clf-linear": {"C": 1.0, "intercept_scaling": 1.0},
    "reg-lasso": {"alpha": 1.0, "fit_intercept": True, "normalize": False, "max_iter": 1000,
                  "tol": 1e-4, "positive": False},
    "reg-linear": {"alpha": 1.0, "fit_intercept": True, "normalize": False, "max_iter": 1000,
                   "tol": 1e-3},
}
DEFAULTS["rf"] = DEFAULTS["dt"]


@functools.lru_cache(maxsize=None)
def load_data(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The 80 % training part of a scikit-learn data set, split as Bayesmark does (cached)."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loaders = {"iris": datasets.load_iris, "wine": datasets.load_wine,
               "breast": datasets.load_breast_cancer, "digits": datasets.load_digits,
               "diabetes": datasets.load_diabetes}
    X, y = loaders[dataset](return_X_y=True)
    X_train, _, y_train, _ = train_test_split(
        np.asarray(X, dtype=float), y, test_size=0.2, random_state=0, shuffle=True)
    return X_train, y_train


def _centered_l2_scaler() -> Any:
    """A transformer doing what ``normalize=True`` did: centre, divide by column L2 norm."""
    from sklearn.base import BaseEstimator, TransformerMixin

    class CenteredL2Scaler(TransformerMixin, BaseEstimator):
        def fit(self, X: np.ndarray, y: Any = None) -> CenteredL2Scaler:
            self.mean_ = X.mean(axis=0)
            norms = np.sqrt(((X - self.mean_) ** 2).sum(axis=0))
            self.scale_ = np.where(norms > 0, norms, 1.0)
            return self

        def transform(self, X: np.ndarray) -> np.ndarray:
            return (X - self.mean_) / self.scale_

    return CenteredL2Scaler()


def build_estimator(model: str, task: str, params: Mapping[str, Any], seed: int) -> Any:
    """The scikit-learn estimator for ``model`` with Bayesmark's fixed arguments."""
    from sklearn import ensemble, linear_model, neighbors, neural_network, svm, tree
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    clf = task == "clf"
    p = dict(params)
    if model == "dt":
        cls = tree.DecisionTreeClassifier if clf else tree.DecisionTreeRegressor
        return cls(max_leaf_nodes=None, random_state=seed, **p)
    if model == "rf":
        cls = ensemble.RandomForestClassifier if clf else ensemble.RandomForestRegressor
        return cls(n_estimators=10, max_leaf_nodes=None, random_state=seed, **p)
    if model in ("mlp-adam", "mlp-sgd"):
        cls = neural_network.MLPClassifier if clf else neural_network.MLPRegressor
        fixed: dict[str, Any] = {"solver": "adam", "early_stopping": True}
        if model == "mlp-sgd":
            fixed = {"solver": "sgd", "early_stopping": True, "learning_rate": "invscaling",
                     "nesterovs_momentum": True}
            if not clf:
                fixed["activation"] = "tanh"  # Bayesmark: regression often diverges with relu
        return cls(random_state=seed, **fixed, **p)
    if model == "svm":
        if clf:
            return svm.SVC(kernel="rbf", probability=True, random_state=seed, **p)
        return svm.SVR(kernel="rbf", **p)
    if model == "ada":
        cls = ensemble.AdaBoostClassifier if clf else ensemble.AdaBoostRegressor
        return cls(random_state=seed, **p)
    if model == "knn":
        cls = neighbors.KNeighborsClassifier if clf else neighbors.KNeighborsRegressor
        return cls(**p)
    if model in ("lasso", "linear") and clf:
        l1_ratio = 1.0 if model == "lasso" else 0.0
        return OneVsRestClassifier(linear_model.LogisticRegression(
            l1_ratio=l1_ratio, solver="liblinear", fit_intercept=True, random_state=seed, **p))
    if model in ("lasso", "linear"):
        normalize = p.pop("normalize")
        if model == "lasso":
            estimator = linear_model.Lasso(random_state=seed, **p)
        else:
            estimator = linear_model.Ridge(solver="auto", **p)
        if normalize and p["fit_intercept"]:
            return make_pipeline(_centered_l2_scaler(), estimator)
        return estimator
    raise ValueError(f"unknown Bayesmark model {model!r}")


class BayesmarkProblem(Problem):
    """One (model, dataset, metric) of Bayesmark, scored by 5-fold cross-validation."""

    kind = "real"

    def __init__(self, model: str, dataset: str, metric: str, seed: int = 0) -> None:
        task = "reg" if dataset in REGRESSION else "clf"
        if dataset not in CLASSIFICATION + REGRESSION:
            raise ValueError(f"unknown dataset {dataset!r}")
        if metric not in METRICS[task]:
            raise ValueError(f"metric {metric!r} does not fit a {task} data set")
        search_space(model, task)  # checks the model name
        self.model = model
        self.dataset = dataset
        self.task = task
        self.bayesmark_metric = metric
        self.seed = int(seed)
        super().__init__(
            name=f"bayesmark-{model}-{dataset}-{metric}",
            metric=LOSS_NAMES[metric],
            mode="min",
            fidelity=None,
            levels=(1,),
            optimum=None,
            optimum_note="unknown; scores use the best value any method found",
            cost_note="measured seconds of the 5-fold cross-validation",
        )

    def _make_space(self) -> dict[str, Any]:
        return search_space(self.model, self.task)

    def default_config(self) -> dict[str, Any]:
        key = self.model if self.model not in ("lasso", "linear") else f"{self.task}-{self.model}"
        if key == "clf-lasso":
            key = "clf-linear"
        return self.rung_space().validate(DEFAULTS[key])

    def cross_validate(self, config: Mapping[str, Any]) -> float:
        """The mean cross-validated loss of ``config`` (trains 5 models)."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import cross_val_score

        X, y = load_data(self.dataset)
        estimator = build_estimator(self.model, self.task, config, self.seed)
        with warnings.catch_warnings():
            # Like Bayesmark: odd configs are expected and their warnings are noise.
            for category in (UserWarning, ConvergenceWarning, FutureWarning, RuntimeWarning):
                warnings.simplefilter("ignore", category)
            scores = cross_val_score(estimator, X, y, cv=CV_FOLDS,
                                     scoring=SCORERS[self.bayesmark_metric])
        mean = float(np.mean(scores))
        return 1.0 - mean if self.bayesmark_metric == "acc" else -mean

    def _steps(self, config: dict[str, Any], start_step: int) -> Iterator[Step]:
        if start_step == 0:
            started = time.perf_counter()
            loss = self.cross_validate(config)
            yield time.perf_counter() - started, {self.metric: loss}


def problems() -> dict[str, Callable[[], Problem]]:
    """The registry entries of this family: name to a factory."""
    entries: dict[str, Callable[[], Problem]] = {}
    for dataset in CLASSIFICATION + REGRESSION:
        task = "reg" if dataset in REGRESSION else "clf"
        for model in MODELS:
            for metric in METRICS[task]:
                entries[f"bayesmark-{model}-{dataset}-{metric}"] = functools.partial(
                    BayesmarkProblem, model, dataset, metric)
    return entries
