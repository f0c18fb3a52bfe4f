"""Leslie Smith's learning-rate range test and a momentum range test.

:func:`lr_range_test` trains for a short while with a learning rate raised step by step
(exponentially or linearly, by torch's ``ExponentialLR`` / ``LinearLR``), records the loss of
each batch and its smoothed value (an exponential moving average, bias-corrected), stops
when the smoothed loss exceeds ``diverge_factor`` times its lowest value, then puts the
model and optimizer back as they were. It proposes a maximum learning rate by a named rule.

The stop watches the running (causal) average, but an exponential moving average lags: with
``smoothing=0.98`` it trails the raw loss by about 49 steps, half of a 100-step test, which
would push every proposal to too high a learning rate. The proposal therefore reads a
zero-lag curve (``RangeTestResult.centered``): a light average run forward and then backward
over the recorded losses up to the first raw loss above ``diverge_factor`` times the lowest
before it (NaN after that point). Its time constant is ``window`` times the test's steps
(2.5 steps of a 100-step test), not the stop's 49: run forward and backward, an average as
slow as the stop's spreads every feature over the whole test (a kernel some 70 steps wide on
100), so that the curve kept falling to its end and every rule read on it proposed a rate far
below the good range (see benchmarks/RESULTS.md). The rules:

* ``"plateau"`` (the default): the middle step (in log lr, with the default exponential
  steps) of the plateau around the curve's lowest point, where the loss stays within ``PLATEAU_TOLERANCE``
  (a tenth) of the whole fall from the curve's start to its lowest. A short test's curve is
  often flat over a decade or more near its bottom, and where on that flat stretch the lowest
  point falls is noise; its middle is the rate farthest from both the slow and the unstable
  end (benchmarks/RESULTS.md measures it against the others);
* ``"divergence"``: the lowest point, where the loss stops falling just before it climbs away
  (Smith's maximum for a one-cycle or cyclic schedule), read on a noisy plateau anywhere on it;

and, on the falling part of the curve up to its lowest point:

* ``"steepest"``: where the loss falls fastest against log(lr) (the first tenth skipped);
* ``"valley"``: two thirds of the way along the longest falling sequence (fastai's idea: the
  longest decreasing subsequence, not a contiguous run, so noise does not break it); it
  depends on ``start_lr``, since the flat start counts as part of the valley;

The minimum is ``min_factor`` (1/10 or 1/100) of the maximum. ``result.propose(rule)`` reads
another rule off the same curve. The result plugs into a tuning run: ``result.lr_domain()`` is a
log-uniform domain between the two (``default_space(lr_range=result)``), and
``result.one_cycle()`` / ``result.cyclic()`` are config entries that set the peak of a
one-cycle or cyclic schedule of :class:`rung.torch.TrainingObjective`.

:func:`momentum_range_test` runs the same short training at a fixed learning rate for each
momentum of a band (0.9 to 0.99 by default, as Smith suggests), from the same starting
point each time, and proposes the band of a cyclical momentum.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from ..space import loguniform
from ..space._domains import Domain

RULES = ("plateau", "divergence", "steepest", "valley")
#: How far above its lowest point (as a share of the whole fall) the "plateau" rule's stretch reaches.
PLATEAU_TOLERANCE = 0.1


@dataclass
class RangeTestResult:
    """The recorded curve and the proposal of a learning-rate range test."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    centered: list[float]
    rule: str
    max_lr: float
    min_lr: float
    min_factor: float
    diverged: bool
    step_mode: str

    def propose(self, rule: str) -> float:
        """The maximum learning rate ``rule`` reads off this test's zero-lag curve."""
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got rule={rule!r}")
        kept = [i for i, value in enumerate(self.centered) if math.isfinite(value)]
        if not kept:
            return self.lrs[0] if self.lrs else self.max_lr
        lrs = np.asarray([self.lrs[i] for i in kept])
        return float(lrs[_propose(lrs, np.asarray([self.centered[i] for i in kept]), rule)])

    def with_rule(self, rule: str, min_factor: float | None = None) -> "RangeTestResult":
        """The same test proposed by ``rule`` (and ``min_factor``, if given)."""
        factor = self.min_factor if min_factor is None else min_factor
        max_lr = self.propose(rule)
        return replace(self, rule=rule, max_lr=max_lr, min_lr=max_lr * factor, min_factor=factor)

    def lr_domain(self) -> Domain:
        """``rung.loguniform(min_lr, max_lr)``: the learning-rate domain of a tuning run."""
        return loguniform(self.min_lr, self.max_lr)

    def one_cycle(self) -> dict[str, Any]:
        """Config entries for a one-cycle schedule peaking at ``max_lr`` and starting at ``min_lr``."""
        return {"schedule": "one_cycle", "lr": self.max_lr, "min_lr_factor": self.min_factor}

    def cyclic(self, mode: str = "triangular") -> dict[str, Any]:
        """Config entries for a cyclic schedule between ``min_lr`` and ``max_lr``."""
        return {"schedule": "cyclic", "lr": self.max_lr, "min_lr_factor": self.min_factor, "cyclic_mode": mode}

    def plot(self, path: str | os.PathLike | None = None, ax: Any = None) -> Any:
        """Loss and smoothed loss against the learning rate (log axis), the proposals marked.

        Returns the matplotlib Axes, or the saved file's path when ``path`` is given.
        """
        import matplotlib

        if ax is None and path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        figure = None
        if ax is None:
            figure, ax = plt.subplots(figsize=(6, 4))
        ax.plot(self.lrs, self.losses, color="0.75", linewidth=1, label="loss per batch")
        ax.plot(self.lrs, self.smoothed, color="C0", linewidth=1, linestyle="--", label="running average (stop)")
        ax.plot(self.lrs, self.centered, color="C0", linewidth=2, label="smoothed loss (proposal)")
        ax.axvline(self.max_lr, color="C3", linestyle="--", label=f"max lr {self.max_lr:.3g} ({self.rule})")
        ax.axvline(self.min_lr, color="C2", linestyle=":", label=f"min lr {self.min_lr:.3g} (max x {self.min_factor:g})")
        if self.step_mode == "exp":
            ax.set_xscale("log")
        finite = [v for v in self.smoothed if math.isfinite(v)]
        if finite:
            low, high = min(finite), max(finite)
            ax.set_ylim(low - 0.05 * (high - low + 1e-12), min(high, 4 * low if low > 0 else high) * 1.05 + 1e-12)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.set_title("learning-rate range test" + (" (stopped: diverged)" if self.diverged else ""))
        ax.legend(loc="best", fontsize="small")
        if path is not None:
            assert ax.figure is not None
            ax.figure.savefig(path, dpi=100, bbox_inches="tight")
            if figure is not None:
                plt.close(figure)
            return Path(path)
        return ax


def _longest_fall(curve: np.ndarray) -> tuple[int, int]:
    """First and last index of the longest strictly decreasing subsequence of ``curve``."""
    n = len(curve)
    length = [1] * n
    first = list(range(n))
    for i in range(1, n):
        for j in range(i):
            if curve[i] < curve[j] and length[j] + 1 > length[i]:
                length[i], first[i] = length[j] + 1, first[j]
    last = int(np.argmax(length))
    return first[last], last


def _propose(lrs: np.ndarray, curve: np.ndarray, rule: str) -> int:
    """Index of the maximum learning rate ``rule`` proposes on ``curve`` (see the module doc)."""
    lowest = int(np.argmin(curve))
    if rule == "plateau":
        threshold = curve[lowest] + PLATEAU_TOLERANCE * (curve[0] - curve[lowest])
        first = last = lowest
        while first > 0 and curve[first - 1] <= threshold:
            first -= 1
        while last + 1 < len(curve) and curve[last + 1] <= threshold:
            last += 1
        return (first + last) // 2
    if rule == "divergence" or lowest < 2:
        return lowest
    falling = curve[:lowest + 1]
    if rule == "steepest":
        slope = np.gradient(falling, np.log(lrs[:lowest + 1]))
        skip = min(len(falling) // 10, lowest - 1)
        return skip + int(np.argmin(slope[skip:lowest]))
    first, last = _longest_fall(falling)
    return first + (2 * (last - first)) // 3


def centered_average(values: Sequence[float], smoothing: float) -> list[float]:
    """The bias-corrected exponential moving average run forward, then backward over the result.

    The two passes' lags cancel (exactly, away from the ends, on a linear stretch), so the
    curve's features stay at the learning rates where they happened.
    """
    def one_pass(series: Sequence[float]) -> list[float]:
        out, average = [], 0.0
        for i, value in enumerate(series):
            average = smoothing * average + (1 - smoothing) * value
            out.append(average / (1 - smoothing ** (i + 1)))
        return out

    return one_pass(one_pass(list(values))[::-1])[::-1]


def _before_blow_up(losses: Sequence[float], factor: float) -> int:
    """How many leading raw losses come before the first one above ``factor`` times the lowest so far
    (or not finite): the proposal's curve ends there, so that the backward pass of the zero-lag
    average does not carry the blow-up back into the curve."""
    lowest = math.inf
    for i, value in enumerate(losses):
        if not math.isfinite(value) or (i > 0 and value > factor * lowest):
            return max(i, 1)
        lowest = min(lowest, value)
    return len(losses)


def _batches(loader: Iterable, steps: int) -> Iterable[Any]:
    """``steps`` batches from ``loader``, starting it again when it runs out."""
    done = 0
    while done < steps:
        empty = True
        for batch in loader:
            empty = False
            yield batch
            done += 1
            if done >= steps:
                return
        if empty:
            raise ValueError("train_loader yields no batches")


def _check(start_lr: float, end_lr: float, num_steps: int, step_mode: str, smoothing: float, rule: str,
           min_factor: float, diverge_factor: float) -> None:
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}")
    if num_steps < 2:
        raise ValueError(f"num_steps must be at least 2, got num_steps={num_steps!r}")
    if step_mode not in ("exp", "linear"):
        raise ValueError(f"step_mode must be 'exp' or 'linear', got step_mode={step_mode!r}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got smoothing={smoothing!r}")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got rule={rule!r}")
    if not 0 < min_factor < 1:
        raise ValueError(f"min_factor must be in (0, 1) (1/10 or 1/100 of max_lr), got min_factor={min_factor!r}")
    if diverge_factor <= 1:
        raise ValueError(f"diverge_factor must be > 1, got diverge_factor={diverge_factor!r}")


def _train_step(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Callable, batch: Any,
                device: torch.device | None) -> float:
    x, y = batch[0], batch[1]
    if device is not None:
        x, y = x.to(device), y.to(device)
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


@dataclass
class _Snapshot:
    """The model's and optimizer's states, put back after a test."""

    model: dict[str, Any]
    optimizer: dict[str, Any]
    training: bool = field(default=True)

    @classmethod
    def take(cls, model: nn.Module, optimizer: torch.optim.Optimizer) -> "_Snapshot":
        return cls(copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()), model.training)

    def put_back(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        model.load_state_dict(self.model)
        optimizer.load_state_dict(copy.deepcopy(self.optimizer))
        model.train(self.training)


def lr_range_test(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Callable, train_loader: Iterable, *,
                  start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100, epochs: int | None = None,
                  step_mode: str = "exp", smoothing: float = 0.98, window: float = 0.025,
                  diverge_factor: float = 4.0, rule: str = "plateau", min_factor: float = 0.1,
                  device: str | torch.device | None = None) -> RangeTestResult:
    """Run the range test (see the module doc); the model and optimizer end as they started.

    ``epochs`` (if given) sets the number of steps to that many passes over ``train_loader``
    (which then needs a length). ``train_loader`` yields ``(inputs, targets)`` batches.
    ``smoothing`` is the running average the stop watches; ``window`` the time constant of the
    proposal's zero-lag curve, as a fraction of ``num_steps`` (at least one step).
    """
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive whole number of passes over train_loader, got epochs={epochs!r}")
        if not hasattr(train_loader, "__len__"):
            raise ValueError("epochs= needs a train_loader with a length (a DataLoader); give num_steps= instead")
        num_steps = epochs * len(train_loader)  # type: ignore[arg-type]
    _check(start_lr, end_lr, num_steps, step_mode, smoothing, rule, min_factor, diverge_factor)
    if not 0 <= window < 1:
        raise ValueError(f"window must be in [0, 1) (a fraction of num_steps), got window={window!r}")
    where = torch.device(device) if device is not None else None
    snapshot = _Snapshot.take(model, optimizer)
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    diverged = False
    try:
        for group in optimizer.param_groups:
            group["lr"] = start_lr if step_mode == "exp" else end_lr
        raiser: torch.optim.lr_scheduler.LRScheduler
        if step_mode == "exp":
            raiser = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=(end_lr / start_lr) ** (1 / (num_steps - 1)))
        else:
            raiser = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=start_lr / end_lr, end_factor=1.0,
                                                       total_iters=num_steps - 1)
        model.train()
        average, lowest = 0.0, math.inf
        for step, batch in enumerate(_batches(train_loader, num_steps)):
            lr = float(optimizer.param_groups[0]["lr"])
            loss = _train_step(model, optimizer, loss_fn, batch, where)
            average = smoothing * average + (1 - smoothing) * loss
            value = average / (1 - smoothing ** (step + 1))
            lrs.append(lr)
            losses.append(loss)
            smoothed.append(value)
            if not math.isfinite(value) or (step > 0 and value > diverge_factor * lowest):
                diverged = True
                break
            lowest = min(lowest, value)
            raiser.step()
    finally:
        snapshot.put_back(model, optimizer)
    kept = _before_blow_up(losses, diverge_factor)
    centered = centered_average(losses[:kept], 1 - 1 / max(1.0, window * num_steps))
    curve = np.asarray(centered)
    if len(curve):
        max_lr = float(np.asarray(lrs[:kept])[_propose(np.asarray(lrs[:kept]), curve, rule)])
    else:
        max_lr = start_lr
    centered += [float("nan")] * (len(losses) - kept)
    return RangeTestResult(lrs, losses, smoothed, centered, rule, max_lr, max_lr * min_factor, min_factor, diverged,
                           step_mode)


@dataclass
class MomentumTestResult:
    """Final smoothed losses per momentum, and the proposed cyclical-momentum band."""

    momentums: list[float]
    losses: list[float]
    min_momentum: float
    max_momentum: float
    lr: float

    def config(self) -> dict[str, Any]:
        """Config entries of a cyclic or one-cycle schedule's momentum band."""
        return {"cycle_momentum": True, "min_momentum": self.min_momentum, "max_momentum": self.max_momentum}

    def plot(self, path: str | os.PathLike | None = None, ax: Any = None) -> Any:
        """Final smoothed loss against momentum, the proposed band shaded."""
        import matplotlib

        if ax is None and path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        figure = None
        if ax is None:
            figure, ax = plt.subplots(figsize=(6, 4))
        ax.plot(self.momentums, self.losses, marker="o")
        ax.axvspan(self.min_momentum, self.max_momentum, color="C2", alpha=0.2,
                   label=f"band {self.min_momentum:.3g} to {self.max_momentum:.3g}")
        ax.set_xlabel("momentum")
        ax.set_ylabel("smoothed training loss")
        ax.set_title(f"momentum range test at lr {self.lr:.3g}")
        ax.legend(loc="best", fontsize="small")
        if path is not None:
            assert ax.figure is not None
            ax.figure.savefig(path, dpi=100, bbox_inches="tight")
            if figure is not None:
                plt.close(figure)
            return Path(path)
        return ax


def _set_momentum(optimizer: torch.optim.Optimizer, momentum: float) -> None:
    for group in optimizer.param_groups:
        if "betas" in group:
            group["betas"] = (momentum, group["betas"][1])
        elif "momentum" in group:
            group["momentum"] = momentum
        else:
            raise ValueError(f"{type(optimizer).__name__} has neither momentum nor betas: no momentum to test")


def momentum_range_test(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Callable,
                        train_loader: Iterable, *, lr: float, momentums: Sequence[float] | None = None,
                        steps: int = 30, smoothing: float = 0.9, tolerance: float = 0.05,
                        device: str | torch.device | None = None) -> MomentumTestResult:
    """Short runs at ``lr``, one per momentum (default 0.9 to 0.99), each from the same start.

    Proposes ``max_momentum`` = the momentum with the lowest final smoothed loss and
    ``min_momentum`` = the smallest tested momentum whose loss is within ``tolerance``
    (relative) of that lowest one (the next lower tested value when that is the best itself),
    the band a cyclical momentum moves in. The model and optimizer end as they started.
    """
    values = [float(m) for m in (momentums if momentums is not None else np.linspace(0.9, 0.99, 10))]
    if not values or any(not 0 <= m < 1 for m in values):
        raise ValueError(f"momentums must be values in [0, 1), got momentums={momentums!r}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got steps={steps!r}")
    where = torch.device(device) if device is not None else None
    snapshot = _Snapshot.take(model, optimizer)
    finals: list[float] = []
    try:
        for momentum in values:
            snapshot.put_back(model, optimizer)
            for group in optimizer.param_groups:
                group["lr"] = lr
            _set_momentum(optimizer, momentum)
            model.train()
            average = 0.0
            value = math.inf
            for step, batch in enumerate(_batches(train_loader, steps)):
                loss = _train_step(model, optimizer, loss_fn, batch, where)
                average = smoothing * average + (1 - smoothing) * loss
                value = average / (1 - smoothing ** (step + 1))
            finals.append(value if math.isfinite(value) else math.inf)
    finally:
        snapshot.put_back(model, optimizer)
    order = sorted(range(len(values)), key=lambda i: values[i])
    best = min(order, key=lambda i: finals[i])
    close = [i for i in order if finals[i] <= finals[best] * (1 + tolerance)]
    low = values[close[0]]
    if low == values[best]:
        position = order.index(best)
        low = values[order[position - 1]] if position > 0 else low
    return MomentumTestResult(values, finals, low, values[best], lr)
