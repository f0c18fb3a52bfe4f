"""Activations and weight initializations by name, from torch.nn and torch.nn.init."""

from __future__ import annotations

from typing import Callable, Literal

import torch
from torch import nn

from ._config import choice_error

#: Activation names and the torch.nn module each builds.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "prelu": nn.PReLU,
    "relu6": nn.ReLU6,
    "rrelu": nn.RReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,  # also called Swish
    "hardswish": nn.Hardswish,
    "mish": nn.Mish,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "celu": nn.CELU,
    "softplus": nn.Softplus,
    "tanh": nn.Tanh,
    "hardtanh": nn.Hardtanh,
    "sigmoid": nn.Sigmoid,
    "hardsigmoid": nn.Hardsigmoid,
    "softsign": nn.Softsign,
    "tanhshrink": nn.Tanhshrink,
    "logsigmoid": nn.LogSigmoid,
}

INITS = ("auto", "default", "lecun_normal", "lecun_uniform", "xavier_normal", "xavier_uniform",
         "kaiming_normal", "kaiming_uniform")

# The gain name torch.nn.init.calculate_gain knows for each activation (He init needs it).
_Gain = Literal["relu", "leaky_relu", "tanh", "sigmoid", "selu"]
_GAINS: dict[str, _Gain] = {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "sigmoid": "sigmoid",
                            "selu": "selu"}

# What ``init="auto"`` picks: Glorot for the saturating activations, LeCun for SELU (its
# self-normalizing fixed point assumes variance 1/fan_in), He for the ReLU family and the
# other unbounded ones.
_GLOROT_ACTIVATIONS = frozenset({"tanh", "sigmoid", "hardtanh", "hardsigmoid", "softsign", "tanhshrink",
                                 "logsigmoid"})


def auto_init(activation_name: str) -> str:
    """The initialization ``init="auto"`` uses for a network of ``activation_name`` units."""
    if activation_name == "selu":
        return "lecun_normal"
    if activation_name in _GLOROT_ACTIVATIONS:
        return "xavier_uniform"
    return "kaiming_normal"


def activation(name: str) -> nn.Module:
    """A fresh activation module for ``name`` (one of :data:`ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise choice_error("activation", name, ACTIVATIONS) from None


def initialize(model: nn.Module, scheme: str, activation_name: str) -> None:
    """Re-initialize the weights of every linear and convolution layer by ``scheme``; biases to 0.

    LeCun is torch's Kaiming with a linear gain (variance 1/fan_in); Xavier/Glorot uses the
    activation's gain; He/Kaiming uses it too (ReLU's when torch knows no gain for it).
    ``"default"`` keeps torch's own initialization, whose variance (a third of He's) leaves a
    deep ReLU network such as LeNet near the chance-level loss for its first hundred steps;
    ``"auto"`` (the ready objective's default) picks by the activation (:func:`auto_init`).
    """
    if scheme not in INITS:
        raise choice_error("init", scheme, INITS)
    if scheme == "auto":
        scheme = auto_init(activation_name)
    if scheme == "default":
        return
    gain_name: _Gain = _GAINS.get(activation_name, "relu")
    for module in model.modules():
        if not isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            continue
        weight = module.weight
        if scheme == "lecun_normal":
            nn.init.kaiming_normal_(weight, nonlinearity="linear")
        elif scheme == "lecun_uniform":
            nn.init.kaiming_uniform_(weight, nonlinearity="linear")
        elif scheme == "xavier_normal":
            nn.init.xavier_normal_(weight, gain=nn.init.calculate_gain(gain_name))
        elif scheme == "xavier_uniform":
            nn.init.xavier_uniform_(weight, gain=nn.init.calculate_gain(gain_name))
        elif scheme == "kaiming_normal":
            nn.init.kaiming_normal_(weight, nonlinearity=gain_name)
        else:
            nn.init.kaiming_uniform_(weight, nonlinearity=gain_name)
        if module.bias is not None:
            with torch.no_grad():
                module.bias.zero_()
