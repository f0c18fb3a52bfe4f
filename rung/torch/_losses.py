"""Losses by name, from torch.nn, and the task each belongs to."""

from __future__ import annotations

from typing import Any, Mapping

from torch import nn

from ._config import ConfigError, choice_error

#: Loss names per task; the first is the task's default.
LOSSES: dict[str, tuple[str, ...]] = {
    "classification": ("cross_entropy", "nll"),
    "regression": ("mse", "l1", "huber", "smooth_l1"),
    "binary": ("bce_with_logits",),
}


def loss_name(config: Mapping[str, Any], task: str) -> str:
    """The config's loss (the task's default when None), checked against the task."""
    name = config["loss"] or LOSSES[task][0]
    if name not in LOSSES[task]:
        every = [loss for losses in LOSSES.values() for loss in losses]
        if name in every:
            raise ConfigError(f"config entry loss={name!r} does not fit task={task!r} (use one of {LOSSES[task]})")
        raise choice_error("loss", name, every)
    return name


def build_loss(name: str, config: Mapping[str, Any]) -> nn.Module:
    """The torch loss module; ``nll`` expects log-probabilities (the objective adds LogSoftmax)."""
    if name == "cross_entropy":
        return nn.CrossEntropyLoss(label_smoothing=float(config["label_smoothing"]))
    if name == "nll":
        return nn.NLLLoss()
    if name == "mse":
        return nn.MSELoss()
    if name == "l1":
        return nn.L1Loss()
    if name == "huber":
        return nn.HuberLoss()
    if name == "smooth_l1":
        return nn.SmoothL1Loss()
    return nn.BCEWithLogitsLoss()
