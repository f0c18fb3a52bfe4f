"""PyTorch checkpoints for trials: model, optimizer and LR scheduler state, saved atomically.

>>> from rung.integrations import torch as rung_torch
>>> start = rung_torch.restore(model, optimizer).get("epoch", 0)
>>> for epoch in range(start + 1, epochs + 1):
...     train_one_epoch(); rung.report(epoch=epoch, loss=...)
...     rung_torch.save(model, optimizer, epoch=epoch)

Loading uses ``torch.load(weights_only=True)``: tensors and plain values only, no code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..trial._session import checkpoint_dir, open_private

FILENAME = "torch_checkpoint.pt"


def save(model: Any, optimizer: Any = None, lr_scheduler: Any = None,
         directory: str | os.PathLike | None = None, **extra: Any) -> Path:
    """Save the model (and optimizer, LR scheduler, extra plain values) to the trial's checkpoint."""
    import torch

    folder = Path(directory) if directory is not None else checkpoint_dir()
    state = {"model": model.state_dict(), "extra": extra}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if lr_scheduler is not None:
        state["lr_scheduler"] = lr_scheduler.state_dict()
    path = folder / FILENAME
    tmp = path.with_name(path.name + ".tmp")
    # 0600 whatever the umask: model weights and extras are the user's alone.
    with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
        torch.save(state, handle)
    os.replace(tmp, path)
    return path


def restore(model: Any, optimizer: Any = None, lr_scheduler: Any = None,
            directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """Load a checkpoint saved by :func:`save` into the given objects; return its extra values.

    Returns ``{}`` (and leaves the objects untouched) when the trial has no checkpoint yet.
    """
    import torch

    folder = Path(directory) if directory is not None else checkpoint_dir()
    path = folder / FILENAME
    if not path.exists():
        return {}
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    if optimizer is not None and "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
    if lr_scheduler is not None and "lr_scheduler" in state:
        lr_scheduler.load_state_dict(state["lr_scheduler"])
    return dict(state.get("extra", {}))
