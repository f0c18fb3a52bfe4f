"""Helpers the peer adapters share: fidelity progress, quiet runs, seeded global RNG."""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from benchmarks.problems import Problem

#: Reduction factor of every successive-halving peer, as rung's methods use.
REDUCTION_FACTOR = 3


def integral_levels(levels: Sequence[float]) -> bool:
    """Whether every fidelity level is a whole number (epochs, samples)."""
    return all(float(level).is_integer() for level in levels)


def progress(problem: Problem, step: int) -> int:
    """The integer progress a peer's scheduler sees after step ``step`` (0-based).

    The resource value itself when the levels are whole numbers (epoch 9, sample 81), so
    that geometric rungs (``min * 3**k``) fall where rung's do; else the step number
    ``step + 1`` (XGBoost's ``trainsize`` 0.05, 0.10, ... becomes 1, 2, ..., proportional
    to the resource, so the rungs are the same).
    """
    if integral_levels(problem.levels):
        return int(problem.levels[step])
    return step + 1


def delay_step(problem: Problem) -> int:
    """Median stopping's grace: the progress of the third level (as rung's ``median``)."""
    return progress(problem, min(2, problem.n_steps - 1))


def version(package: str) -> str:
    """The installed version of ``package`` ("?" if unknown)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


@contextlib.contextmanager
def quiet(*loggers: str) -> Iterator[None]:
    """Silence warnings and lower ``loggers`` to ERROR for the duration of a run."""
    saved = {name: logging.getLogger(name).level for name in loggers}
    try:
        for name in loggers:
            logging.getLogger(name).setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def seeded_global_numpy(seed: int) -> Iterator[None]:
    """Seed numpy's global RNG (some peers draw from it) and restore it afterwards."""
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)
