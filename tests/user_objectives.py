"""Seed-style objectives for tests/test_user_*.py, importable by worker processes (light:
numpy and rung only, so a worker starts fast)."""

import math

import numpy as np

import rung


def d2l_objective(learning_rate, batch_size, max_epochs=3):
    """d2l's form: hyperparameters as arguments, the budget as a keyword with a default."""
    for epoch in range(1, max_epochs + 1):
        rung.report(epoch=epoch, validation_error=np.array([(math.log10(learning_rate) + 1) ** 2 + 1 / batch_size / epoch]))


def syne_tune_function(**config):
    """Syne Tune's form: every hyperparameter as a keyword; returns a 0-d array."""
    return np.array((config["x"] - 0.3) ** 2 + config["width"] / 1000)


def numpy_numbers(config):
    """Reports numpy scalars and returns a one-element array."""
    rung.report(epoch=np.int64(1), loss=np.float32(config["x"]), accuracy=np.array(0.5))
    return {"loss": np.array([config["x"] / 2])}
