"""rung.torch: tune a PyTorch network with a few lines (the ``rung[torch]`` extra).

>>> import rung, rung.torch
>>> objective = rung.torch.TrainingObjective("lenet", "digits")
>>> space = rung.torch.default_space("lenet", epochs=9)
>>> result = rung.Tuner(objective, space, metric="validation_error", mode="min",
...                     scheduler=rung.schedulers.ASHA("epoch", max_resource=9), max_trials=40).run()
>>> objective.evaluate_test(result.best_config, test_data=(X_test, y_test))   # once

* :class:`TrainingObjective`: the ready objective (models, data, validation split, every knob
  a config entry, exact pause/resume, data once per worker, devices);
* :func:`default_space`: its search space, to narrow;
* :func:`lr_range_test`, :func:`momentum_range_test`: Leslie Smith's range tests, whose
  proposals plug into the space (``lr_range=``) or a one-cycle / cyclic schedule;
* :func:`warm`: any torch function objective, with workers that pay torch's first-use
  costs once (the ready objective does this itself);
* :mod:`rung.torch.datasets`: digits, MNIST-1D and Fashion-MNIST from its IDX files, offline.

torch is imported here, so import this package only where torch is installed.
"""

from __future__ import annotations

from . import datasets
from ._config import DEFAULTS, ConfigError
from ._early_stopping import EarlyStopping
from ._layers import ACTIVATIONS, INITS
from ._losses import LOSSES
from ._models import MLP, MODELS, LeNet, SoftmaxRegression, build_model
from ._objective import TrainingObjective, pick_device
from ._optimizers import OPTIMIZERS, build_optimizer, optimizer_arguments
from ._range_test import MomentumTestResult, RangeTestResult, lr_range_test, momentum_range_test
from ._schedules import SCHEDULES, build_schedule
from ._space import default_space
from ._warm import WarmObjective, warm, warm_torch

__all__ = [
    "ACTIVATIONS",
    "ConfigError",
    "DEFAULTS",
    "EarlyStopping",
    "INITS",
    "LOSSES",
    "LeNet",
    "MLP",
    "MODELS",
    "MomentumTestResult",
    "OPTIMIZERS",
    "RangeTestResult",
    "SCHEDULES",
    "SoftmaxRegression",
    "TrainingObjective",
    "WarmObjective",
    "build_model",
    "build_optimizer",
    "build_schedule",
    "datasets",
    "default_space",
    "lr_range_test",
    "momentum_range_test",
    "optimizer_arguments",
    "pick_device",
    "warm",
    "warm_torch",
]
