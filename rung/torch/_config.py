"""The config entries the ready objective understands, their defaults, and the check of a config.

Every knob of the training run is one flat config entry (so that any searcher can tune it and
a YAML spec can name it). An entry missing from a config takes its default from
:data:`DEFAULTS`; an entry the objective does not know is an error naming it; an entry that
exists but does not apply to the rest of the config (``momentum`` with ``optimizer="adam"``)
is reported with a warning, once per process, and not used.
"""

from __future__ import annotations

import difflib
import warnings
from typing import Any, Mapping

MAX_LAYERS = 4

#: Defaults of every config entry of :class:`rung.torch.Objective`.
DEFAULTS: dict[str, Any] = {
    # training
    "lr": 1e-3,
    "batch_size": 64,
    "epochs": 10,  # the whole run: schedules are planned over it, on every launch alike
    "max_epochs": None,  # set by a scheduler's max_resource_attr="max_epochs": this launch's cap
    "seed": 0,
    # optimizer and its own parameters
    "optimizer": "adam",
    "weight_decay": 0.0,
    "l1": 0.0,
    "momentum": 0.9,
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,
    "amsgrad": False,
    "rmsprop_alpha": 0.99,
    "adadelta_rho": 0.9,
    "adagrad_lr_decay": 0.0,
    "asgd_lambd": 1e-4,
    "asgd_alpha": 0.75,
    "asgd_t0": 1e6,
    "adafactor_beta2_decay": -0.8,
    "adafactor_d": 1.0,
    # architecture
    "activation": None,  # None: the model's own (ReLU; sigmoid for classic LeNet)
    "layers": 2,
    **{f"units_{k}": 128 for k in range(1, MAX_LAYERS + 1)},
    "dropout": 0.0,
    "batch_norm": "none",
    "init": "auto",  # by the activation: He for ReLU, Glorot for tanh/sigmoid, LeCun for SELU
    # learning-rate schedule and its own parameters
    "schedule": "constant",
    "step_size": 3,
    "step_gamma": 0.1,
    "milestones": "0.5,0.75",
    "exp_gamma": 0.9,
    "poly_power": 1.0,
    "linear_end_factor": 0.1,
    "cosine_eta_min": 0.0,
    "restart_epochs": 3,
    "restart_mult": 1,
    "cyclic_mode": "triangular",
    "cyclic_gamma": 0.99,
    "cycle_epochs": 2,
    "min_lr_factor": 0.1,
    "cycle_momentum": True,
    "min_momentum": 0.85,
    "max_momentum": 0.95,
    "pct_start": 0.3,
    "anneal_strategy": "cos",
    "final_div_factor": 1e4,
    "plateau_factor": 0.1,
    "plateau_patience": 2,
    "warmup_epochs": 1,
    "warmup_start_factor": 0.1,
    "warmup_then": "cosine",
    # loss
    "loss": None,  # None: the task's (cross-entropy, MSE, BCE with logits)
    "label_smoothing": 0.0,
    # early stopping inside the trial (0: off)
    "early_stopping_patience": 0,
    "early_stopping_min_delta": 0.0,
}

# Which entries belong to which choice (for the "does not apply" warning).
OPTIMIZER_ENTRIES: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("momentum",),
    "nesterov": ("momentum",),
    "asgd": ("asgd_lambd", "asgd_alpha", "asgd_t0"),
    "adagrad": ("adagrad_lr_decay", "eps"),
    "rmsprop": ("rmsprop_alpha", "momentum", "eps"),
    "adadelta": ("adadelta_rho", "eps"),
    "adam": ("beta1", "beta2", "eps", "amsgrad"),
    "adamw": ("beta1", "beta2", "eps", "amsgrad"),
    "adafactor": ("adafactor_beta2_decay", "adafactor_d"),
}

SCHEDULE_ENTRIES: dict[str, tuple[str, ...]] = {
    "constant": (),
    "step": ("step_size", "step_gamma"),
    "multistep": ("milestones", "step_gamma"),
    "exponential": ("exp_gamma",),
    "polynomial": ("poly_power",),
    "linear": ("linear_end_factor",),
    "cosine": ("cosine_eta_min",),
    "cosine_restarts": ("restart_epochs", "restart_mult", "cosine_eta_min"),
    "cyclic": ("cyclic_mode", "cyclic_gamma", "cycle_epochs", "min_lr_factor", "cycle_momentum",
               "min_momentum", "max_momentum"),
    "one_cycle": ("pct_start", "anneal_strategy", "min_lr_factor", "final_div_factor", "cycle_momentum",
                  "min_momentum", "max_momentum"),
    "plateau": ("plateau_factor", "plateau_patience"),
    "warmup": ("warmup_epochs", "warmup_start_factor", "warmup_then", "linear_end_factor", "exp_gamma"),
}

_CHOICE_OWNED = {entry for entries in OPTIMIZER_ENTRIES.values() for entry in entries} | {
    entry for entries in SCHEDULE_ENTRIES.values() for entry in entries
}
_warned: set[tuple[str, str]] = set()
# Other libraries' names for some entries, for the "did you mean" hint.
_ALIASES = {"learning_rate": "lr", "num_epochs": "epochs", "num_layers": "layers",
            "lr_schedule": "schedule", "scheduler": "schedule", "patience": "early_stopping_patience",
            "dropout_rate": "dropout", "activation_fn": "activation", "criterion": "loss"}


class ConfigError(ValueError):
    """A config entry the ready objective cannot use (unknown name or bad value)."""


def resolve(config: Mapping[str, Any], extra: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``config`` over :data:`DEFAULTS`; unknown entries raise, inapplicable ones warn once.

    ``extra`` names entries the caller's own ``model_fn`` reads, which are kept as given.
    """
    unknown = [name for name in config if name not in DEFAULTS and name not in extra]
    if unknown:
        raise unknown_entry_error(unknown[0])
    merged = {**DEFAULTS, **config}
    used = set(OPTIMIZER_ENTRIES.get(merged["optimizer"], ())) | set(SCHEDULE_ENTRIES.get(merged["schedule"], ()))
    for name in config:
        if name in _CHOICE_OWNED and name not in used and (name, _owner(merged)) not in _warned:
            _warned.add((name, _owner(merged)))
            warnings.warn(
                f"config entry {name!r} does not apply to optimizer={merged['optimizer']!r}, "
                f"schedule={merged['schedule']!r}; it is not used",
                stacklevel=3,
            )
    return merged


def unknown_entry_error(name: str, where: str = "config entry") -> ConfigError:
    """The error for an entry the objective does not know, with the closest known name."""
    close = [_ALIASES[name]] if name in _ALIASES else difflib.get_close_matches(name, list(DEFAULTS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(
        f"unknown {where} {name!r}{hint}; the entries of rung.torch.TrainingObjective are listed in "
        "rung.torch.DEFAULTS (pass extra_entries=[...] for entries your model_fn reads)"
    )


def did_you_mean(value: Any, known: Any) -> str:
    """`` (did you mean 'adam'?)`` for a misspelt name among ``known``, else ``""``."""
    if not isinstance(value, str):
        return ""
    names = [str(name) for name in known]
    if value.lower() in names:
        return f" (did you mean {value.lower()!r}?)"
    close = difflib.get_close_matches(value, names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _owner(merged: Mapping[str, Any]) -> str:
    return f"{merged['optimizer']}/{merged['schedule']}"


def choice_error(entry: str, value: Any, known: Any) -> ConfigError:
    """The error for a config choice that is not one of ``known``."""
    names = ", ".join(repr(name) for name in known)
    return ConfigError(f"config entry {entry}={value!r} is not one of {names}{did_you_mean(value, known)}")
