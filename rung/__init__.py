"""rung: hyperparameter optimization for Python.

Describe a config space, hand rung an objective, and it searches for the best config with
random, grid or model-based search, runs trials in parallel, stops bad ones early and
records everything in a durable store.

>>> import rung
>>> space = {"lr": rung.loguniform(1e-4, 1e-1), "layers": rung.randint(1, 4)}
>>> result = rung.Tuner(objective, space, metric="loss", mode="min", max_trials=50).run()

Trial code (functions and Python scripts) imports rung just to call ``rung.report``, so
this module imports only what that needs; the tuner, the store (SQLAlchemy), backends and
script trials load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import schedulers, searchers, space
from ._objective import Objective
from .trial import (
    Trial,
    TrialPaused,
    TrialStatus,
    TrialStopped,
    checkpoint_dir,
    load_checkpoint,
    report,
    resource_limit,
    save_checkpoint,
    trial_dir,
)
from .space import (
    Space,
    SpaceError,
    choice,
    constant,
    from_scipy,
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

if TYPE_CHECKING:
    from . import backends, integrations, results, script, storage, tuner
    from . import compare, plots
    from .results import load
    from .results import TuningResult
    from .tuner import Callback, RunState, Tuner
    from .script import Script, ScriptFailed

__version__ = "0.1.0"

_LAZY = {
    "Tuner": (".tuner", "Tuner"),
    "Callback": (".tuner", "Callback"),
    "RunState": (".tuner", "RunState"),
    "TuningResult": (".results", "TuningResult"),
    "load": (".results", "load"),
    "Script": (".script", "Script"),
    "ScriptFailed": (".script", "ScriptFailed"),
    "backends": (".backends", None),
    "plots": (".plots", None),
    "compare": (".compare", None),
    "results": (".results", None),
    "tuner": (".tuner", None),
    "testing": (".testing", None),
    "integrations": (".integrations", None),
    "script": (".script", None),
    "storage": (".storage", None),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'rung' has no attribute {name!r}") from None
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


__all__ = [
    "Callback",
    "Objective",
    "RunState",
    "Script",
    "ScriptFailed",
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
    "compare",
    "constant",
    "from_scipy",
    "load",
    "load_checkpoint",
    "loguniform",
    "lognormal",
    "normal",
    "integrations",
    "plots",
    "qloguniform",
    "qlognormal",
    "qnormal",
    "quniform",
    "randint",
    "report",
    "resource_limit",
    "results",
    "save_checkpoint",
    "schedulers",
    "script",
    "searchers",
    "space",
    "storage",
    "testing",
    "trial",
    "trial_dir",
    "tuner",
    "uniform",
]


def __dir__() -> list[str]:
    """The public names, including those loaded on first use."""
    return sorted(set(__all__) | {"__version__"})
