"""The Domain base class, the categorical and constant domains, and domain (de)serialization.

Every domain maps its values to and from the unit interval (``to_unit`` / ``from_unit``),
so that searchers can work on ``[0, 1]^d`` whatever the parameters are, and knows how to
sample itself, check a value, and list a grid. Domains are immutable: ``when`` returns a
new domain.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._conditions import Condition
from ._errors import SpaceError
from ._serial import from_plain, python_value, same_value, to_plain


def check_num_points(num_points: Any, what: str) -> int:
    """``num_points`` for gridding the continuous domain ``what``, checked."""
    if num_points is None:
        raise SpaceError(f"{what} is continuous: pass num_points to grid it")
    if isinstance(num_points, bool) or not isinstance(num_points, (int, np.integer)):
        raise SpaceError(f"num_points must be an int >= 1, got {num_points!r}")
    if num_points < 1:
        raise SpaceError(f"num_points must be >= 1, got {num_points!r}")
    return int(num_points)


def clip_unit(u: float) -> float:
    """``u`` clipped to [0, 1]; SpaceError for NaN."""
    if u != u:
        raise SpaceError("cannot decode NaN from the unit interval")
    return 0.0 if u < 0.0 else 1.0 if u > 1.0 else float(u)


def _checked_unit(u: Any) -> np.ndarray:
    """``u`` as a float array clipped to [0, 1]; SpaceError if any entry is NaN."""
    u = np.asarray(u, dtype=float)
    if np.isnan(u).any():
        raise SpaceError("cannot decode NaN from the unit interval")
    return np.clip(u, 0.0, 1.0)


class Domain(ABC):
    """The set of values one parameter can take, and how to draw and encode them.

    Subclasses give ``type_name`` (the factory name, also the ``"type"`` in ``to_dict``),
    ``_fields`` (the factory arguments, for repr, equality and saving) and the value methods.
    """

    #: Whether the domain has finitely many values (``grid()`` lists them all).
    is_finite: bool = False
    _conditions: tuple[Condition, ...] = ()

    @property
    @abstractmethod
    def type_name(self) -> str:
        """The factory name, e.g. ``"loguniform"``."""

    @abstractmethod
    def _fields(self) -> dict[str, Any]:
        """Factory arguments by name, in call order (keyword-only ones last)."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Any:
        """One random value, as a plain Python object."""

    @abstractmethod
    def validate(self, value: Any) -> Any:
        """``value`` normalized (e.g. ``3.0`` -> ``3`` for ints); SpaceError if not allowed."""

    @abstractmethod
    def to_unit(self, value: Any) -> float:
        """Position of ``value`` in [0, 1]; the inverse of :meth:`from_unit`."""

    @abstractmethod
    def from_unit(self, u: float) -> Any:
        """The value at position ``u`` in [0, 1] (clipped into it)."""

    @abstractmethod
    def _grid(self, num_points: int | None) -> list[Any]:
        """All values (finite domains) or ``num_points`` checked values (continuous)."""

    def to_unit_array(self, values: Sequence[Any]) -> np.ndarray:
        """:meth:`to_unit` of each of ``values``, as a float array (numeric domains compute
        it with numpy; it agrees with :meth:`to_unit` up to floating-point rounding)."""
        return np.array([self.to_unit(value) for value in values], dtype=float)

    def from_unit_array(self, u: np.ndarray) -> list[Any]:
        """:meth:`from_unit` of each entry of ``u`` (a 1-d array), as a list of values."""
        return [self.from_unit(x) for x in np.asarray(u, dtype=float).tolist()]

    def snap_unit(self, u: np.ndarray) -> np.ndarray:
        """Unit positions ``u`` moved to the positions of the values they decode to
        (``to_unit(from_unit(u))`` entry by entry, exactly as the scalar methods compute it,
        so a searcher's snapped candidates never drift from what a config encodes to)."""
        return np.array([self.to_unit(self.from_unit(x)) for x in np.asarray(u, dtype=float).tolist()])

    def unit_table(self) -> tuple[np.ndarray, list[Any]]:
        """For a finite domain: the unit position of every value, ascending, and the values
        in that order (ties keep grid order). Searchers snap and bin candidates with it."""
        values = self.grid()
        positions = np.array([self.to_unit(value) for value in values], dtype=float)
        order = np.argsort(positions, kind="stable")
        return positions[order], [values[i] for i in order]

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one of the domain's values."""
        try:
            self.validate(value)
        except SpaceError:
            return False
        return True

    def grid(self, num_points: int | None = None) -> list[Any]:
        """Grid values: every value of a finite domain (``num_points`` is then ignored), or
        ``num_points`` values evenly spaced in unit space for a continuous one (so log-spaced
        on log scales, and quantiles of unbounded normal domains)."""
        if not self.is_finite:
            num_points = check_num_points(num_points, repr(self))
        return self._grid(num_points)

    def grid_size(self, num_points: int | None = None) -> int:
        """``len(self.grid(num_points))``."""
        return len(self.grid(num_points))

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """Conditions that must all hold for the parameter to exist."""
        return self._conditions

    def when(self, parent: str, op: str, value: Any) -> Domain:
        """A copy of this domain that exists only when ``parent <op> value`` holds.

        ``op`` is one of ``== != < <= > >= in not in``; calling ``when`` again adds another
        condition (all must hold). A bad operator gives a domain that the space refuses.
        """
        try:
            condition = Condition.make(parent, op, value)
        except SpaceError as err:
            return InvalidDomain(f"{self!r}.when({parent!r}, {op!r}, {value!r})", err.reason)
        new = copy.copy(self)
        new._conditions = self._conditions + (condition,)
        return new

    def to_dict(self) -> dict[str, Any]:
        """The domain as JSON/YAML-safe data; see :func:`domain_from_dict`."""
        data = {"type": self.type_name, **self._plain_fields()}
        if self._conditions:
            data["conditions"] = [condition.to_dict() for condition in self._conditions]
        return data

    def _plain_fields(self) -> dict[str, Any]:
        return self._fields()

    def _key(self) -> Any:
        return tuple(self._fields().items())

    def __repr__(self) -> str:
        args = []
        for name, value in self._fields().items():
            if name == "log":
                if value:
                    args.append("log=True")
            else:
                args.append(repr(value))
        text = f"{self.type_name}({', '.join(args)})"
        return text + "".join(condition.call_text() for condition in self._conditions)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Domain):
            return NotImplemented
        return (
            type(self) is type(other)
            and self.type_name == other.type_name
            and self._key() == other._key()
            and self._conditions == other._conditions
        )

    def __hash__(self) -> int:
        return hash(repr(self))


class Choice(Domain):
    """One of a fixed list of values (any objects), each equally likely.

    Values must be distinct; ``True`` and ``1`` count as different, ``1`` and ``1.0`` as the
    same. In unit space value ``i`` of ``k`` sits at ``(i + 0.5) / k``.
    """

    is_finite = True

    def __init__(self, values: Sequence[Any]) -> None:
        if isinstance(values, (str, bytes)):
            raise SpaceError(
                f"choice needs a list of values, not a string: got {values!r} "
                f"(write choice([{values!r}]) for a single string)"
            )
        if isinstance(values, np.ndarray):
            values = values.tolist()
        if not isinstance(values, Sequence):
            raise SpaceError(
                f"choice needs a list, tuple or other sequence of values, got {values!r}"
            )
        self.values: tuple[Any, ...] = tuple(python_value(value) for value in values)
        if not self.values:
            raise SpaceError("choice needs at least one value, got an empty sequence")
        self._size = len(self.values)
        # Hashable values are looked up by key (bools apart from numbers), others scanned.
        self._index: dict[Any, int] = {}
        self._unhashable: list[tuple[int, Any]] = []
        for i, value in enumerate(self.values):
            if self._find(value) is not None:
                raise SpaceError(f"choice values must be distinct, got {value!r} twice")
            try:
                self._index[(value.__class__ is bool, value)] = i
            except TypeError:
                self._unhashable.append((i, value))

    def _find(self, value: Any) -> int | None:
        try:
            found = self._index.get((value.__class__ is bool, value))
        except TypeError:
            found = None
        if found is None:
            for i, option in self._unhashable:
                if same_value(option, value):
                    return i
        return found

    def _index_of(self, value: Any) -> int:
        found = self._find(python_value(value))
        if found is None:
            raise SpaceError(f"{value!r} is not one of the choices {list(self.values)!r}")
        return found

    @property
    def type_name(self) -> str:
        return "choice"

    def _fields(self) -> dict[str, Any]:
        return {"values": list(self.values)}

    def _plain_fields(self) -> dict[str, Any]:
        return {"values": [to_plain(value, "choice value") for value in self.values]}

    def _key(self) -> Any:
        return tuple((value.__class__, value) for value in self.values)

    def sample(self, rng: np.random.Generator) -> Any:
        i = int(rng.random() * self._size)
        return self.values[i if i < self._size else self._size - 1]

    def validate(self, value: Any) -> Any:
        return self.values[self._index_of(value)]

    def to_unit(self, value: Any) -> float:
        return (self._index_of(value) + 0.5) / self._size

    def from_unit(self, u: float) -> Any:
        if not 0.0 <= u <= 1.0:
            u = clip_unit(u)
        i = int(u * self._size)
        return self.values[i if i < self._size else self._size - 1]

    def from_unit_array(self, u: np.ndarray) -> list[Any]:
        u = _checked_unit(u)
        index = np.minimum((u * self._size).astype(np.int64), self._size - 1)
        return [self.values[i] for i in index.tolist()]

    def _grid(self, num_points: int | None) -> list[Any]:
        return list(self.values)

    def grid_size(self, num_points: int | None = None) -> int:
        return self._size


class Constant(Domain):
    """A fixed value. Plain (non-Domain) values in a space become constants."""

    is_finite = True

    def __init__(self, value: Any) -> None:
        self.value = python_value(value)

    @property
    def type_name(self) -> str:
        return "constant"

    def _fields(self) -> dict[str, Any]:
        return {"value": self.value}

    def _plain_fields(self) -> dict[str, Any]:
        return {"value": to_plain(self.value, "constant")}

    def _key(self) -> Any:
        return (self.value.__class__, self.value)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.value

    def validate(self, value: Any) -> Any:
        if value is self.value or same_value(python_value(value), self.value):
            return self.value
        raise SpaceError(f"expected the constant {self.value!r}, got {value!r}")

    def to_unit(self, value: Any) -> float:
        return 0.5

    def from_unit(self, u: float) -> Any:
        return self.value

    def _grid(self, num_points: int | None) -> list[Any]:
        return [self.value]

    def grid_size(self, num_points: int | None = None) -> int:
        return 1

    def __repr__(self) -> str:
        return f"Constant({self.value!r})" + "".join(c.call_text() for c in self._conditions)


class InvalidDomain(Domain):
    """What a factory returns for bad arguments, e.g. ``loguniform(0, 1)``.

    Factories do not raise, so that ``Space({"lr": loguniform(0, 1)})`` can report the
    problem under the parameter's name; any use of the domain raises the problem instead.
    """

    def __init__(self, text: str, problem: str) -> None:
        self.text = text
        self.problem = problem

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise SpaceError(self.problem)

    sample = validate = to_unit = from_unit = _grid = grid = grid_size = contains = _fail
    to_dict = _fail

    @property
    def is_finite(self) -> bool:  # type: ignore[override]
        raise SpaceError(self.problem)

    @property
    def type_name(self) -> str:
        return "invalid"

    def _fields(self) -> dict[str, Any]:
        return {"text": self.text, "problem": self.problem}

    def when(self, parent: str, op: str, value: Any) -> Domain:
        return InvalidDomain(f"{self.text}.when({parent!r}, {op!r}, {value!r})", self.problem)

    def __repr__(self) -> str:
        return self.text


# type name -> (builder, required field names, optional field names)
_BUILDERS: dict[str, tuple[Callable[..., Domain], tuple[str, ...], tuple[str, ...]]] = {}


def register(
    type_name: str,
    builder: Callable[..., Domain],
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> None:
    """Let :func:`domain_from_dict` rebuild domains whose ``"type"`` is ``type_name``."""
    _BUILDERS[type_name] = (builder, required, optional)


register("choice", lambda values: Choice(from_plain(values)), ("values",))
register("constant", lambda value: Constant(from_plain(value)), ("value",))


def domain_from_dict(data: Mapping[str, Any]) -> Domain:
    """Rebuild a domain from :meth:`Domain.to_dict` output; SpaceError if it is malformed."""
    if not isinstance(data, Mapping) or not isinstance(data.get("type"), str):
        raise SpaceError(f"a domain must be a dict with a 'type', got {data!r}")
    type_name = data["type"]
    if type_name not in _BUILDERS:
        raise SpaceError(f"unknown domain type {type_name!r} (known: {', '.join(_BUILDERS)})")
    builder, required, optional = _BUILDERS[type_name]
    fields = {key: value for key, value in data.items() if key not in ("type", "conditions")}
    missing = [key for key in required if key not in fields]
    unknown = [key for key in fields if key not in required and key not in optional]
    if missing or unknown:
        raise SpaceError(
            f"{type_name} domain needs fields {list(required)} (optional {list(optional)}), "
            f"got {sorted(fields)}"
        )
    domain = builder(**fields)
    conditions = data.get("conditions") or []
    if not isinstance(conditions, list):
        raise SpaceError(f"'conditions' must be a list, got {conditions!r}")
    for condition in conditions:
        condition = Condition.from_dict(condition)
        domain = domain.when(condition.parent, condition.op, condition.value)
    return domain
