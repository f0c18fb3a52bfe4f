"""A searcher instance handed to the tuner must search the tuner's problem.

``Tuner(f, space, searcher=TPE(other_space, metric="loss"))`` would give the objective
configs from another space, and a searcher built for another metric or mode would learn the
wrong thing; both are refused with a message saying what differs. A searcher built without
a metric (``Grid(space)``, ``Random(space)``) is not bound to anything yet: it takes the
tuner's metric and mode.
"""

from __future__ import annotations

from typing import Any

from ..space import Space


def space_difference(theirs: Space, ours: Space) -> str:
    """What differs between a searcher's space (``theirs``) and the tuner's (``ours``)."""
    parts = []
    only_theirs = [name for name in theirs if name not in ours]
    only_ours = [name for name in ours if name not in theirs]
    if only_theirs:
        parts.append(f"only in the searcher's: {', '.join(only_theirs)}")
    if only_ours:
        parts.append(f"only in the tuner's: {', '.join(only_ours)}")
    for name in ours:
        if name in theirs and theirs[name] != ours[name]:
            parts.append(f"{name}: {theirs[name]!r} in the searcher's, {ours[name]!r} in the tuner's")
    if not parts and theirs.names != ours.names:
        parts.append(f"the parameters are in another order ({', '.join(theirs.names)})")
    return "; ".join(parts)


def bind_searcher_instance(searcher: Any, space: Space, metric: str, mode: str) -> None:
    """Check a searcher instance against the tuner's space, metric and mode (ValueError
    naming the difference); a searcher without a metric takes the tuner's metric and mode."""
    name = type(searcher).__name__
    theirs = getattr(searcher, "space", None)
    if isinstance(theirs, Space) and theirs != space:
        raise ValueError(
            f"searcher={name}(...) was built on another space than the tuner's "
            f"({space_difference(theirs, space)}); build it on the tuner's space, "
            f"e.g. {name}(space, ...), or pass searcher={name.lower()!r}"
        )
    if getattr(searcher, "metric", None) is None:
        searcher.metric, searcher.mode = metric, mode
        return
    if searcher.metric != metric:
        raise ValueError(
            f"searcher={name}(...) was built with metric={searcher.metric!r} but the tuner's metric is "
            f"{metric!r}; build it without metric= (it then takes the tuner's) or with metric={metric!r}"
        )
    if searcher.mode != mode:
        raise ValueError(
            f"searcher={name}(...) was built with mode={searcher.mode!r} but the tuner's mode is "
            f"{mode!r}; build it with mode={mode!r} (or without metric= and mode=, to take the tuner's)"
        )
