"""Early stopping inside one trial: patience and minimum delta on a watched value (lower is better).

Distinct from the schedulers, which compare trials with each other: this ends a trial whose
own validation curve has stopped improving. Its state is part of the trial's checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class EarlyStopping:
    """Stop after ``patience`` epochs without an improvement larger than ``min_delta`` (0: never)."""

    patience: int = 0
    min_delta: float = 0.0
    best: float = math.inf
    bad_epochs: int = 0

    def __post_init__(self) -> None:
        if self.patience < 0:
            raise ValueError(f"config entry early_stopping_patience must be >= 0, got {self.patience}")
        if self.min_delta < 0:
            raise ValueError(f"config entry early_stopping_min_delta must be >= 0, got {self.min_delta}")

    def update(self, value: float) -> bool:
        """Take this epoch's value; True when the trial should stop now."""
        if value < self.best - self.min_delta:
            self.best = value
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return self.patience > 0 and self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, float]:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
