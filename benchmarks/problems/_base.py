"""The ``Problem`` contract every benchmark problem follows, and helpers they share.

A problem is what the benchmark runner and the simulator backend need to know about an
objective: its search space, the metric and its direction, the fidelity (the resource
attribute a multi-fidelity scheduler reads, e.g. ``epoch``) with its levels, the known or
best-known optimum, and ``steps(config, start_step)``, which yields one
``(duration_seconds, metrics)`` pair per fidelity level. Synthetic and tabulated problems
return their durations from a cost model without waiting; real problems train and measure.

Step numbering: step ``i`` (0-based) reaches resource value ``levels[i]``; ``start_step`` is the
number of steps already done, so ``steps(config, 2)`` yields the steps at ``levels[2:]``. A
single-fidelity problem has one step holding the whole evaluation cost.

Problems keep only small parameters as attributes and load data through per-process caches,
so they pickle cheaply and can be sent to worker processes.
"""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rung.space import Space

KINDS = ("synthetic", "tabulated", "real")
Step = tuple[float, dict[str, float]]


def config_seed(config: Mapping[str, Any], salt: int = 0) -> int:
    """A stable 64-bit seed for ``config`` (same in every process, unlike ``hash``).

    Why: noisy synthetic problems must give the same noise to the same config, so that a
    resumed trial (``start_step > 0``) continues the very curve it started.
    """
    text = json.dumps(sorted((str(k), repr(v)) for k, v in config.items()))
    digest = hashlib.blake2b(f"{salt}|{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class Problem(ABC):
    """One benchmark problem. Subclasses define ``_make_space`` and ``_steps``.

    Attributes: ``name``, ``metric``, ``mode`` ("min" | "max"), ``fidelity`` (resource
    attribute name, None for single-fidelity problems), ``levels`` (resource value reached by
    each step), ``min_resource`` / ``max_resource``, ``optimum`` (None if unknown) with
    ``optimum_note`` saying where it comes from, ``cost_note`` (the cost model) and ``kind``.
    """

    kind: str = "synthetic"

    def __init__(
        self,
        *,
        name: str,
        metric: str,
        mode: str,
        fidelity: str | None,
        levels: Sequence[float],
        optimum: float | None,
        optimum_note: str,
        cost_note: str,
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if fidelity is None and len(levels) != 1:
            raise ValueError("a single-fidelity problem has exactly one level")
        if any(b <= a for a, b in zip(levels, levels[1:])):
            raise ValueError(f"levels must increase, got {list(levels)}")
        self.name = name
        self.metric = metric
        self.mode = mode
        self.fidelity = fidelity
        self.levels = tuple(levels)
        self._optimum = optimum
        self.optimum_note = optimum_note
        self.cost_note = cost_note
        self._space_cache: Space | None = None

    # -- description ---------------------------------------------------------------------

    @property
    def optimum(self) -> float | None:
        """The known optimum (or best-known value) of ``metric`` at full fidelity."""
        return self._optimum

    @property
    def min_resource(self) -> float:
        return self.levels[0]

    @property
    def max_resource(self) -> float:
        return self.levels[-1]

    @property
    def n_steps(self) -> int:
        return len(self.levels)

    @property
    def space(self) -> dict[str, Any]:
        """The search space as a rung space dict (names to domains)."""
        return self._make_space()

    def rung_space(self) -> Space:
        """The space as a checked :class:`rung.Space` (built once per object)."""
        if self._space_cache is None:
            self._space_cache = Space(self._make_space())
        return self._space_cache

    def default_config(self) -> dict[str, Any]:
        """A reasonable config to try first: the centre of the unit cube unless overridden."""
        space = self.rung_space()
        return space.from_unit([0.5] * len(space.tunable_names))

    def better(self, a: float, b: float) -> bool:
        """Whether value ``a`` is strictly better than ``b`` for this problem's mode."""
        return a < b if self.mode == "min" else a > b

    # -- evaluation ----------------------------------------------------------------------

    def steps(self, config: Mapping[str, Any], start_step: int = 0) -> Iterator[Step]:
        """``(duration_seconds, metrics)`` for each step from ``start_step`` to the last.

        ``metrics`` holds ``metric`` and, for multi-fidelity problems, the resource
        attribute ``fidelity`` with the value ``levels[i]``. The config is checked against
        the space first (``rung.SpaceError`` if it does not belong), so errors surface at
        the call rather than at the first ``next``.
        """
        if isinstance(start_step, bool) or not isinstance(start_step, int):
            raise TypeError(f"start_step must be an int, got {start_step!r}")
        if not 0 <= start_step <= self.n_steps:
            raise ValueError(f"start_step must be in [0, {self.n_steps}], got {start_step}")
        checked = self.rung_space().validate(config)
        return self._steps(checked, start_step)

    def evaluate(self, config: Mapping[str, Any]) -> float:
        """The metric at full fidelity (runs every step; for checks and baselines)."""
        value = math.nan
        for _, metrics in self.steps(config, 0):
            value = metrics[self.metric]
        return float(value)

    @abstractmethod
    def _make_space(self) -> dict[str, Any]:
        """Build the rung space dict (called lazily)."""

    @abstractmethod
    def _steps(self, config: dict[str, Any], start_step: int) -> Iterator[Step]:
        """Yield the steps of a validated config."""

    # -- pickling and display ------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_space_cache"] = None  # rebuilt on demand; keeps pickles small
        return state

    def __repr__(self) -> str:
        fid = f", fidelity={self.fidelity!r} {self.min_resource}..{self.max_resource}"
        return (
            f"<{type(self).__name__} {self.name!r} kind={self.kind} metric={self.metric!r} "
            f"mode={self.mode}{fid if self.fidelity else ''}>"
        )


class SingleFidelity(Problem):
    """A problem evaluated in one step; subclasses give ``value(config)`` and ``cost``."""

    def __init__(self, *, seconds: float, **kwargs: Any) -> None:
        if not seconds > 0:
            raise ValueError(f"seconds per evaluation must be > 0, got {seconds}")
        super().__init__(fidelity=None, levels=(1,), **kwargs)
        self.seconds = float(seconds)

    @abstractmethod
    def value(self, config: Mapping[str, Any]) -> float:
        """The function value of a validated config."""

    def _steps(self, config: dict[str, Any], start_step: int) -> Iterator[Step]:
        if start_step == 0:
            yield self.seconds, {self.metric: float(self.value(config))}
