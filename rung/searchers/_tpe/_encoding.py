"""How TPE sees a space: one unit-cube column per tunable parameter, and its kind.

Each column is one of three kinds, which decides its kernel:

* continuous (``CONT``): a truncated Gaussian on [0, 1]. Floats, normal priors (their unit
  coordinate is the CDF, so a uniform prior in unit space is the domain's own prior), and
  quantized domains too large to list (their candidates are snapped to a value).
* ordinal (``ORD``): ints and quantized floats with at most :data:`MAX_ORDINAL_VALUES`
  values. Each value owns a bin of [0, 1] (edges halfway between neighbouring values'
  unit positions); the kernel is a truncated Gaussian discretized over those bins, so a
  value's probability is the kernel's mass on its bin.
* categorical (``CAT``): an Aitchison-Aitken kernel over the choice's indices.

Conditions are evaluated for whole candidate batches at once: a condition on a listed
parent (ordinal or categorical) becomes a lookup table over the parent's values, so only
conditions on continuous parents call Python per candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...space import Choice, Constant, Domain, QNormal, QUniform, RandInt, Space

CONT, ORD, CAT = 0, 1, 2

#: Quantized domains with more values than this are modelled as continuous (and snapped).
MAX_ORDINAL_VALUES = 1024


@dataclass
class Column:
    """One tunable parameter as TPE models it."""

    name: str
    domain: Domain
    kind: int
    #: Number of values (ordinal and categorical), else 0.
    size: int = 0
    #: Ordinal: unit position of each value, and the ``size + 1`` bin edges around them.
    positions: np.ndarray | None = None
    edges: np.ndarray | None = None
    #: Continuous columns whose values are quantized: candidates go through the domain.
    snap: bool = False


@dataclass
class _Test:
    """One condition of a parameter, ready for batch evaluation."""

    parent: str
    #: Column of the parent, or None for a constant parent.
    column: int | None
    #: Ordinal / categorical parent: holds() for each of the parent's values.
    table: np.ndarray | None = None
    #: Constant parent: whether the condition holds for its value.
    constant: bool = True
    #: Continuous parent: the condition, called on decoded values.
    holds: Callable[[Any], bool] | None = None


@dataclass
class _Param:
    name: str
    column: int | None
    tests: list[_Test] = field(default_factory=list)


def _ordinal_values(domain: Domain) -> list[Any] | None:
    """All values of an int or quantized-uniform domain, if few enough to list and if each
    round-trips through the unit interval exactly (so a bin decodes to its own value)."""
    if not isinstance(domain, (RandInt, QUniform)):
        return None
    if domain.grid_size() > MAX_ORDINAL_VALUES:
        return None
    values = domain.grid()
    for value in values:
        if domain.from_unit(domain.to_unit(value)) != value:
            return None
    return values


def _column(name: str, domain: Domain) -> Column:
    if isinstance(domain, Choice):
        return Column(name, domain, CAT, size=domain.grid_size())
    values = _ordinal_values(domain)
    if values is not None:
        positions, _ = domain.unit_table()
        edges = np.empty(len(positions) + 1)
        edges[0], edges[-1] = 0.0, 1.0
        edges[1:-1] = 0.5 * (positions[:-1] + positions[1:])
        return Column(name, domain, ORD, size=len(values), positions=positions, edges=edges)
    snap = isinstance(domain, (RandInt, QUniform, QNormal))
    return Column(name, domain, CONT, snap=snap)


class Encoding:
    """The columns of a space and batch operations on candidate matrices.

    Candidates are ``(n, d)`` arrays of unit coordinates, one column per tunable parameter
    in ``space.tunable_names`` order (the order of ``Space.to_unit``).
    """

    def __init__(self, space: Space) -> None:
        self.space = space
        names = space.tunable_names
        self.columns = [_column(name, space[name]) for name in names]
        self.d = len(self.columns)
        self.kinds = np.array([c.kind for c in self.columns], dtype=int)
        self.cont = np.flatnonzero(self.kinds == CONT)
        self.ord = np.flatnonzero(self.kinds == ORD)
        self.cat = np.flatnonzero(self.kinds == CAT)
        #: Number of values per column (1 for continuous columns, so divisions are safe).
        self.sizes = np.array([max(c.size, 1) for c in self.columns], dtype=float)
        self.snapped = [j for j, c in enumerate(self.columns) if c.snap]
        self._plan = self._build_plan(space, {name: j for j, name in enumerate(names)})
        self.has_conditions = any(p.tests for p in self._plan)

    def _build_plan(self, space: Space, index: dict[str, int]) -> list[_Param]:
        plan = []
        for name in space.order:
            param = _Param(name, index.get(name))
            for condition in space[name].conditions:
                parent = space[condition.parent]
                column = index.get(condition.parent)
                test = _Test(condition.parent, column)
                if isinstance(parent, Constant):
                    test.constant = condition.holds(parent.value)
                elif column is None:  # pragma: no cover - a tunable parent always has a column
                    raise AssertionError(condition.parent)
                elif self.columns[column].kind == CONT:
                    test.holds = condition.holds
                else:
                    # Values in the order of their unit positions, like the bins
                    # (a choice's grid order already is).
                    _, values = parent.unit_table()
                    test.table = np.array([condition.holds(v) for v in values], dtype=bool)
                param.tests.append(test)
            plan.append(param)
        return plan

    # -- discrete columns ---------------------------------------------------------------

    def category(self, x: np.ndarray) -> np.ndarray:
        """Category index of each categorical column of ``x`` (``(n, len(cat))``)."""
        sizes = self.sizes[self.cat]
        return np.minimum((x[:, self.cat] * sizes).astype(np.int64), (sizes - 1).astype(np.int64))

    def bin_of(self, j: int, u: np.ndarray) -> np.ndarray:
        """Bin (value index) of unit coordinates ``u`` in ordinal column ``j``."""
        edges = self.columns[j].edges
        assert edges is not None
        return np.searchsorted(edges[1:-1], u, side="right")

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Candidates moved onto values, in place: ordinal coordinates to their bin's
        position, quantized continuous ones through their domain.

        Returns the bin of each ordinal coordinate, ``(n, len(ord))`` ints: the
        discretized kernels integrate over it.
        """
        bins = np.empty((x.shape[0], len(self.ord)), dtype=np.int64)
        for k, j in enumerate(self.ord.tolist()):
            b = bins[:, k] = self.bin_of(j, x[:, j])
            positions = self.columns[j].positions
            assert positions is not None
            x[:, j] = positions[b]
        for j in self.snapped:
            x[:, j] = self.columns[j].domain.snap_unit(x[:, j])
        return bins

    def bin_widths(self, bins: np.ndarray) -> np.ndarray:
        """Width of each ordinal bin of ``bins`` (``(n, len(ord))``): its prior mass."""
        widths = np.empty(bins.shape)
        for k, j in enumerate(self.ord.tolist()):
            edges = self.columns[j].edges
            assert edges is not None
            widths[:, k] = edges[bins[:, k] + 1] - edges[bins[:, k]]
        return widths

    # -- conditions ---------------------------------------------------------------------

    def active(self, x: np.ndarray) -> np.ndarray:
        """Which parameters exist in each candidate: ``(n, d)`` booleans, with parents
        decided before their children exactly as ``Space.from_unit`` decides them."""
        n = x.shape[0]
        active = np.ones((n, self.d), dtype=bool)
        if not self.has_conditions:
            return active
        exists: dict[str, np.ndarray | bool] = {}
        for param in self._plan:
            alive: np.ndarray | bool = True
            for test in param.tests:
                parent_alive = exists[test.parent]
                if test.column is None:
                    holds: np.ndarray | bool = test.constant
                elif test.table is not None:
                    column = self.columns[test.column]
                    u = x[:, test.column]
                    if column.kind == CAT:
                        index = np.minimum((u * column.size).astype(np.int64), column.size - 1)
                    else:
                        index = self.bin_of(test.column, u)
                    holds = test.table[index]
                else:
                    domain = self.columns[test.column].domain
                    assert test.holds is not None
                    holds = np.array(
                        [test.holds(domain.from_unit(u)) for u in x[:, test.column].tolist()],
                        dtype=bool,
                    )
                alive = np.logical_and(alive, np.logical_and(parent_alive, holds))
            exists[param.name] = alive
            if param.column is not None:
                active[:, param.column] = alive
        return active
