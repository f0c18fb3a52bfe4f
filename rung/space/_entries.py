"""What a value written in a space becomes: a domain as is, a scipy distribution as its
domain, a list or tuple refused (it is ambiguous), anything else a constant.

``{"lr": (1e-3, 1e-1)}`` looks like a range and ``{"units": [16, 32, 64]}`` like a choice;
taken as constants they would tune nothing without a word. So they are refused with the
fixes, and a sequence that really is a fixed value is written ``constant([...])``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._domains import Constant, Domain
from ._errors import SpaceError
from ._scipy import from_scipy, is_scipy_distribution, scipy_problem


def constant(value: Any) -> Domain:
    """A fixed value, of any kind: ``constant([64, 64])`` passes the list itself to every
    trial (a plain list or tuple in a space is refused as ambiguous)."""
    return Constant(value)


def _sequence_hint(value: list[Any] | tuple[Any, ...]) -> str:
    items = list(value)
    shown = repr(value)
    fixes = []
    numbers_only = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in items)
    if len(items) == 2 and numbers_only:
        low, high = items
        fixes.append(f"rung.uniform({low!r}, {high!r}) (or rung.loguniform / rung.randint) for a range")
    if items:
        fixes.append(f"rung.choice({list(items)!r}) to pick one of them")
    fixes.append(f"rung.constant({shown}) to pass this {type(value).__name__} itself to every trial")
    return (
        f"a {type(value).__name__} in a space is ambiguous, got {shown}: write "
        + "; ".join(fixes)
    )


def space_entry(value: Any, name: str = "param") -> Domain:
    """The domain the space entry ``name`` stands for (see the module docstring); SpaceError
    for a list, tuple or array, a dict holding domains, a scipy object that is not a frozen
    distribution, and a scipy distribution with invalid parameters."""
    if isinstance(value, Domain):
        return value
    if is_scipy_distribution(value):
        return from_scipy(value)
    problem = scipy_problem(value)
    if problem is not None:  # e.g. stats.loguniform without its parameters: not a constant
        raise SpaceError(problem)
    if isinstance(value, np.ndarray) and value.ndim > 0:
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        raise SpaceError(_sequence_hint(value))
    if isinstance(value, dict) and any(isinstance(v, Domain) or is_scipy_distribution(v) for v in value.values()):
        inner = ", ".join(str(k) for k, v in value.items() if isinstance(v, Domain) or is_scipy_distribution(v))
        raise SpaceError(
            f"a dict holding domains ({inner}) would be a constant, tuning nothing: spaces are flat, so write "
            f"each as its own parameter (e.g. '{name}.{inner.split(', ')[0]}': ...)"
        )
    return Constant(value)
