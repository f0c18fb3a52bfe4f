"""A trial's full training state in its checkpoint: what exact pause and resume need.

Model, optimizer and LR schedule (their ``state_dict``), torch's global random generator
(dropout, RReLU), the trial's shuffling generator, early stopping and the last epoch done,
written atomically by :func:`rung.integrations.torch.save` and read back with
``weights_only=True`` (tensors and plain values only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..integrations import torch as torch_checkpoint


class TrialState:
    """Save and restore the parts of one trial (see :class:`rung.torch._objective._Parts`)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def save(self, parts: Any, epoch: int, directory: Path | None = None) -> Path:
        extra: dict[str, Any] = {
            "epoch": epoch,
            "rng": torch.get_rng_state(),
            "generator": parts.generator.get_state(),
            "early_stopping": parts.early.state_dict(),
        }
        if self.device.type == "cuda":
            extra["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return torch_checkpoint.save(parts.model, parts.optimizer, parts.schedule, directory, **extra)

    def restore(self, parts: Any, directory: Path | None = None) -> int:
        """Load the checkpoint into ``parts`` if there is one; return the last epoch done (0: none)."""
        extra = torch_checkpoint.restore(parts.model, parts.optimizer, parts.schedule, directory)
        if not extra:
            return 0
        torch.set_rng_state(extra["rng"])
        parts.generator.set_state(extra["generator"])
        parts.early.load_state_dict(extra["early_stopping"])
        if "cuda_rng" in extra and self.device.type == "cuda":
            torch.cuda.set_rng_state(extra["cuda_rng"], self.device)
        return int(extra["epoch"])
