"""The MLP on scikit-learn's digits that examples/digits.yaml tunes (``function: digits_mlp:train_mlp``).

Each trial trains scikit-learn's MLPClassifier for up to 27 epochs on 80% of the digits and
reports its validation error after every epoch (the test set is never used).
"""

import warnings

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

