"""The search space: named parameters, each a domain, possibly conditional on others."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

import numpy as np
import yaml

from ._domains import Constant, Domain, InvalidDomain, domain_from_dict
from ._entries import space_entry
from ._errors import SpaceError
from ._grid import count_grid, enumerate_assignments

# Finite parents up to this size get every condition checked against every value at
# construction, so that e.g. comparing a string choice with "<" fails early.
_CHECK_PARENT_VALUES = 10_000


def _topological_order(domains: Mapping[str, Domain]) -> list[str]:
    """Names with every parent before its children, otherwise in declaration order."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name) :] + [name]
            raise SpaceError(
                f"conditions form a cycle: {' -> '.join(cycle)} (each depends on the next); "
                f"parent {cycle[1]!r}",
                name,
            )
        state[name] = 1
        for condition in domains[name].conditions:
            visit(condition.parent, [*path, name])
        state[name] = 2
        order.append(name)

    for name in domains:
        visit(name, [])
    return order


class Space(Mapping[str, Domain]):
    """A search space: parameter names mapped to domains, in declaration order.

    ``Space({"lr": loguniform(1e-4, 1), "layers": randint(1, 4), "epochs": 10})``; plain
    values become :class:`Constant` domains, frozen ``scipy.stats`` distributions their
    domains (``from_scipy``), and lists or tuples are refused as ambiguous (``choice``,
    ``uniform`` or ``constant`` say which is meant). Parameters can depend on others through
    ``Domain.when``; a config holds only the parameters that are active in it. Everything is
    checked at construction and problems raise :class:`SpaceError` naming the parameter.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        if not isinstance(spec, Mapping):
            raise SpaceError(
                f"a space is a mapping of parameter names to domains, got {type(spec).__name__}"
            )
        domains: dict[str, Domain] = {}
        for name, value in spec.items():
            if not isinstance(name, str) or not name:
                raise SpaceError(f"parameter names must be non-empty strings, got {name!r}", name)
            try:
                domain = space_entry(value, name)
            except SpaceError as err:
                raise err.for_param(name) from None
            if isinstance(domain, InvalidDomain):
                raise SpaceError(domain.problem, name)
            domains[name] = domain
        for name, domain in domains.items():
            for condition in domain.conditions:
                if condition.parent not in domains:
                    raise SpaceError(
                        f"condition {condition} refers to unknown parameter {condition.parent!r}",
                        name,
                    )
        self._domains = domains
        self._names = list(domains)
        order = _topological_order(domains)
        self._check_conditions()
        self._tunable = [n for n, d in domains.items() if not isinstance(d, Constant)]
        self._unit_index = {name: i for i, name in enumerate(self._tunable)}
        self._order = order
        self._plan = [(name, domains[name], domains[name].conditions) for name in order]
        self._reorder = order != self._names

    def _check_conditions(self) -> None:
        for name, domain in self._domains.items():
            for condition in domain.conditions:
                parent = self._domains[condition.parent]
                if not parent.is_finite or parent.grid_size() > _CHECK_PARENT_VALUES:
                    continue
                try:
                    for value in parent.grid():
                        condition.holds(value)
                except SpaceError as err:
                    raise err.for_param(name) from None

    @classmethod
    def coerce(cls, obj: Space | Mapping[str, Any]) -> Space:
        """``obj`` if it is a Space, else ``Space(obj)``."""
        return obj if isinstance(obj, Space) else cls(obj)

    # -- mapping ------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Domain:
        return self._domains[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Space):
            return NotImplemented
        return list(self._domains.items()) == list(other._domains.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        items = []
        for name, domain in self._domains.items():
            if isinstance(domain, Constant) and not domain.conditions and not isinstance(domain.value, (list, tuple)):
                items.append(f"{name!r}: {domain.value!r}")
            else:
                items.append(f"{name!r}: {domain!r}")
        return "Space({" + ", ".join(items) + "})"

    @property
    def names(self) -> list[str]:
        """All parameter names, in declaration order."""
        return list(self._names)

    @property
    def tunable_names(self) -> list[str]:
        """Names of the non-constant parameters: the coordinates of ``to_unit``."""
        return list(self._tunable)

    @property
    def order(self) -> list[str]:
        """All parameter names with every parent before its children (otherwise in
        declaration order): the order in which a config's activity is decided."""
        return list(self._order)

    @property
    def is_finite(self) -> bool:
        """Whether every parameter has finitely many values (so ``grid()`` needs no
        ``num_points``)."""
        return all(domain.is_finite for domain in self._domains.values())

    # -- configs ------------------------------------------------------------------------

    def _ordered(self, values: dict[str, Any]) -> dict[str, Any]:
        if not self._reorder:
            return values
        return {name: values[name] for name in self._names if name in values}

    @staticmethod
    def _inactive_error(name: str, domain: Domain) -> SpaceError:
        needs = " and ".join(str(condition) for condition in domain.conditions)
        return SpaceError(f"got a value, but the parameter is inactive here (needs {needs})", name)

    def _unknown(self, config: Mapping[str, Any]) -> None:
        for name in config:
            if name not in self._domains:
                raise SpaceError(f"unknown parameter (known: {', '.join(self._names)})", name)

    def sample(
        self, rng: np.random.Generator, fixed: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """A random config of the active parameters, constants included.

        ``fixed`` gives the values of some parameters (checked); the rest are drawn.
        """
        if fixed:
            return self._sample_fixed(rng, fixed)
        values: dict[str, Any] = {}
        name = ""
        try:
            for name, domain, conditions in self._plan:
                for condition in conditions:
                    parent = condition.parent
                    if parent not in values or not condition.holds(values[parent]):
                        break
                else:
                    values[name] = domain.sample(rng)
        except SpaceError as err:
            raise err.for_param(name) from None
        return self._ordered(values)

    def _sample_fixed(self, rng: np.random.Generator, fixed: Mapping[str, Any]) -> dict[str, Any]:
        return self._resolve(fixed, lambda name, domain: domain.sample(rng))

    def _resolve(self, given: Mapping[str, Any], missing: Any) -> dict[str, Any]:
        """Walk the parameters parent-first: validate given values, ``missing(name, domain)``
        for active parameters not given, and refuse values given for inactive ones."""
        self._unknown(given)
        values: dict[str, Any] = {}
        name = ""
        try:
            for name, domain, conditions in self._plan:
                if not self._holds(conditions, values):
                    if name in given:
                        raise self._inactive_error(name, domain)
                    continue
                values[name] = domain.validate(given[name]) if name in given else missing(name, domain)
        except SpaceError as err:
            raise err.for_param(name) from None
        return self._ordered(values)

    @staticmethod
    def _holds(conditions: Sequence[Any], values: Mapping[str, Any]) -> bool:
        for condition in conditions:
            parent = condition.parent
            if parent not in values or not condition.holds(values[parent]):
                return False
        return True

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` checked and normalized; constants may be left out (they are filled in).

        SpaceError, naming the parameter, for unknown keys, missing active parameters,
        invalid values and values given for inactive parameters.
        """
        if not isinstance(config, Mapping):
            raise SpaceError(f"a config must be a mapping, got {type(config).__name__}")
        return self._resolve(config, _constant_or_missing)

    def is_active(self, name: str, config: Mapping[str, Any]) -> bool:
        """Whether parameter ``name`` exists in ``config`` (all its conditions hold, and
        its parents are active). Constants missing from ``config`` count as present."""
        if name not in self._domains:
            raise SpaceError(f"unknown parameter (known: {', '.join(self._names)})", name)
        try:
            for condition in self._domains[name].conditions:
                parent = condition.parent
                if not self.is_active(parent, config):
                    return False
                if parent in config:
                    value = config[parent]
                elif isinstance(parent_domain := self._domains[parent], Constant):
                    value = parent_domain.value
                else:
                    return False
                if not condition.holds(value):
                    return False
        except SpaceError as err:
            raise err.for_param(name) from None
        return True

    # -- unit cube ----------------------------------------------------------------------

    def to_unit(self, config: Mapping[str, Any]) -> np.ndarray:
        """``config`` as a point of [0, 1]^d, one coordinate per tunable parameter (in
        ``tunable_names`` order); NaN where the parameter is inactive."""
        out = [math.nan] * len(self._tunable)
        values: dict[str, Any] = {}
        index = self._unit_index
        name = ""
        try:
            for name, domain, conditions in self._plan:
                if conditions and not self._holds(conditions, values):
                    continue
                if name in config:
                    value = config[name]
                elif isinstance(domain, Constant):
                    value = domain.value
                else:
                    raise SpaceError("missing from the config", name)
                values[name] = value
                i = index.get(name)
                if i is not None:
                    out[i] = domain.to_unit(value)
        except SpaceError as err:
            raise err.for_param(name) from None
        return np.array(out, dtype=float)

    def from_unit(self, x: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """The config at point ``x`` of [0, 1]^d (the inverse of :meth:`to_unit`):
        inactive parameters are dropped, their coordinates ignored; constants added."""
        if isinstance(x, np.ndarray):
            x = x.tolist()
        if len(x) != len(self._tunable):
            raise SpaceError(
                f"expected {len(self._tunable)} unit coordinates ({', '.join(self._tunable)}), "
                f"got {len(x)}"
            )
        values: dict[str, Any] = {}
        index = self._unit_index
        name = ""
        try:
            for name, domain, conditions in self._plan:
                if conditions and not self._holds(conditions, values):
                    continue
                i = index.get(name)
                values[name] = cast(Constant, domain).value if i is None else domain.from_unit(x[i])
        except SpaceError as err:
            raise err.for_param(name) from None
        return self._ordered(values)

    def to_unit_array(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Many configs as an ``(n, d)`` array of the unit cube (rows as :meth:`to_unit`,
        NaN where a parameter is inactive), with each column's transform applied to the
        whole column at once."""
        configs = list(configs)
        n = len(configs)
        out = np.full((n, len(self._tunable)), math.nan)
        columns: dict[str, list[Any]] = {}
        active: dict[str, np.ndarray] = {}
        name = ""
        try:
            for name, domain, conditions in self._plan:
                mask = self._active_rows(conditions, columns, active, n)
                values: list[Any] = [None] * n
                for r in np.flatnonzero(mask).tolist():
                    config = configs[r]
                    if name in config:
                        values[r] = config[name]
                    elif isinstance(domain, Constant):
                        values[r] = domain.value
                    else:
                        raise SpaceError(f"missing from config {r}", name)
                columns[name], active[name] = values, mask
                i = self._unit_index.get(name)
                if i is not None and mask.any():
                    rows = np.flatnonzero(mask)
                    out[rows, i] = domain.to_unit_array([values[r] for r in rows.tolist()])
        except SpaceError as err:
            raise err.for_param(name) from None
        return out

    def from_unit_array(self, U: np.ndarray) -> list[dict[str, Any]]:
        """The configs at the rows of ``U``, an ``(n, d)`` array of the unit cube (the
        inverse of :meth:`to_unit_array`; rows as :meth:`from_unit`)."""
        U = np.asarray(U, dtype=float)
        if U.ndim != 2 or U.shape[1] != len(self._tunable):
            raise SpaceError(
                f"expected an (n, {len(self._tunable)}) array of unit coordinates "
                f"({', '.join(self._tunable)}), got shape {U.shape}"
            )
        n = len(U)
        columns: dict[str, list[Any]] = {}
        active: dict[str, np.ndarray] = {}
        name = ""
        try:
            for name, domain, conditions in self._plan:
                mask = self._active_rows(conditions, columns, active, n)
                i = self._unit_index.get(name)
                values: list[Any] = [getattr(domain, "value", None)] * n  # constants: their value
                if i is not None:
                    values = [None] * n
                if i is not None and mask.any():
                    rows = np.flatnonzero(mask)
                    for r, value in zip(rows.tolist(), domain.from_unit_array(U[rows, i])):
                        values[r] = value
                columns[name], active[name] = values, mask
        except SpaceError as err:
            raise err.for_param(name) from None
        names = self._names
        return [
            {name: columns[name][r] for name in names if active[name][r]} for r in range(n)
        ]

    @staticmethod
    def _active_rows(
        conditions: Sequence[Any], columns: Mapping[str, list[Any]], active: Mapping[str, np.ndarray], n: int
    ) -> np.ndarray:
        """Rows in which every condition holds on an active parent (parents decided first)."""
        mask = np.ones(n, dtype=bool)
        for condition in conditions:
            parent, on = columns[condition.parent], active[condition.parent]
            mask &= np.array([bool(on[r]) and condition.holds(parent[r]) for r in range(n)], dtype=bool)
        return mask

    # -- grid ---------------------------------------------------------------------------

    def _grid_points(self, num_points: int | Mapping[str, int] | None) -> dict[str, int | None]:
        if isinstance(num_points, Mapping):
            self._unknown(num_points)
            return {name: num_points.get(name) for name in self._names}
        return {name: num_points for name in self._names}

    def _grid_call(self, name: str, n: int | None, method: str) -> Any:
        domain = self._domains[name]
        if n is None and not domain.is_finite:
            raise SpaceError(
                f"{domain!r} is continuous: a grid needs num_points, e.g. "
                f"rung.searchers.Grid(space, num_points=5) (5 values of every continuous parameter) "
                f"or num_points={{{name!r}: 5}}; Space.grid() and Space.grid_size() take the same argument",
                name,
            )
        try:
            return getattr(domain, method)(n)
        except SpaceError as err:
            raise err.for_param(name) from None

    def grid(self, num_points: int | Mapping[str, int] | None = None) -> Iterator[dict[str, Any]]:
        """Every config of the grid: the Cartesian product of each parameter's grid values,
        in declaration order with the last parameter varying fastest. Inactive parameters
        are left out (each config appears once). Continuous parameters need
        ``num_points``: an int for all, or a dict by name."""
        points = self._grid_points(num_points)
        values = {name: self._grid_call(name, points[name], "grid") for name in self._names}
        return enumerate_assignments(self._names, self._domains, values)

    def grid_size(self, num_points: int | Mapping[str, int] | None = None) -> int:
        """Number of configs :meth:`grid` yields, counted without listing them."""
        points = self._grid_points(num_points)
        sizes = {name: self._grid_call(name, points[name], "grid_size") for name in self._names}
        parents = {c.parent for d in self._domains.values() for c in d.conditions}
        values = {name: self._grid_call(name, points[name], "grid") for name in parents}
        return count_grid(self._names, self._domains, sizes, values)

    # -- saving -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The space as JSON/YAML-safe data: ``{name: domain.to_dict()}``."""
        out = {}
        for name, domain in self._domains.items():
            try:
                out[name] = domain.to_dict()
            except SpaceError as err:
                raise err.for_param(name) from None
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Space:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, Mapping):
            raise SpaceError(f"a saved space is a mapping of names to domains, got {data!r}")
        domains = {}
        for name, domain_data in data.items():
            try:
                domains[name] = domain_from_dict(domain_data)
            except SpaceError as err:
                raise err.for_param(name) from None
        return cls(domains)

    def to_json(self, indent: int | None = 2) -> str:
        """The space as JSON text; see :meth:`from_json`."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Space:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SpaceError(f"not valid JSON: {err}") from None
        return cls.from_dict(data)

    def to_yaml(self) -> str:
        """The space as YAML text; see :meth:`from_yaml`."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str) -> Space:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise SpaceError(f"not valid YAML: {err}") from None
        return cls.from_dict(data)


def _constant_or_missing(name: str, domain: Domain) -> Any:
    """For :meth:`Space.validate`: constants may be left out of a config, nothing else."""
    if isinstance(domain, Constant):
        return domain.value
    raise SpaceError("missing from the config", name)
