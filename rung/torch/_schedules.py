"""Learning-rate schedules from a config, all from ``torch.optim.lr_scheduler``.

``schedule`` names one of :data:`SCHEDULES`. Cyclic and one-cycle schedules step after every
batch (their cycle lengths are given in epochs and turned into steps); the others step once
per epoch, reduce-on-plateau with the epoch's validation loss. For ``cyclic`` and
``one_cycle`` the config's ``lr`` is the peak (``max_lr``) and ``min_lr_factor`` gives the
bottom (1/10 or 1/100 of the peak, as Leslie Smith suggests); with ``cycle_momentum`` the
momentum (or Adam's beta1) cycles the other way between ``min_momentum`` and ``max_momentum``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import torch
from torch.optim import lr_scheduler

from ._config import ConfigError, choice_error
from ._optimizers import has_momentum

SCHEDULES = ("constant", "step", "multistep", "exponential", "polynomial", "linear", "cosine", "cosine_restarts",
             "cyclic", "one_cycle", "plateau", "warmup")
CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
WARMUP_THEN = ("cosine", "linear", "exponential")
ANNEAL_STRATEGIES = ("cos", "linear")


@dataclass
class Schedule:
    """A torch LR scheduler and when the training loop steps it."""

    scheduler: Any  # torch.optim.lr_scheduler.LRScheduler or ReduceLROnPlateau; None for constant
    per_batch: bool = False
    needs_metric: bool = False

    def after_batch(self) -> None:
        if self.scheduler is not None and self.per_batch:
            self.scheduler.step()

    def after_epoch(self, validation_loss: float) -> None:
        if self.scheduler is None or self.per_batch:
            return
        if self.needs_metric:
            self.scheduler.step(validation_loss)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return {} if self.scheduler is None else self.scheduler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state)


def milestone_fractions(text: Any) -> list[float]:
    """``milestones`` (``"0.5,0.75"``: fractions of the epochs) as floats; ValueError otherwise."""
    try:
        fractions = [float(part) for part in str(text).split(",")]
    except ValueError:
        fractions = []
    if not fractions or not all(0.0 < f <= 1.0 for f in fractions):
        raise ConfigError(f"config entry milestones={text!r} must be fractions of the epochs in (0, 1], "
                          "e.g. '0.5,0.75'")
    return fractions


def _milestones(text: Any, epochs: int) -> list[int]:
    return sorted({max(1, round(f * epochs)) for f in milestone_fractions(text)})


def _cycle_momentum(optimizer: torch.optim.Optimizer, config: Mapping[str, Any]) -> bool:
    if not config["cycle_momentum"]:
        return False
    if has_momentum(optimizer):
        return True
    warnings.warn(
        f"cycle_momentum=True does not apply to optimizer={config['optimizer']!r} (it has no momentum "
        "or betas); the learning rate cycles alone",
        stacklevel=3,
    )
    return False


def build_schedule(optimizer: torch.optim.Optimizer, config: Mapping[str, Any], steps_per_epoch: int) -> Schedule:
    """The schedule ``config`` describes for a run of ``config["epochs"]`` epochs."""
    name = config["schedule"]
    epochs = max(1, int(config["epochs"]))
    lr = float(config["lr"])
    if name == "constant":
        return Schedule(None)
    if name == "step":
        return Schedule(lr_scheduler.StepLR(optimizer, step_size=int(config["step_size"]),
                                            gamma=float(config["step_gamma"])))
    if name == "multistep":
        return Schedule(lr_scheduler.MultiStepLR(optimizer, milestones=_milestones(config["milestones"], epochs),
                                                 gamma=float(config["step_gamma"])))
    if name == "exponential":
        return Schedule(lr_scheduler.ExponentialLR(optimizer, gamma=float(config["exp_gamma"])))
    if name == "polynomial":
        return Schedule(lr_scheduler.PolynomialLR(optimizer, total_iters=epochs, power=float(config["poly_power"])))
    if name == "linear":
        return Schedule(lr_scheduler.LinearLR(optimizer, start_factor=1.0,
                                              end_factor=float(config["linear_end_factor"]), total_iters=epochs))
    if name == "cosine":
        return Schedule(lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs,
                                                       eta_min=lr * float(config["cosine_eta_min"])))
    if name == "cosine_restarts":
        return Schedule(lr_scheduler.CosineAnnealingWarmRestarts(
            optimizer, T_0=int(config["restart_epochs"]), T_mult=int(config["restart_mult"]),
            eta_min=lr * float(config["cosine_eta_min"])))
    if name == "cyclic":
        mode = config["cyclic_mode"]
        if mode not in CYCLIC_MODES:
            raise choice_error("cyclic_mode", mode, CYCLIC_MODES)
        return Schedule(lr_scheduler.CyclicLR(
            optimizer, base_lr=lr * float(config["min_lr_factor"]), max_lr=lr,
            step_size_up=max(1, round(float(config["cycle_epochs"]) * steps_per_epoch / 2)),
            mode=mode, gamma=float(config["cyclic_gamma"]),
            cycle_momentum=_cycle_momentum(optimizer, config),
            base_momentum=float(config["min_momentum"]), max_momentum=float(config["max_momentum"])), per_batch=True)
    if name == "one_cycle":
        strategy = config["anneal_strategy"]
        if strategy not in ANNEAL_STRATEGIES:
            raise choice_error("anneal_strategy", strategy, ANNEAL_STRATEGIES)
        return Schedule(lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=float(config["pct_start"]),
            anneal_strategy=strategy, div_factor=1.0 / float(config["min_lr_factor"]),
            final_div_factor=float(config["final_div_factor"]), cycle_momentum=_cycle_momentum(optimizer, config),
            base_momentum=float(config["min_momentum"]), max_momentum=float(config["max_momentum"])), per_batch=True)
    if name == "plateau":
        return Schedule(lr_scheduler.ReduceLROnPlateau(optimizer, factor=float(config["plateau_factor"]),
                                                       patience=int(config["plateau_patience"])), needs_metric=True)
    if name == "warmup":
        return Schedule(_warmup(optimizer, config, epochs))
    raise choice_error("schedule", name, SCHEDULES)


def _warmup(optimizer: torch.optim.Optimizer, config: Mapping[str, Any], epochs: int) -> lr_scheduler.SequentialLR:
    """A linear warm-up over ``warmup_epochs``, then the decay ``warmup_then`` (SequentialLR)."""
    warm = max(1, min(int(config["warmup_epochs"]), epochs - 1)) if epochs > 1 else 1
    rest = max(1, epochs - warm)
    then = config["warmup_then"]
    decay: lr_scheduler.LRScheduler
    if then == "cosine":
        decay = lr_scheduler.CosineAnnealingLR(optimizer, T_max=rest)
    elif then == "linear":
        decay = lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=float(config["linear_end_factor"]),
                                      total_iters=rest)
    elif then == "exponential":
        decay = lr_scheduler.ExponentialLR(optimizer, gamma=float(config["exp_gamma"]))
    else:
        raise choice_error("warmup_then", then, WARMUP_THEN)
    warmup = lr_scheduler.LinearLR(optimizer, start_factor=float(config["warmup_start_factor"]), end_factor=1.0,
                                   total_iters=warm)
    return lr_scheduler.SequentialLR(optimizer, schedulers=[warmup, decay], milestones=[warm])
