"""A real tuning experiment: an MLP classifier on scikit-learn's digits, 2 worker processes.

Each trial trains for up to 27 epochs and reports its validation error after every epoch.
ASHA (asynchronous successive halving, stopping variant) compares trials at epochs 1, 3, 9
and 27 and stops those outside the top third of what each rung has seen, so most of the
compute goes to promising configs. rung keeps both workers busy, shows live progress,
records everything in the default store ($RUNG_HOME/rung.db), prints the best config and
saves a metric-per-rung plot.
Run with ``make demo`` (or ``python examples/demo.py`` once rung is installed).
"""

import json
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

import rung

EPOCHS = 27


def train_mlp(config):
    """Train on 80% of digits, report validation error per epoch (the test set is never used)."""
    X, y = load_digits(return_X_y=True)
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    X_train, X_valid = scaler.transform(X_train), scaler.transform(X_valid)
    layers = [config["units_1"]] + ([config["units_2"]] if config["num_layers"] >= 2 else [])
    model = MLPClassifier(
        hidden_layer_sizes=tuple(layers),
        activation=config["activation"],
        alpha=config["alpha"],
        learning_rate_init=config["learning_rate"],
        batch_size=config["batch_size"],
        random_state=0,
    )
    classes = np.unique(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in range(1, EPOCHS + 1):
            model.partial_fit(X_train, y_train, classes=classes)
            rung.report(epoch=epoch, validation_error=1.0 - model.score(X_valid, y_valid))


SPACE = {
    "learning_rate": rung.loguniform(1e-4, 1e-1),
    "alpha": rung.loguniform(1e-6, 1e-1),
    "batch_size": rung.choice([16, 32, 64, 128]),
    "activation": rung.choice(["relu", "tanh", "logistic"]),
    "num_layers": rung.randint(1, 2),
    "units_1": rung.qloguniform(16, 256, 16),
    "units_2": rung.qloguniform(16, 256, 16).when("num_layers", ">=", 2),
}


if __name__ == "__main__":
    tuner = rung.Tuner(
        train_mlp,
        SPACE,
        metric="validation_error",
        mode="min",
        searcher=rung.searchers.Random(SPACE, metric="validation_error", seed=0,
                                       points_to_evaluate=[{"learning_rate": 1e-3, "alpha": 1e-4}]),
        scheduler=rung.schedulers.ASHA("epoch", min_resource=1, max_resource=EPOCHS, reduction_factor=3),
        n_workers=2,
        max_trials=60,
        seed=0,
        experiment=f"demo-digits-mlp-{datetime.now():%Y%m%d-%H%M%S}",
    )
    result = tuner.run()
    trials = result.trials
    epochs = int(result.reports.groupby("trial_id")["epoch"].max().sum())
    print(f"best validation error: {result.best_value:.4f} (trial {result.best_trial.trial_id})")
    print("best config:")
    print(json.dumps(result.best_config, indent=2))
    print(f"{len(trials)} trials: {result.count('completed')} ran all {EPOCHS} epochs, "
          f"{result.count('stopped')} stopped early by ASHA; {epochs} epochs in all "
          f"({epochs / (len(trials) * EPOCHS):.0%} of running every trial to the end)")
    print(f"time deciding: {result.decision_time * 1e3:.1f} ms of {result.wallclock:.1f} s wall-clock; "
          f"time in trials: {result.trial_time:.1f} s over {tuner.n_workers} workers")
    plot = result.plot_metric_per_rung(Path(tuner.workdir) / "metric_per_rung.png", levels=[1, 3, 9, 27])
    print(f"metric per rung: {plot}")
    print(f"stored as experiment {result.experiment!r}; reload with rung.load({result.experiment!r})")
