"""Converting choice values, constants and condition values to and from plain data.

Spaces are saved as JSON or YAML, so every value in them must survive a round trip through
both. Plain data is ``None``, bools, ints, floats, strings, lists and string-keyed dicts;
tuples are kept apart from lists as ``{"__tuple__": [...]}`` so that they come back as
tuples. Anything else (a function, an object) is refused with a SpaceError.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._errors import SpaceError

_TUPLE_KEY = "__tuple__"


def python_value(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into plain Python objects."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    return value


def to_plain(value: Any, what: str) -> Any:
    """``value`` as JSON/YAML-safe data; ``what`` says what it is, for the error message."""
    value = python_value(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [to_plain(item, what) for item in value]
    if isinstance(value, tuple):
        return {_TUPLE_KEY: [to_plain(item, what) for item in value]}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise SpaceError(f"{what} {value!r} cannot be saved: dict keys must be strings")
        if list(value) == [_TUPLE_KEY]:
            raise SpaceError(f"{what} {value!r} cannot be saved: {_TUPLE_KEY!r} is reserved")
        return {key: to_plain(item, what) for key, item in value.items()}
    raise SpaceError(
        f"{what} {value!r} cannot be saved as JSON/YAML "
        "(only None, bool, int, float, str, list, tuple and dict with str keys can)"
    )


def from_plain(value: Any) -> Any:
    """Inverse of :func:`to_plain`."""
    if isinstance(value, list):
        return [from_plain(item) for item in value]
    if isinstance(value, dict):
        if list(value) == [_TUPLE_KEY] and isinstance(value[_TUPLE_KEY], list):
            return tuple(from_plain(item) for item in value[_TUPLE_KEY])
        return {key: from_plain(item) for key, item in value.items()}
    return value


def same_value(a: Any, b: Any) -> bool:
    """Equality for choice values and constants: ``==``, but a bool never equals a number.

    ``1 == 1.0`` counts as the same value (ints validate for floats elsewhere too), while
    ``True`` and ``1`` stay different choices.
    """
    if (a.__class__ is bool) != (b.__class__ is bool):
        return False
    try:
        return bool(a == b)
    except Exception:  # e.g. objects whose == returns something without a truth value
        return a is b
