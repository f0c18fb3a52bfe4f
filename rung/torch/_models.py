"""The built-in models: softmax regression, an MLP, LeNet (classic and modern).

Each takes the shape of one input (without the batch dimension) and the number of outputs,
so the same config trains on digits (1x8x8 or upsampled 1x28x28), Fashion-MNIST (1x28x28) or
MNIST-1D (40 values). :func:`build_model` makes one from a config's architecture entries
(``activation``, ``layers``, ``units_k``, ``dropout``, ``batch_norm``, ``init``).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from ._config import choice_error
from ._layers import activation, initialize

BATCH_NORM = ("none", "before", "after")
MODELS = ("softmax", "mlp", "lenet", "lenet_classic")


def _block(layer: nn.Module, features: int, act: str, batch_norm: str, dropout: float, conv: bool) -> list[nn.Module]:
    """``layer`` then its activation, with batch norm before or after it and dropout last."""
    if batch_norm not in BATCH_NORM:
        raise choice_error("batch_norm", batch_norm, BATCH_NORM)
    norm: nn.Module = nn.BatchNorm2d(features) if conv else nn.BatchNorm1d(features)
    parts: list[nn.Module] = [layer]
    if batch_norm == "before":
        parts.append(norm)
    parts.append(activation(act))
    if batch_norm == "after":
        parts.append(norm)
    if dropout > 0:
        parts.append(nn.Dropout2d(dropout) if conv else nn.Dropout(dropout))
    return parts


class SoftmaxRegression(nn.Module):
    """One linear layer from the flattened input to the class scores (softmax is in the loss)."""

    def __init__(self, input_shape: Sequence[int], n_outputs: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MLP(nn.Module):
    """Fully connected layers of the given widths, each followed by its activation."""

    def __init__(self, input_shape: Sequence[int], n_outputs: int, units: Sequence[int], *,
                 activation_name: str = "relu", dropout: float = 0.0, batch_norm: str = "none") -> None:
        super().__init__()
        parts: list[nn.Module] = [nn.Flatten()]
        width = math.prod(input_shape)
        for size in units:
            parts += _block(nn.Linear(width, size), size, activation_name, batch_norm, dropout, conv=False)
            width = size
        parts.append(nn.Linear(width, n_outputs))
        self.net = nn.Sequential(*parts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class LeNet(nn.Module):
    """LeNet-5: two 5x5 convolutions (6 and 16 channels), then 120 and 84 units.

    ``classic=True`` is the original: sigmoid activations and average pooling. The modern
    variant (default) uses ReLU and max pooling. The first convolution pads by 2 (a 28x28
    image is seen as LeNet's 32x32); the width of the first dense layer is found from
    ``input_shape``, so smaller images work as long as the second convolution still fits.
    """

    def __init__(self, input_shape: Sequence[int], n_outputs: int, *, classic: bool = False,
                 activation_name: str | None = None, dropout: float = 0.0, batch_norm: str = "none") -> None:
        super().__init__()
        act = activation_name or ("sigmoid" if classic else "relu")
        pool: Callable[[], nn.Module] = (lambda: nn.AvgPool2d(2, 2)) if classic else (lambda: nn.MaxPool2d(2, 2))
        channels = input_shape[0] if len(input_shape) == 3 else 1
        self.features = nn.Sequential(
            *_block(nn.Conv2d(channels, 6, kernel_size=5, padding=2), 6, act, batch_norm, 0.0, conv=True),
            pool(),
            *_block(nn.Conv2d(6, 16, kernel_size=5), 16, act, batch_norm, 0.0, conv=True),
            pool(),
            nn.Flatten(),
        )
        with torch.no_grad():
            probe = torch.zeros(2, channels, *input_shape[-2:])
            flat = self.features.eval()(probe).shape[1]
        self.features.train()
        self.classifier = nn.Sequential(
            *_block(nn.Linear(flat, 120), 120, act, batch_norm, dropout, conv=False),
            *_block(nn.Linear(120, 84), 84, act, batch_norm, dropout, conv=False),
            nn.Linear(84, n_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        return self.classifier(self.features(x))


def build_model(name: str, config: Mapping[str, Any], input_shape: Sequence[int], n_outputs: int) -> nn.Module:
    """The built-in model ``name`` (one of :data:`MODELS`) for this config, initialized by ``init``."""
    act = config["activation"]
    if name == "softmax":
        model: nn.Module = SoftmaxRegression(input_shape, n_outputs)
    elif name == "mlp":
        layers = int(config["layers"])
        if not 1 <= layers <= 4:
            raise choice_error("layers", layers, range(1, 5))
        units = [int(config[f"units_{k}"]) for k in range(1, layers + 1)]
        model = MLP(input_shape, n_outputs, units, activation_name=act or "relu",
                    dropout=float(config["dropout"]), batch_norm=config["batch_norm"])
    elif name in ("lenet", "lenet_classic"):
        model = LeNet(input_shape, n_outputs, classic=name == "lenet_classic", activation_name=act,
                      dropout=float(config["dropout"]), batch_norm=config["batch_norm"])
    else:
        raise choice_error("model", name, MODELS)
    initialize(model, config["init"], act or ("sigmoid" if name == "lenet_classic" else "relu"))
    return model
