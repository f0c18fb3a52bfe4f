"""Conditions that make a parameter exist only for some values of another parameter.

``randint(16, 256).when("num_layers", ">=", 3)`` holds a :class:`Condition`; the space
checks it against the value the parent got in the same config. A parameter with several
conditions needs all of them (AND), and a parameter whose parent is absent is absent too.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import SpaceError
from ._serial import from_plain, python_value, to_plain

def _is_in(value: Any, options: Any) -> bool:
    return value in options


def _is_not_in(value: Any, options: Any) -> bool:
    return value not in options


# Module-level functions (not lambdas) so that conditions, and spaces, can be pickled.
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": _is_in,
    "not in": _is_not_in,
}


@dataclass(frozen=True)
class Condition:
    """``parent <op> value``, e.g. ``Condition("num_layers", ">=", 3)``.

    For ``in`` / ``not in`` the value is a collection, kept as a tuple. Build conditions with
    :meth:`make` (or ``Domain.when``) so that they are checked.
    """

    parent: str
    op: str
    value: Any
    _test: Callable[[Any, Any], bool] = field(repr=False, compare=False)

    @classmethod
    def make(cls, parent: str, op: str, value: Any) -> Condition:
        """A checked condition; SpaceError for a bad parent name, operator or value."""
        if not isinstance(parent, str) or not parent:
            raise SpaceError(f"condition parent must be a parameter name, got {parent!r}")
        if not isinstance(op, str) or op not in OPERATORS:
            ops = ", ".join(repr(known) for known in OPERATORS)
            raise SpaceError(f"unknown condition operator {op!r} (use one of {ops})")
        if op in ("in", "not in"):
            if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
                raise SpaceError(
                    f"condition {parent!r} {op} needs a list of values, got {value!r}"
                )
            value = tuple(python_value(item) for item in value)
        else:
            value = python_value(value)
        return cls(parent, op, value, OPERATORS[op])

    def holds(self, parent_value: Any) -> bool:
        """Whether the condition is met when the parent has ``parent_value``."""
        try:
            return bool(self._test(parent_value, self.value))
        except TypeError as err:
            raise SpaceError(
                f"condition {self} cannot be checked for {self.parent}={parent_value!r}: {err}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if self.op in ("in", "not in") else self.value
        return {"parent": self.parent, "op": self.op, "value": to_plain(value, "condition value")}

    @classmethod
    def from_dict(cls, data: Any) -> Condition:
        if not isinstance(data, Mapping) or set(data) != {"parent", "op", "value"}:
            raise SpaceError(f"a condition must be a dict with parent, op and value, got {data!r}")
        return cls.make(data["parent"], data["op"], from_plain(data["value"]))

    def call_text(self) -> str:
        """The ``.when(...)`` call that makes this condition."""
        value = list(self.value) if self.op in ("in", "not in") else self.value
        return f".when({self.parent!r}, {self.op!r}, {value!r})"

    def __str__(self) -> str:
        value = list(self.value) if self.op in ("in", "not in") else self.value
        return f"{self.parent} {self.op} {value!r}"
