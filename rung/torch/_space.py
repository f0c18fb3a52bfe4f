"""``default_space``: a ready search space over every knob of the training objective.

Conditional entries exist only where they apply: ``momentum`` for the momentum methods,
the betas for the Adam family, each schedule's own parameters for that schedule, ``units_k``
only when ``layers >= k``. Narrow it with the keyword lists (``optimizers=["adam", "sgd"]``),
replace any entry (``lr=rung.loguniform(1e-3, 1e-1)``, ``epochs=20``), drop one (``dropout=None``;
the entries conditioned on a dropped one go with it),
or take the learning-rate bounds from a range test (``lr_range=result``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from ..space import Space, choice, loguniform, qloguniform, randint, uniform
from ..space._domains import Choice, Constant, Domain
from ._config import DEFAULTS, MAX_LAYERS, OPTIMIZER_ENTRIES, SCHEDULE_ENTRIES, ConfigError, did_you_mean, \
    unknown_entry_error
from ._layers import ACTIVATIONS, INITS
from ._losses import LOSSES
from ._models import BATCH_NORM, MODELS
from ._optimizers import OPTIMIZERS
from ._schedules import ANNEAL_STRATEGIES, CYCLIC_MODES, SCHEDULES, WARMUP_THEN, milestone_fractions

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
        # every scheme once: "auto" is one of the others for a given activation
        space["init"] = choice([scheme for scheme in INITS if scheme != "auto"])
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


# -- the check of a whole space, before any trial ------------------------------------------------
_MAX_LISTED = 1000  # finite domains up to this size are checked value by value
def named_entries(task: str) -> dict[str, tuple[Any, ...]]:
    """The entries whose values are names (or small integers) the objective knows, and those
    values; None means "the model's / the task's default" where the entry allows it."""
    every_loss = tuple(LOSSES[task])
    return {"optimizer": OPTIMIZERS, "schedule": SCHEDULES, "activation": (None, *ACTIVATIONS),
            "loss": (None, *every_loss), "batch_norm": BATCH_NORM, "init": INITS, "cyclic_mode": CYCLIC_MODES,
            "anneal_strategy": ANNEAL_STRATEGIES, "warmup_then": WARMUP_THEN,
            "layers": tuple(range(1, MAX_LAYERS + 1))}


def _values(domain: Domain) -> tuple[str, list[Any]] | None:
    """What the space can give an entry: ("fixed value", [v]), ("choice option", [...]),
    every value of another finite domain (a ``randint``), or None (a continuous one)."""
    if isinstance(domain, Constant):
        return "fixed value", [domain.value]
    if isinstance(domain, Choice):
        return "choice option", list(domain.values)
    if domain.is_finite and domain.grid_size() <= _MAX_LISTED:
        return "possible value", list(domain.grid())
    return None


def _refuse(name: str, what: str, value: Any, known: Sequence[Any], task: str) -> ConfigError:
    shown = ", ".join(repr(option) for option in known if option is not None)
    if name == "loss" and any(value in losses for losses in LOSSES.values()):
        return ConfigError(f"space entry 'loss': {what} {value!r} does not fit task={task!r} (use one of {shown})")
    return ConfigError(f"space entry {name!r}: {what} {value!r} is not one of {shown}{did_you_mean(value, known)}")


def check_space(space: Mapping[str, Any], *, task: str = "classification",
                extra_entries: frozenset[str] = frozenset()) -> None:
    """Refuse, before any trial runs, a space the ready objective could not train.

    Every entry must be one the objective knows (or one of ``extra_entries``); every fixed
    value and every choice option of a named entry (optimizer, schedule, activation, loss,
    batch norm, init, the schedules' own modes, layers) must be a name it knows, and so must
    the values that conditions compare those entries with; ``milestones`` must parse. A
    ConfigError names the entry and the value, with the closest known name. An entry that
    none of the space's optimizers or schedules uses (``momentum`` with only ``adam``)
    only warns, as it does in a trial.
    """
    space = Space.coerce(space)
    named = named_entries(task)
    for name in space.names:
        if name not in DEFAULTS and name not in extra_entries:
            raise unknown_entry_error(name, "space entry")
        domain = space[name]
        found = _values(domain)
        if name in named:
            if found is None:
                raise ConfigError(f"space entry {name!r} names one of {[v for v in named[name] if v is not None]}: "
                                  f"give it as a fixed value or a rung.choice([...]), got {domain!r}")
            what, values = found
            for value in values:
                if value not in named[name] or isinstance(value, bool):
                    raise _refuse(name, what, value, named[name], task)
        elif name == "milestones" and found is not None:
            for value in found[1]:
                try:
                    milestone_fractions(value)
                except ConfigError as exc:
                    raise ConfigError(f"space entry 'milestones': {found[0]} {value!r} is not a list of fractions "
                                      "of the epochs in (0, 1], e.g. '0.5,0.75'") from exc
        for condition in domain.conditions:
            if condition.parent in named and condition.op in ("==", "!=", "in", "not in"):
                compared = condition.value if condition.op in ("in", "not in") else (condition.value,)
                for value in compared:
                    if value not in named[condition.parent]:
                        raise ConfigError(
                            f"space entry {name!r}: its condition {condition} compares {condition.parent!r} with "
                            f"{value!r}, which is not one of {[v for v in named[condition.parent] if v is not None]}"
                            f"{did_you_mean(value, named[condition.parent])}")
    _warn_unused(space)


def _possible(space: Space, name: str) -> list[Any]:
    if name not in space.names:
        return [DEFAULTS[name]]
    found = _values(space[name])
    return found[1] if found is not None else []


def _caller_outside_rung() -> int:
    """The ``stacklevel`` of the first frame outside the rung package (the user's Tuner(...) call)."""
    import sys

    package = str(Path(__file__).resolve().parents[1])
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _warn_unused(space: Space) -> None:
    """Warn once, at build time, for an optimizer or schedule entry that no choice in the space uses."""
    import warnings

    for table, parent in ((OPTIMIZER_ENTRIES, "optimizer"), (SCHEDULE_ENTRIES, "schedule")):
        chosen = _possible(space, parent)
        used = {entry for value in chosen for entry in table.get(value, ())}
        owned = {entry for entries in table.values() for entry in entries}
        for name in space.names:
            if name in owned and name not in used:
                warnings.warn(f"space entry {name!r} does not apply to any {parent} the space can choose "
                              f"({', '.join(map(repr, chosen))}); trials will not use it", stacklevel=_caller_outside_rung())
