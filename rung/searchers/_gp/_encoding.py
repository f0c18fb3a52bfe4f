"""Configs as GP inputs: numeric parameters on one coordinate, categoricals one-hot.

The space's unit cube (``Space.to_unit``) already puts log scales and normal priors on a
uniform footing, so each numeric parameter keeps its unit coordinate. A categorical with
``k`` values gets ``k`` coordinates (one-hot): the unit position of a choice is arbitrary
(``(i + 0.5) / k``) and would impose a fake order and distance on the values. Integers and
other quantized parameters keep one coordinate but are *snapped* to the unit position of a
representable value, so the GP only ever sees points that can be evaluated. An inactive
parameter (its conditions do not hold) gets a fixed imputed value, 0.5 for a numeric
coordinate and all zeros for a one-hot block, so that the kernel stays defined and all
configs with the same active values map to the same point.

``canonical`` does all of that on a whole matrix of candidates at once (snapping, argmax of
one-hot blocks, conditions evaluated per row), because the acquisition optimizer scores
thousands of candidates per suggestion; going through ``Space.from_unit`` config by config
would cost more than the rest of a suggestion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...space import Choice, Constant, Domain, QNormal, Space

#: Value of an inactive numeric coordinate.
INACTIVE = 0.5
# Discrete numeric domains with at most this many values are snapped with a table of their
# unit positions; larger ones (and unbounded quantized normals) one value at a time.
_TABLE_LIMIT = 1 << 16


@dataclass
class _Param:
    """One tunable parameter: its unit coordinate, its GP columns and how to snap them."""

    name: str
    domain: Domain
    unit: int  # index in Space.to_unit vectors
    kind: str  # "numeric", "discrete", "categorical" or "fixed" (a one-value choice)
    cols: slice  # its columns in GP inputs (empty for "fixed")
    positions: np.ndarray | None = None  # sorted unit positions of a tabled discrete domain
    values: list[Any] = field(default_factory=list)  # the values at those positions / choices
    _cuts: np.ndarray | None = field(init=False, default=None)  # midpoints between positions

    def __post_init__(self) -> None:
        if self.positions is not None:
            self._cuts = 0.5 * (self.positions[1:] + self.positions[:-1])

    def index(self, column: np.ndarray) -> np.ndarray:
        """Index of the nearest tabled value for each entry of ``column``."""
        assert self._cuts is not None
        return np.searchsorted(self._cuts, column)

    def snap(self, column: np.ndarray) -> np.ndarray:
        """``column`` moved to the unit positions of representable values."""
        column = np.clip(column, 0.0, 1.0)
        if self.kind != "discrete":
            return column
        if self.positions is not None:
            return self.positions[self.index(column)]
        return self.domain.snap_unit(column)


class Encoding:
    """Maps configs of ``space`` to and from points of ``[0, 1]^dim`` (GP inputs)."""

    def __init__(self, space: Space) -> None:
        self.space = space
        self.params: list[_Param] = []
        column = 0
        for unit, name in enumerate(space.tunable_names):
            domain = space[name]
            if isinstance(domain, Choice):
                k = len(domain.values)
                kind = "categorical" if k > 1 else "fixed"
                width = k if k > 1 else 0
                param = _Param(name, domain, unit, kind, slice(column, column + width), values=list(domain.values))
            elif domain.is_finite:
                positions: np.ndarray | None = None
                values: list[Any] = []
                if domain.grid_size() <= _TABLE_LIMIT:
                    positions, values = domain.unit_table()
                param = _Param(name, domain, unit, "discrete", slice(column, column + 1), positions, values)
            elif isinstance(domain, QNormal):  # unbounded, so not finite, but still discrete
                param = _Param(name, domain, unit, "discrete", slice(column, column + 1))
            else:
                param = _Param(name, domain, unit, "numeric", slice(column, column + 1))
            column = param.cols.stop
            self.params.append(param)
        self.dim = column
        self._by_name = {p.name: p for p in self.params}
        self._order = space.order
        self._conditional = any(space[name].conditions for name in space.names)
        # Per condition on a finite parent: whether it holds for each of the parent's values.
        self._holds_cache: dict[int, np.ndarray] = {}
        #: Columns optimized by gradient: numeric and discrete (relaxed) coordinates.
        self.continuous = np.zeros(self.dim, dtype=bool)
        for p in self.params:
            if p.kind in ("numeric", "discrete"):
                self.continuous[p.cols] = True

    # -- single configs -------------------------------------------------------------------

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """The GP input of ``config`` (a valid config of the space)."""
        return self.from_unit_rows(self.space.to_unit(config)[None, :], snap=False)[0]

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """The config at GP input ``x`` (a canonical point)."""
        u = np.full(len(self.space.tunable_names), INACTIVE)
        for p in self.params:
            if p.kind == "categorical":
                block = x[p.cols]
                if block.max() > 0:
                    u[p.unit] = (int(np.argmax(block)) + 0.5) / len(p.values)
            elif p.kind != "fixed":
                u[p.unit] = min(max(float(x[p.cols.start]), 0.0), 1.0)
        return self.space.from_unit(u)

    # -- matrices -------------------------------------------------------------------------

    def from_unit_rows(self, U: np.ndarray, snap: bool = True) -> np.ndarray:
        """Canonical GP inputs of points ``U`` of the space's unit cube (NaN: inactive)."""
        X = np.full((len(U), self.dim), INACTIVE)
        for p in self.params:
            u = U[:, p.unit]
            if p.kind == "categorical":
                block = np.zeros((len(U), len(p.values)))
                ok = ~np.isnan(u)
                k = len(p.values)
                idx = np.minimum((u[ok] * k).astype(int), k - 1)
                block[np.flatnonzero(ok), idx] = 1.0
                X[:, p.cols] = block
            elif p.kind != "fixed":
                X[:, p.cols.start] = np.where(np.isnan(u), INACTIVE, u)
        return self.canonical(X) if snap else X

    def canonical(self, X: np.ndarray) -> np.ndarray:
        """``X`` made representable: coordinates clipped to [0, 1], discrete ones snapped,
        one-hot blocks set to their argmax, and inactive parameters imputed per row."""
        X = np.array(X, dtype=float, copy=True)
        for p in self.params:
            if p.kind == "categorical":
                block = X[:, p.cols]
                hot = np.zeros_like(block)
                hot[np.arange(len(X)), np.argmax(block, axis=1)] = 1.0
                X[:, p.cols] = hot
            elif p.kind != "fixed":
                X[:, p.cols.start] = p.snap(X[:, p.cols.start])
        if self._conditional:
            active = self.active(X)
            for p in self.params:
                off = ~active[p.name]
                if off.any() and p.kind != "fixed":
                    X[np.ix_(off, np.arange(p.cols.start, p.cols.stop))] = (
                        0.0 if p.kind == "categorical" else INACTIVE
                    )
        return X

    def active(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """For each parameter, which rows of the (snapped) ``X`` have it active."""
        n = len(X)
        active: dict[str, np.ndarray] = {}
        for name in self._order:
            mask = np.ones(n, dtype=bool)
            for condition in self.space[name].conditions:
                mask &= active[condition.parent] & self._holds(condition, X)
            active[name] = mask
        return active

    def active_columns(self, X: np.ndarray) -> np.ndarray:
        """Per row and column of ``X``: whether the column's parameter is active there."""
        out = np.ones(X.shape, dtype=bool)
        if self._conditional:
            active = self.active(X)
            for p in self.params:
                out[:, p.cols] = active[p.name][:, None]
        return out

    def _holds(self, condition: Any, X: np.ndarray) -> np.ndarray:
        """Whether ``condition`` holds for the parent value of each row."""
        parent = condition.parent
        domain = self.space[parent]
        if isinstance(domain, Constant):
            return np.full(len(X), condition.holds(domain.value))
        p = self._by_name[parent]
        if p.kind == "fixed":
            return np.full(len(X), condition.holds(p.values[0]))
        if p.kind == "categorical" or p.positions is not None:
            table = self._holds_cache.get(id(condition))
            if table is None:
                table = np.array([condition.holds(v) for v in p.values], dtype=bool)
                self._holds_cache[id(condition)] = table
            if p.kind == "categorical":
                idx = np.argmax(X[:, p.cols], axis=1)
            else:
                idx = p.index(X[:, p.cols.start])
            return table[idx]
        column = X[:, p.cols.start]
        return np.array([condition.holds(domain.from_unit(float(u))) for u in column], dtype=bool)

    # -- neighbours for local search ------------------------------------------------------

    def neighbours(self, x: np.ndarray) -> np.ndarray:
        """Canonical points one discrete move away from ``x``: every other value of each
        active categorical, and the next value up and down of each active discrete
        parameter. Empty when there is nothing discrete to move."""
        rows = []
        active = self.active(x[None, :]) if self._conditional else None
        for p in self.params:
            if active is not None and not active[p.name][0]:
                continue
            if p.kind == "categorical":
                block = x[p.cols]
                current = int(np.argmax(block))
                for i in range(len(p.values)):
                    if i != current:
                        row = x.copy()
                        row[p.cols] = 0.0
                        row[p.cols.start + i] = 1.0
                        rows.append(row)
            elif p.kind == "discrete" and p.positions is not None and len(p.positions) > 1:
                j = p.cols.start
                i = int(p.index(x[j : j + 1])[0])
                for step in (-1, 1):
                    if 0 <= i + step < len(p.positions):
                        row = x.copy()
                        row[j] = p.positions[i + step]
                        rows.append(row)
        if not rows:
            return np.empty((0, self.dim))
        return self.canonical(np.array(rows))
