"""Synthetic multi-fidelity problems: the multi-fidelity Hartmann 6 and CountingOnes.

**Multi-fidelity Hartmann 6** (``mf-hartmann6-*``). A trial "trains" for ``epoch`` = 1..27;
at fidelity ``s = epoch / 27`` it reports

    f(x, s) = -sum_i alpha_i(s) exp(-sum_j A_ij (x_j - P_ij)^2) + noise (1 - s) eps,
    alpha(s) = alpha + bias (1 - s) (0, 0, -1, +1),

with ``eps`` standard normal (a fresh draw per epoch, fixed per config and ``seed``). The bias
moves weight from the basin of the global minimum (term 3) to the basin of the strongest
local minimum (term 4), so low fidelities rank configs differently from the full one: with a
small bias they are merely flattened, with a large one (``highbias``: alpha_3 = 2.4,
alpha_4 = 3.8 at s -> 0) they point to the wrong basin, which is the case that tells
schedulers apart. At epoch 27 bias and noise vanish and ``f`` is Hartmann 6 (minimum
-3.32237). Cost: each epoch takes ``epoch_seconds * (0.5 + x0)`` seconds (10 s by default
at x0 = 0.5), as if ``x0`` set the model's width; a full trial costs 135 to 405 s.

| name | bias | noise |
|---|---|---|
| mf-hartmann6-lowbias | 0.1 | 0 |
| mf-hartmann6-highbias | 0.6 | 0 |
| mf-hartmann6-noisy | 0.1 | 0.3 |

**CountingOnes** (Falkner, Klein & Hutter 2018, the BOHB paper). ``N`` binary parameters
``b0``.. (choice of 0 and 1) and ``N`` continuous ones ``x0``.. in [0, 1]; at budget ``n``
each continuous parameter is estimated by the mean of ``n`` Bernoulli(x_j) samples, and the
value is ``-(sum_i b_i + sum_j mean_j)``, minimized, optimum ``-2N`` at all ones (where every
sample is 1, so the optimum is exact at every budget). Budgets 9, 27, 81, 243, 729 samples
(a ladder with reduction factor 3; resource attribute ``samples``). Samples are drawn once
per config and ``seed`` and used cumulatively, so a resumed trial extends its own sample.
Cost: ``seconds_per_sample`` (0.1 s) per new sample, so a full evaluation costs 72.9 s.
Registered for N = 8, 16 and 32 (``counting-ones-16d``, ``-32d``, ``-64d``: total dims).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

import rung

from ._base import Problem, Step, config_seed
from ._functions import HARTMANN6_ALPHA, HARTMANN6_MIN, hartmann6

BIAS_DIRECTION = np.array([0.0, 0.0, -1.0, 1.0])
HARTMANN_LEVELS = {"lowbias": (0.1, 0.0), "highbias": (0.6, 0.0), "noisy": (0.1, 0.3)}
COUNTING_ONES_BUDGETS = (9, 27, 81, 243, 729)


class MultiFidelityHartmann6(Problem):
    """Hartmann 6 whose low epochs are biased and noisy (see the module docstring)."""

    def __init__(self, bias: float, noise: float, name: str | None = None, max_epochs: int = 27,
                 epoch_seconds: float = 10.0, seed: int = 0) -> None:
        self.bias = float(bias)
        self.noise = float(noise)
        self.epoch_seconds = float(epoch_seconds)
        self.seed = int(seed)
        super().__init__(
            name=name or f"mf-hartmann6-b{bias:g}-n{noise:g}",
            metric="value",
            mode="min",
            fidelity="epoch",
            levels=range(1, int(max_epochs) + 1),
            optimum=HARTMANN6_MIN,
            optimum_note="analytic: at the last epoch the function is Hartmann 6",
            cost_note=f"{epoch_seconds:g} s x (0.5 + x0) per epoch",
        )

    def _make_space(self) -> dict[str, Any]:
        return {f"x{i}": rung.uniform(0.0, 1.0) for i in range(6)}

    def value_at(self, x: np.ndarray, fidelity: float, eps: float = 0.0) -> float:
        """``f(x, s)`` for fidelity ``s`` in (0, 1] and a standard normal draw ``eps``."""
        alpha = HARTMANN6_ALPHA + self.bias * (1.0 - fidelity) * BIAS_DIRECTION
        return hartmann6(x, alpha) + self.noise * (1.0 - fidelity) * eps

    def _steps(self, config: dict[str, Any], start_step: int) -> Iterator[Step]:
        x = np.array([config[f"x{i}"] for i in range(6)])
        eps = np.random.default_rng(config_seed(config, self.seed)).standard_normal(self.n_steps)
        duration = self.epoch_seconds * (0.5 + x[0])
        for i in range(start_step, self.n_steps):
            epoch = self.levels[i]
            value = self.value_at(x, epoch / self.max_resource, float(eps[i]))
            yield duration, {"epoch": epoch, self.metric: value}


class CountingOnes(Problem):
    """CountingOnes with ``n`` binary and ``n`` continuous parameters (module docstring)."""

    def __init__(self, n: int, name: str | None = None,
                 budgets: Sequence[int] = COUNTING_ONES_BUDGETS,
                 seconds_per_sample: float = 0.1, seed: int = 0) -> None:
        self.n = int(n)
        self.seconds_per_sample = float(seconds_per_sample)
        self.seed = int(seed)
        super().__init__(
            name=name or f"counting-ones-{2 * n}d",
            metric="value",
            mode="min",
            fidelity="samples",
            levels=tuple(int(b) for b in budgets),
            optimum=-2.0 * n,
            optimum_note="analytic: -2N at all ones (Falkner et al. 2018)",
            cost_note=f"{seconds_per_sample:g} s per Bernoulli sample",
        )

    def _make_space(self) -> dict[str, Any]:
        space: dict[str, Any] = {f"b{i}": rung.choice([0, 1]) for i in range(self.n)}
        space.update({f"x{i}": rung.uniform(0.0, 1.0) for i in range(self.n)})
        return space

    def expected_value(self, config: Mapping[str, Any]) -> float:
        """The noise-free value ``-(sum b + sum x)`` (the limit of infinite budget)."""
        return -float(sum(config[f"b{i}"] for i in range(self.n))
                      + sum(config[f"x{i}"] for i in range(self.n)))

    def _steps(self, config: dict[str, Any], start_step: int) -> Iterator[Step]:
        binary = float(sum(config[f"b{i}"] for i in range(self.n)))
        x = np.array([config[f"x{i}"] for i in range(self.n)])
        rng = np.random.default_rng(config_seed(config, self.seed))
        hits = rng.random((self.n, int(self.max_resource))) < x[:, None]
        counts = np.cumsum(hits, axis=1)
        previous = 0 if start_step == 0 else self.levels[start_step - 1]
        for i in range(start_step, self.n_steps):
            budget = self.levels[i]
            means = counts[:, budget - 1] / budget
            duration = (budget - previous) * self.seconds_per_sample
            previous = budget
            yield duration, {"samples": budget, self.metric: -(binary + float(means.sum()))}


def problems() -> dict[str, Callable[[], Problem]]:
    """The registry entries of this family: name to a factory."""
    entries: dict[str, Callable[[], Problem]] = {}
    for label, (bias, noise) in HARTMANN_LEVELS.items():
        name = f"mf-hartmann6-{label}"
        entries[name] = lambda b=bias, s=noise, n=name: MultiFidelityHartmann6(b, s, name=n)
    for n in (8, 16, 32):
        entries[f"counting-ones-{2 * n}d"] = lambda n=n: CountingOnes(n)
    return entries
