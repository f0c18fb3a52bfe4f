"""Synthetic single-fidelity problems: Branin, Hartmann 6, Ackley and Rastrigin.

Closed-form functions with known minima, to check that a searcher converges and to measure
decision overhead without any training noise. They cost nothing to compute, so each gets a
cost model for the simulator: a constant number of seconds per evaluation (``seconds``,
default 1 s), as if every evaluation were a training run of fixed length. A constant cost
keeps "time" and "number of evaluations" proportional, which is what these classic
problems mean; the multi-fidelity problems are where costs vary.

Metric ``value`` (the function value), minimized.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

import rung

from ._base import Problem, SingleFidelity
from ._functions import BRANIN_MIN, HARTMANN6_MIN, ackley, branin, hartmann6, rastrigin


class Branin(SingleFidelity):
    """Branin-Hoo on ``x1 in [-5, 10], x2 in [0, 15]``; minimum 0.397887."""

    def __init__(self, name: str = "branin", seconds: float = 1.0) -> None:
        super().__init__(
            name=name,
            metric="value",
            mode="min",
            optimum=BRANIN_MIN,
            optimum_note="analytic: minimum at (-pi, 12.275), (pi, 2.275), (9.42478, 2.475)",
            cost_note=f"constant {seconds:g} s per evaluation",
            seconds=seconds,
        )

    def _make_space(self) -> dict[str, Any]:
        return {"x1": rung.uniform(-5.0, 10.0), "x2": rung.uniform(0.0, 15.0)}

    def value(self, config: Mapping[str, Any]) -> float:
        return branin(config["x1"], config["x2"])


class Hartmann6(SingleFidelity):
    """Hartmann 6 on ``[0, 1]^6`` (parameters ``x0``..``x5``); minimum -3.32237."""

    def __init__(self, name: str = "hartmann6", seconds: float = 1.0) -> None:
        super().__init__(
            name=name,
            metric="value",
            mode="min",
            optimum=HARTMANN6_MIN,
            optimum_note="analytic: minimum at (0.20169, 0.150011, 0.476874, 0.275332, "
            "0.311652, 0.6573)",
            cost_note=f"constant {seconds:g} s per evaluation",
            seconds=seconds,
        )

    def _make_space(self) -> dict[str, Any]:
        return {f"x{i}": rung.uniform(0.0, 1.0) for i in range(6)}

    def value(self, config: Mapping[str, Any]) -> float:
        return hartmann6(np.array([config[f"x{i}"] for i in range(6)]))


class BoxFunction(SingleFidelity):
    """A function of ``dims`` coordinates ``x0``.. in a box ``[-bound, bound]^dims``
    (Ackley, Rastrigin); minimum 0 at the origin."""

    FUNCTIONS: dict[str, tuple[Callable[[np.ndarray], float], float]] = {
        "ackley": (ackley, 32.768),
        "rastrigin": (rastrigin, 5.12),
    }

    def __init__(self, function: str, dims: int, name: str | None = None,
                 seconds: float = 1.0) -> None:
        if function not in self.FUNCTIONS:
            raise ValueError(f"unknown function {function!r} (known: {sorted(self.FUNCTIONS)})")
        self.function = function
        self.dims = int(dims)
        self.bound = self.FUNCTIONS[function][1]
        super().__init__(
            name=name or f"{function}{dims}",
            metric="value",
            mode="min",
            optimum=0.0,
            optimum_note="analytic: minimum 0 at the origin",
            cost_note=f"constant {seconds:g} s per evaluation",
            seconds=seconds,
        )

    def _make_space(self) -> dict[str, Any]:
        return {f"x{i}": rung.uniform(-self.bound, self.bound) for i in range(self.dims)}

    def value(self, config: Mapping[str, Any]) -> float:
        func = self.FUNCTIONS[self.function][0]
        return func(np.array([config[f"x{i}"] for i in range(self.dims)]))


def problems() -> dict[str, Callable[[], Problem]]:
    """The registry entries of this family: name to a factory."""
    return {
        "branin": Branin,
        "hartmann6": Hartmann6,
        "ackley5": lambda: BoxFunction("ackley", 5),
        "rastrigin5": lambda: BoxFunction("rastrigin", 5),
    }
