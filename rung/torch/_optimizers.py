"""Optimizers from a config: torch's own classes, each with the parameters it has.

``optimizer`` names one of :data:`OPTIMIZERS`; its parameters are the config entries
listed in :data:`rung.torch._config.OPTIMIZER_ENTRIES` (momentum only for the momentum
methods, betas for the Adam family, ...). ``weight_decay`` goes to every optimizer; the L1
penalty (``l1``) is added to the loss by the training loop, since no torch optimizer has one.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import torch

from ._config import choice_error

OPTIMIZERS = ("sgd", "momentum", "nesterov", "asgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw",
              "adafactor")


def optimizer_arguments(config: Mapping[str, Any]) -> tuple[type[torch.optim.Optimizer], dict[str, Any]]:
    """The torch optimizer class and keyword arguments that ``config`` describes."""
    name = config["optimizer"]
    lr = float(config["lr"])
    decay = float(config["weight_decay"])
    common: dict[str, Any] = {"lr": lr, "weight_decay": decay}
    if name == "sgd":
        return torch.optim.SGD, common
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD, {**common, "momentum": float(config["momentum"]), "nesterov": name == "nesterov"}
    if name == "asgd":
        return torch.optim.ASGD, {**common, "lambd": float(config["asgd_lambd"]),
                                  "alpha": float(config["asgd_alpha"]), "t0": float(config["asgd_t0"])}
    if name == "adagrad":
        return torch.optim.Adagrad, {**common, "lr_decay": float(config["adagrad_lr_decay"]),
                                     "eps": float(config["eps"])}
    if name == "rmsprop":
        return torch.optim.RMSprop, {**common, "alpha": float(config["rmsprop_alpha"]),
                                     "momentum": float(config["momentum"]), "eps": float(config["eps"])}
    if name == "adadelta":
        return torch.optim.Adadelta, {**common, "rho": float(config["adadelta_rho"]), "eps": float(config["eps"])}
    if name in ("adam", "adamw"):
        cls: type[torch.optim.Optimizer] = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return cls, {**common, "betas": (float(config["beta1"]), float(config["beta2"])),
                     "eps": float(config["eps"]), "amsgrad": bool(config["amsgrad"])}
    if name == "adafactor":
        return torch.optim.Adafactor, {**common, "beta2_decay": float(config["adafactor_beta2_decay"]),
                                       "d": float(config["adafactor_d"])}
    raise choice_error("optimizer", name, OPTIMIZERS)


def build_optimizer(parameters: Iterable[torch.nn.Parameter], config: Mapping[str, Any]) -> torch.optim.Optimizer:
    """The optimizer ``config`` describes, over ``parameters``."""
    cls, kwargs = optimizer_arguments(config)
    return cls(parameters, **kwargs)


def has_momentum(optimizer: torch.optim.Optimizer) -> bool:
    """Whether cyclical momentum can drive this optimizer (a ``momentum`` > 0 or ``betas``)."""
    group = optimizer.param_groups[0]
    return "betas" in group or float(group.get("momentum", 0.0) or 0.0) > 0.0
