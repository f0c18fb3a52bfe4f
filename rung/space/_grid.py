"""Enumerating and counting the grid of a space with conditional parameters.

A grid config assigns every active parameter one of its grid values and leaves inactive
parameters out. Parameters are assigned in declaration order (the last one varies
fastest). A parameter whose parents come earlier knows at once whether it is active; one
declared before a parent is tried both with each value and absent, and the wrong branch is
pruned as soon as the parent is assigned. So every config appears exactly once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._domains import Domain
from ._errors import SpaceError

_ABSENT = object()


def _active(name: str, domain: Domain, assigned: Mapping[str, Any]) -> bool:
    try:
        for condition in domain.conditions:
            value = assigned.get(condition.parent, _ABSENT)
            if value is _ABSENT or not condition.holds(value):
                return False
    except SpaceError as err:
        raise err.for_param(name) from None
    return True


def enumerate_assignments(
    names: Sequence[str], domains: Mapping[str, Domain], values: Mapping[str, list[Any]]
) -> Iterator[dict[str, Any]]:
    """Every consistent assignment of ``names`` (whose conditions refer only to ``names``),
    as dicts holding only the active ones, in declaration order, the last fastest."""
    count = len(names)
    if count == 0:
        yield {}
        return
    position = {name: i for i, name in enumerate(names)}
    last_parent = [
        max((position[c.parent] for c in domains[name].conditions), default=-1) for name in names
    ]
    # Parameters that come before a parent can only be checked once it is assigned.
    checks: list[list[int]] = [[] for _ in names]
    for i, last in enumerate(last_parent):
        if last > i:
            checks[last].append(i)

    assigned: dict[str, Any] = {}

    def options(i: int) -> list[Any]:
        name = names[i]
        if last_parent[i] > i:
            return [*values[name], _ABSENT]
        return values[name] if _active(name, domains[name], assigned) else [_ABSENT]

    def consistent(i: int) -> bool:
        for j in checks[i]:
            present = assigned[names[j]] is not _ABSENT
            if present != _active(names[j], domains[names[j]], assigned):
                return False
        return True

    choices: list[list[Any]] = [[] for _ in names]
    cursor = [0] * count
    choices[0] = options(0)
    i = 0
    while i >= 0:
        if cursor[i] == len(choices[i]):
            assigned.pop(names[i], None)
            i -= 1
            continue
        assigned[names[i]] = choices[i][cursor[i]]
        cursor[i] += 1
        if not consistent(i):
            continue
        if i == count - 1:
            yield {name: value for name, value in assigned.items() if value is not _ABSENT}
        else:
            i += 1
            choices[i] = options(i)
            cursor[i] = 0


def count_grid(
    names: Sequence[str],
    domains: Mapping[str, Domain],
    sizes: Mapping[str, int],
    values: Mapping[str, list[Any]],
) -> int:
    """Number of grid configs, without listing them.

    Only parameters that are parents need their values enumerated; every other parameter
    multiplies the count by its grid size where it is active (``values`` must hold the
    parents' grids, ``sizes`` every parameter's grid size).
    """
    parents = {c.parent for name in names for c in domains[name].conditions}
    enumerated = [name for name in names if name in parents]
    free = 1
    leaves = []
    for name in names:
        if name in parents:
            continue
        if domains[name].conditions:
            leaves.append(name)
        else:
            free *= sizes[name]
    if not leaves and not enumerated:
        return free
    total = 0
    for assignment in enumerate_assignments(enumerated, domains, values):
        total += math.prod(
            sizes[name] for name in leaves if _active(name, domains[name], assignment)
        )
    return free * total
