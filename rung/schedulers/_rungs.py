"""Rung-level arithmetic shared by successive halving, ASHA and Hyperband.

A *rung level* is a resource value (epochs, a data fraction, ...) at which trials are
compared. With ``r_min`` (min_resource), ``r_max`` (max_resource) and ``eta``
(reduction_factor) the levels are ``r_min * eta**k`` for every k with that value below
``r_max``, followed by ``r_max`` itself as the last level: eta=2, r_min=2, r_max=10 gives
2, 4, 8, 10 and eta=3, r_min=1, r_max=9 gives 1, 3, 9.

A trial *reaches* level ``levels[k]`` at its first report whose resource value is at least
``levels[k]``. Every helper here is pure arithmetic; the schedulers keep their own state.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Mapping, Sequence

from ..trial._record import as_metric_value
from ._base import Decision

# Relative tolerance when comparing resource values, so that 0.1 * 3 counts as 0.3.
_TOLERANCE = 1e-9


def check_resource_attr(resource_attr: Any) -> str:
    if not isinstance(resource_attr, str) or not resource_attr:
        raise ValueError(f"resource_attr must be a non-empty string, got resource_attr={resource_attr!r}")
    return resource_attr


def check_number(name: str, value: Any, *, minimum: float = 0.0, strict: bool = True, integer: bool = False) -> Any:
    """``value`` if it is a finite real number above ``minimum`` (or equal, if not ``strict``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))
    if ok and integer:
        ok = float(value).is_integer()
    if ok:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        kind = "an integer" if integer else "a number"
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {kind} {relation} {minimum:g}, got {name}={value!r}")
    return int(value) if integer else value


def check_reduction_factor(reduction_factor: Any) -> Any:
    ok = isinstance(reduction_factor, numbers.Real) and not isinstance(reduction_factor, bool)
    if not ok or not math.isfinite(float(reduction_factor)) or reduction_factor < 2:
        raise ValueError(f"reduction_factor must be >= 2, got reduction_factor={reduction_factor!r}")
    return reduction_factor


def check_resources(min_resource: Any, max_resource: Any, owner: str) -> tuple[Any, Any]:
    """Validate the resource range of a rung-based scheduler named ``owner``."""
    if max_resource is None:
        raise ValueError(
            f"{owner} needs max_resource: the resource value (e.g. the last epoch) at which a trial "
            f"is complete, e.g. {owner}(max_resource=81)"
        )
    min_resource = check_number("min_resource", min_resource)
    max_resource = check_number("max_resource", max_resource)
    if max_resource < min_resource:
        raise ValueError(
            f"max_resource must be >= min_resource, got max_resource={max_resource!r} "
            f"and min_resource={min_resource!r}"
        )
    return min_resource, max_resource


def rung_levels(min_resource: float, max_resource: float, reduction_factor: float) -> list[float]:
    """``r_min * eta**k`` while below ``r_max`` (within rounding), then ``r_max``."""
    levels = []
    level = min_resource
    while level < max_resource * (1 - _TOLERANCE):
        levels.append(level)
        level = level * reduction_factor
    levels.append(max_resource)
    return levels


def resource_of(metrics: Mapping[str, Any], resource_attr: str) -> float | None:
    """The report's resource value, or None when it is absent, not a number or not finite."""
    if resource_attr not in metrics:
        return None
    value = as_metric_value(metrics[resource_attr])
    if value is None or not math.isfinite(value):
        return None
    return value


def at_least(resource: float, level: float) -> bool:
    """``resource >= level``, forgiving floating-point rounding."""
    return resource >= level - _TOLERANCE * max(1.0, abs(level))


def beyond(resource: float, level: float) -> bool:
    """``resource > level`` by more than rounding."""
    return resource > level + _TOLERANCE * max(1.0, abs(level))


def highest_reached(levels: Sequence[float], resource: float) -> int | None:
    """Index of the highest level ``resource`` has reached, or None when below the first."""
    reached = None
    for index, level in enumerate(levels):
        if at_least(resource, level):
            reached = index
        else:
            break
    return reached


def hyperband_sizes(n_levels: int, reduction_factor: float) -> list[int]:
    """Trials per Hyperband bracket, for s = s_max .. 0 with s_max = n_levels - 1.

    Bracket s starts its trials at level index ``s_max - s`` with
    ``ceil((s_max + 1) / (s + 1) * eta**s)`` trials.
    """
    s_max = n_levels - 1
    sizes = []
    for s in range(s_max, -1, -1):
        # Rounded before ceil so that e.g. 4/3 * 9 = 12.000000000000002 gives 12.
        sizes.append(math.ceil(round((s_max + 1) / (s + 1) * reduction_factor**s, 9)))
    return sizes


def stop_cutoff_index(n: int, reduction_factor: float) -> int:
    """0-based rank of the worst value that still continues under "fewer than n/eta better"."""
    return max(math.ceil(round(n / reduction_factor, 9)) - 1, 0)


def n_promoted(n: int, reduction_factor: float) -> int:
    """``floor(n / eta)``: how many of ``n`` values form the top of a rung."""
    return math.floor(round(n / reduction_factor, 9))


def past_max(resource: float, max_resource: float, resource_attr: str, metric_value: float) -> Decision:
    """The decision on a report that reached ``max_resource``: the trial has had its whole
    budget, so it is stopped and recorded as completed (:meth:`Decision.complete`), and it
    never runs a step past ``max_resource``.

    Here the compared value is the resource itself and the threshold is ``max_resource``.
    """
    return Decision.complete(
        f"reached max_resource {resource_attr}={max_resource:g}", rung=max_resource, value=resource,
        threshold=max_resource, compared_with=0, resource_attr=resource_attr, metric_value=metric_value,
    )
