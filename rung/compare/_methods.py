"""Method names for ``rung compare``: each is a searcher and a scheduler for the Tuner.

A name is one of :data:`METHODS` (``random``, ``tpe``, ``gp``, ``asha``, ``bohb``, ...) or
``<searcher>+<scheduler>`` (``tpe+asha``, ``gp+median``). The multi-fidelity schedulers need
the resource the trials report and its maximum (:class:`Fidelity`), from the spec's
scheduler or the ``resource_attr=`` / ``max_resource=`` arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..schedulers import ASHA, FIFO, Hyperband, MedianStopping, Scheduler, SuccessiveHalving
from ..searchers import SEARCHERS

#: name -> (searcher, scheduler); a scheduler of None is FIFO (every trial runs to its end).
METHODS: dict[str, tuple[str, str | None]] = {
    "random": ("random", None),
    "grid": ("grid", None),
    "tpe": ("tpe", None),
    "gp": ("gp", None),
    "auto": ("auto", None),
    "asha": ("random", "asha"),
    "asha-promotion": ("random", "asha-promotion"),
    "hyperband": ("random", "hyperband"),
    "sh": ("random", "sh"),
    "median": ("random", "median"),
    "bohb": ("bohb", "hyperband"),
    "mobster": ("mobster", "asha"),
}
SCHEDULER_NAMES = ("fifo", "asha", "asha-promotion", "hyperband", "sh", "median")
MULTI_FIDELITY = {"asha", "asha-promotion", "hyperband", "sh", "median"}
REDUCTION_FACTOR = 3


@dataclass(frozen=True)
class Fidelity:
    """The resource trials report (``resource_attr``) and the rung levels' range."""

    resource_attr: str
    max_resource: float
    min_resource: float = 1.0
    reduction_factor: float = REDUCTION_FACTOR


def parse_method(name: Any) -> tuple[str, str | None]:
    """``(searcher, scheduler)`` for a method name; ValueError naming the name otherwise."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"methods must be names such as 'random' or 'tpe+asha', got {name!r}")
    if name in METHODS:
        return METHODS[name]
    if "+" in name:
        searcher, scheduler = name.split("+", 1)
        if searcher in SEARCHERS and scheduler in SCHEDULER_NAMES:
            return searcher, None if scheduler == "fifo" else scheduler
    known = ", ".join(sorted(METHODS))
    raise ValueError(
        f"unknown method {name!r}: use one of {known}, or <searcher>+<scheduler> with a searcher in "
        f"{sorted(SEARCHERS)} and a scheduler in {list(SCHEDULER_NAMES)}"
    )


def needs_fidelity(name: str) -> bool:
    return parse_method(name)[1] in MULTI_FIDELITY


def build_scheduler(name: str | None, fidelity: Fidelity | None, seed: int | None) -> Scheduler:
    """The scheduler ``name`` on ``fidelity``'s rung levels (FIFO for None)."""
    if name is None:
        return FIFO()
    if fidelity is None:
        raise ValueError(f"scheduler {name!r} needs the resource trials report: pass resource_attr= and "
                         "max_resource= (or use a spec whose scheduler names them)")
    levels: dict[str, Any] = dict(resource_attr=fidelity.resource_attr, min_resource=fidelity.min_resource,
                                  max_resource=fidelity.max_resource, reduction_factor=fidelity.reduction_factor)
    if name == "asha":
        return ASHA(**levels, type="stopping", seed=seed)
    if name == "asha-promotion":
        return ASHA(**levels, type="promotion", seed=seed)
    if name == "hyperband":
        return Hyperband(**levels, type="synchronous", seed=seed)
    if name == "sh":
        return SuccessiveHalving(**levels)
    if name == "median":
        return MedianStopping(fidelity.resource_attr, evaluation_interval=fidelity.min_resource,
                              delay_evaluation=fidelity.min_resource * fidelity.reduction_factor)
    raise ValueError(f"unknown scheduler {name!r}")  # parse_method admits only the names above
