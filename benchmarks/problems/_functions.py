"""Closed-form test functions (numpy only) and their known minimizers.

Written from the standard definitions (Surjanovic & Bingham's Virtual Library of Simulation
Experiments gives the constants and minima used here):

- Branin on ``x1 in [-5, 10], x2 in [0, 15]``: minimum 0.397887 at ``(-pi, 12.275)``,
  ``(pi, 2.275)`` and ``(9.42478, 2.475)``.
- Hartmann 6 on ``[0, 1]^6``: minimum -3.32237 at ``HARTMANN6_ARGMIN``.
- Ackley (a = 20, b = 0.2, c = 2 pi) and Rastrigin (A = 10): minimum 0 at the origin, with
  a regular grid of local minima around it (the multimodal members of the suite).
"""

from __future__ import annotations

import math

import numpy as np

BRANIN_MIN = 0.397887
BRANIN_ARGMINS = ((-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475))

HARTMANN6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
HARTMANN6_A = np.array(
    [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ]
)
HARTMANN6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
HARTMANN6_MIN = -3.32237
HARTMANN6_ARGMIN = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)


def branin(x1: float, x2: float) -> float:
    """Branin-Hoo: three global minima of 0.397887."""
    b = 5.1 / (4.0 * math.pi**2)
    c = 5.0 / math.pi
    t = 1.0 / (8.0 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6.0) ** 2 + 10.0 * (1.0 - t) * math.cos(x1) + 10.0


def hartmann6(x: np.ndarray, alpha: np.ndarray = HARTMANN6_ALPHA) -> float:
    """Hartmann 6 with weights ``alpha`` (the standard ones unless a caller biases them)."""
    inner = np.sum(HARTMANN6_A * (np.asarray(x, dtype=float) - HARTMANN6_P) ** 2, axis=1)
    return float(-np.sum(alpha * np.exp(-inner)))


def ackley(x: np.ndarray) -> float:
    """Ackley: a nearly flat outer region riddled with local minima and a deep hole at 0."""
    x = np.asarray(x, dtype=float)
    d = x.size
    term1 = -20.0 * math.exp(-0.2 * math.sqrt(float(np.sum(x**2)) / d))
    term2 = -math.exp(float(np.sum(np.cos(2.0 * math.pi * x))) / d)
    return max(0.0, term1 + term2 + 20.0 + math.e)  # max: rounding gives -4e-16 at 0


def rastrigin(x: np.ndarray) -> float:
    """Rastrigin: a bowl with a local minimum near every integer point."""
    x = np.asarray(x, dtype=float)
    return float(10.0 * x.size + np.sum(x**2 - 10.0 * np.cos(2.0 * math.pi * x)))
