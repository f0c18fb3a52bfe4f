"""rung: hyperparameter optimization for Python.

Describe a config space, hand rung an objective, and it searches for the best config with
random, grid or model-based search, runs trials in parallel and stops bad ones early.

>>> import rung
>>> space = {"lr": rung.loguniform(1e-4, 1e-1), "layers": rung.randint(1, 4)}
>>> result = rung.Tuner(objective, space, metric="loss", mode="min", max_trials=50).run()
"""

from . import backends, schedulers, searchers, space, storage
from ._checkpoint import load_checkpoint, save_checkpoint
from ._history import load
from ._reporting import TrialPaused, TrialStopped, checkpoint_dir, report, trial_dir
from ._result import TuningResult
from ._trial import Trial, TrialStatus
from ._tuner import Tuner
from .space import (
    Space,
    SpaceError,
    choice,
    loguniform,
    lognormal,
    normal,
    qloguniform,
    qlognormal,
    qnormal,
    quniform,
    randint,
    uniform,
)

__version__ = "0.1.0"

__all__ = [
    "Space",
    "SpaceError",
    "Trial",
    "TrialPaused",
    "TrialStatus",
    "TrialStopped",
    "Tuner",
    "TuningResult",
    "backends",
    "checkpoint_dir",
    "choice",
    "loguniform",
    "lognormal",
    "normal",
    "qloguniform",
    "qlognormal",
    "qnormal",
    "quniform",
    "randint",
    "report",
    "load",
    "load_checkpoint",
    "save_checkpoint",
    "schedulers",
    "storage",
    "searchers",
    "space",
    "trial_dir",
    "uniform",
]
