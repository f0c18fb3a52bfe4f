"""``default_space``: a ready search space over every knob of the training objective.

Conditional entries exist only where they apply: ``momentum`` for the momentum methods,
the betas for the Adam family, each schedule's own parameters for that schedule, ``units_k``
only when ``layers >= k``. Narrow it with the keyword lists (``optimizers=["adam", "sgd"]``),
replace any entry (``lr=rung.loguniform(1e-3, 1e-1)``, ``epochs=20``), drop one (``dropout=None``;
the entries conditioned on a dropped one go with it),
or take the learning-rate bounds from a range test (``lr_range=result``).
"""

from __future__ import annotations

from typing import Any, Sequence

from ..space import choice, loguniform, qloguniform, randint, uniform
from ..space._domains import Constant, Domain
from ._config import DEFAULTS, MAX_LAYERS, ConfigError
from ._layers import ACTIVATIONS, INITS
from ._losses import LOSSES
from ._models import BATCH_NORM, MODELS
from ._optimizers import OPTIMIZERS
from ._schedules import CYCLIC_MODES, SCHEDULES

# The activations the default space tries (all of ACTIVATIONS may be named).
DEFAULT_ACTIVATIONS = ("relu", "leaky_relu", "prelu", "relu6", "rrelu", "gelu", "silu", "hardswish", "mish", "elu",
                       "selu", "celu", "softplus", "tanh", "hardtanh", "sigmoid", "hardsigmoid", "softsign")


def _subset(given: Sequence[str] | None, known: Sequence[str], what: str) -> list[str]:
    if given is None:
        return list(known)
    chosen = list(given)
    bad = [name for name in chosen if name not in known]
    if bad or not chosen:
        raise ConfigError(f"{what} must be a non-empty list of {list(known)}, got {what}={given!r}")
    return chosen


def _ints(low: int, high: int) -> Domain:
    """``randint(low, high)``, or the constant ``low`` when the range is a single value."""
    return randint(low, high) if high > low else Constant(low)


def _when_in(domain: Domain, parent: str, values: Sequence[str], chosen: Sequence[str]) -> Domain | None:
    """``domain`` conditioned on ``parent in values`` (None when none of ``values`` was chosen)."""
    present = [value for value in values if value in chosen]
    if not present:
        return None
    if len(present) == len(chosen):
        return domain
    return domain.when(parent, "in", present)


def default_space(model: str = "mlp", *, task: str = "classification", epochs: int = 10,
                  optimizers: Sequence[str] | None = None, schedules: Sequence[str] | None = None,
                  activations: Sequence[str] | None = None, losses: Sequence[str] | None = None,
                  max_layers: int = MAX_LAYERS, lr_range: Any = None, **overrides: Any) -> dict[str, Any]:
    """The search space of :class:`rung.torch.TrainingObjective` for ``model`` (see the module doc).

    ``model`` may also be ``"custom"`` (a ``model_fn``): then only the training, optimizer,
    schedule, loss and early-stopping entries are in the space.
    """
    if model not in (*MODELS, "custom"):
        raise ConfigError(f"model must be one of {(*MODELS, 'custom')}, got model={model!r}")
    if task not in LOSSES:
        raise ConfigError(f"task must be one of {tuple(LOSSES)}, got task={task!r}")
    if not 1 <= max_layers <= MAX_LAYERS:
        raise ConfigError(f"max_layers must be between 1 and {MAX_LAYERS}, got max_layers={max_layers!r}")
    opts = _subset(optimizers, OPTIMIZERS, "optimizers")
    scheds = _subset(schedules, SCHEDULES, "schedules")
    acts = _subset(activations, tuple(ACTIVATIONS), "activations") if activations is not None else list(
        DEFAULT_ACTIVATIONS)
    loss_names = _subset(losses, LOSSES[task], "losses")

    space: dict[str, Any] = {
        "lr": loguniform(1e-5, 1e-1),
        "batch_size": choice([16, 32, 64, 128, 256]),
        "epochs": epochs,
        "optimizer": choice(opts) if len(opts) > 1 else opts[0],
        "weight_decay": loguniform(1e-6, 1e-2),
        "l1": choice([0.0, 1e-6, 1e-5, 1e-4]),
    }
    conditional = {
        "momentum": _when_in(uniform(0.8, 0.99), "optimizer", ["momentum", "nesterov", "rmsprop"], opts),
        "beta1": _when_in(uniform(0.8, 0.95), "optimizer", ["adam", "adamw"], opts),
        "beta2": _when_in(uniform(0.99, 0.9999), "optimizer", ["adam", "adamw"], opts),
        "amsgrad": _when_in(choice([False, True]), "optimizer", ["adam", "adamw"], opts),
        "rmsprop_alpha": _when_in(uniform(0.9, 0.999), "optimizer", ["rmsprop"], opts),
        "adadelta_rho": _when_in(uniform(0.8, 0.99), "optimizer", ["adadelta"], opts),
        "adagrad_lr_decay": _when_in(choice([0.0, 1e-4, 1e-3]), "optimizer", ["adagrad"], opts),
        "asgd_lambd": _when_in(loguniform(1e-5, 1e-3), "optimizer", ["asgd"], opts),
        "asgd_alpha": _when_in(uniform(0.5, 1.0), "optimizer", ["asgd"], opts),
        "adafactor_beta2_decay": _when_in(uniform(-1.0, -0.5), "optimizer", ["adafactor"], opts),
        "adafactor_d": _when_in(uniform(1.0, 2.0), "optimizer", ["adafactor"], opts),
    }
    if model in ("mlp", "lenet", "lenet_classic"):
        space["activation"] = choice(acts) if len(acts) > 1 else acts[0]
        space["dropout"] = uniform(0.0, 0.5)
        space["batch_norm"] = choice(list(BATCH_NORM))
    if model == "mlp":
        space["layers"] = randint(1, max_layers) if max_layers > 1 else 1
        space["units_1"] = qloguniform(16, 512, 16)
        for k in range(2, max_layers + 1):
            space[f"units_{k}"] = qloguniform(16, 512, 16).when("layers", ">=", k)
    if model != "custom":
        space["init"] = choice(list(INITS))
    space["schedule"] = choice(scheds) if len(scheds) > 1 else scheds[0]
    sched_domains = {
        "step_size": _when_in(_ints(1, epochs // 2), "schedule", ["step"], scheds),
        "step_gamma": _when_in(uniform(0.1, 0.5), "schedule", ["step", "multistep"], scheds),
        "milestones": _when_in(choice(["0.5,0.75", "0.3,0.6,0.9"]), "schedule", ["multistep"], scheds),
        "exp_gamma": _when_in(uniform(0.8, 0.99), "schedule", ["exponential"], scheds),
        "poly_power": _when_in(uniform(0.5, 2.0), "schedule", ["polynomial"], scheds),
        "linear_end_factor": _when_in(uniform(0.01, 0.5), "schedule", ["linear"], scheds),
        "restart_epochs": _when_in(_ints(1, epochs // 2), "schedule", ["cosine_restarts"], scheds),
        "restart_mult": _when_in(choice([1, 2]), "schedule", ["cosine_restarts"], scheds),
        "cyclic_mode": _when_in(choice(list(CYCLIC_MODES)), "schedule", ["cyclic"], scheds),
        "cycle_epochs": _when_in(_ints(1, epochs // 2), "schedule", ["cyclic"], scheds),
        "min_lr_factor": _when_in(choice([0.1, 0.01]), "schedule", ["cyclic", "one_cycle"], scheds),
        "cycle_momentum": _when_in(choice([True, False]), "schedule", ["cyclic", "one_cycle"], scheds),
        "pct_start": _when_in(uniform(0.1, 0.5), "schedule", ["one_cycle"], scheds),
        "anneal_strategy": _when_in(choice(["cos", "linear"]), "schedule", ["one_cycle"], scheds),
        "plateau_factor": _when_in(uniform(0.1, 0.5), "schedule", ["plateau"], scheds),
        "plateau_patience": _when_in(randint(1, 3), "schedule", ["plateau"], scheds),
        "warmup_epochs": _when_in(_ints(1, epochs // 3), "schedule", ["warmup"], scheds),
        "warmup_then": _when_in(choice(["cosine", "linear"]), "schedule", ["warmup"], scheds),
    }
    if "cyclic_mode" in sched_domains and sched_domains["cyclic_mode"] is not None:
        sched_domains["cyclic_gamma"] = uniform(0.9, 0.999).when("cyclic_mode", "==", "exp_range")
    space.update({name: domain for name, domain in {**conditional, **sched_domains}.items() if domain is not None})
    space["loss"] = choice(loss_names) if len(loss_names) > 1 else loss_names[0]
    if "cross_entropy" in loss_names:
        smoothing = uniform(0.0, 0.2)
        space["label_smoothing"] = smoothing.when("loss", "==", "cross_entropy") if len(loss_names) > 1 else smoothing
    space["early_stopping_patience"] = choice([0, 3, 5])
    space["early_stopping_min_delta"] = choice([0.0, 1e-3]).when("early_stopping_patience", "!=", 0)
    if lr_range is not None:
        space["lr"] = lr_range.lr_domain()
    for name, value in overrides.items():
        if name not in DEFAULTS:
            raise ConfigError(f"default_space() has no entry {name!r} to replace (the entries are rung.torch.DEFAULTS)")
        if value is None:
            space.pop(name, None)
        else:
            space[name] = value
    return _without_orphans(space)


def _without_orphans(space: dict[str, Any]) -> dict[str, Any]:
    """Drop the entries conditioned on an entry that was dropped (and theirs, in turn)."""
    while True:
        orphans = [name for name, domain in space.items() if isinstance(domain, Domain)
                   and any(condition.parent not in space for condition in domain.conditions)]
        if not orphans:
            return space
        for name in orphans:
            del space[name]
