"""The spec's space, searcher, scheduler, budget and backend, each checked with its field path."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from ..backends import worker_limit
from ..schedulers import SCHEDULERS
from ..searchers import SEARCHERS
from ..space import Space, SpaceError
from ._checks import Checker, closest, describe, number_hint
from ._source import FieldPath

BUDGET_FIELDS = ("max_trials", "max_wallclock", "max_concurrent", "metric_threshold", "max_failures", "trial_timeout",
                 "max_initial_failures")


def build_space(data: Any, check: Checker) -> Space:
    """The ``space:`` mapping: each entry a domain dict (with a ``type``) or a plain constant.

    A mapping is always read as a domain, so a typo such as ``{tpye: uniform}`` is an error
    rather than a silent constant; a dict constant is written ``{type: constant, value: ...}``.
    """
    path: FieldPath = ("space",)
    if not isinstance(data, dict) or not data:
        raise check.error(path, f"must be a non-empty mapping of parameter names to domains, got {describe(data)}")
    saved: dict[str, Any] = {}
    for name, value in data.items():
        if not isinstance(name, str) or not name:
            raise check.error((*path, name), f"parameter names must be non-empty strings, got {describe(name)}")
        if isinstance(value, list):  # a list looks like a choice or a range: say which to write
            raise check.error((*path, name), (
                f"a list is ambiguous, got {describe(value)}: write {{type: choice, values: {value}}} to pick one, "
                f"{{type: uniform, low: ..., high: ...}} for a range, or {{type: constant, value: {value}}} "
                "to pass the list itself to every trial"
            ))
        saved[name] = value if isinstance(value, dict) else {"type": "constant", "value": value}
    try:
        space = Space.from_dict(saved)
        space.to_dict()  # the store keeps it as JSON: refuse what would not survive
    except SpaceError as err:
        where = (*path, err.param) if err.param in data else path
        entry = data.get(err.param) if err.param in data else None
        hints = [number_hint(v) for v in entry.values()] if isinstance(entry, dict) else []
        raise check.error(where, err.reason + next((h for h in hints if h), "")) from None
    return space


@dataclass(frozen=True)
class Component:
    """A searcher or scheduler class and the options the spec gives it."""

    cls: type
    options: dict[str, Any] = field(default_factory=dict)


def _component(value: Any, kind: str, registry: dict[str, type], default: str, skip: tuple[str, ...], check: Checker) -> Component:
    """``name`` or ``{name: ..., option: value, ...}`` -> the class and its options."""
    path: FieldPath = (kind,)
    if value is None:
        value = default
    if isinstance(value, str):
        name, options, name_path = value, {}, path
    elif isinstance(value, dict):
        if "name" not in value:
            raise check.error((*path, "name"), "required field is missing")
        options = {k: v for k, v in value.items() if k != "name"}
        name, name_path = value["name"], (*path, "name")
    else:
        raise check.error(path, f"must be a name or a mapping with 'name' and options, got {describe(value)}")
    check.string(name, name_path)
    cls = registry.get(name.lower())
    if cls is None:
        raise check.error(name_path, f"unknown {kind} {name!r}{closest(name.lower(), sorted(registry))}")
    parameters = inspect.signature(cls).parameters
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    allowed = [n for n, p in parameters.items() if n not in skip and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in options:
        if not isinstance(key, str) or (key not in allowed and not accepts_any):
            known = closest(key, allowed) if allowed else f" ({name} takes no options)"
            raise check.error((*path, key), f"unknown option of {kind} {name!r}{known}")
    return Component(cls, options)


def searcher_component(value: Any, check: Checker) -> Component:
    component = _component(value, "searcher", SEARCHERS, "auto", ("space", "metric", "mode"), check)
    if "seed" in component.options:
        check.integer(component.options["seed"], ("searcher", "seed"))
    return component


def scheduler_component(value: Any, check: Checker) -> Component:
    return _component(value, "scheduler", SCHEDULERS, "fifo", (), check)


def build_searcher(component: Component, space: Space, metric: str, mode: str, seed: int | None) -> Any:
    options = dict(component.options)
    options.setdefault("seed", seed)
    return component.cls(space, metric=metric, mode=mode, **options)


def build_scheduler(component: Component) -> Any:
    return component.cls(**component.options)


def check_buildable(kind: str, component: Component, build: Callable[[], Any], check: Checker) -> Any:
    """Build once now so that bad options fail at load time, naming the option when one."""
    try:
        return build()
    except (SpaceError, TypeError, ValueError) as err:
        options = [key for key in component.options if key != "seed"]
        where: FieldPath = (kind, options[0]) if len(options) == 1 else (kind,)
        raise check.error(where, str(err)) from None


@dataclass(frozen=True)
class Budget:
    """When the experiment ends and how many trials run at once (``max_concurrent``)."""

    max_trials: int | None = None
    max_wallclock: float | None = None
    max_concurrent: int | None = None
    metric_threshold: float | None = None
    max_failures: int | None = None
    trial_timeout: float | None = None
    #: The first this-many trials failing alike end the run (the Tuner's default); null: never.
    max_initial_failures: int | None = 5


def build_budget(value: Any, check: Checker) -> Budget:
    path: FieldPath = ("budget",)
    if value is None:
        return Budget()
    data = check.mapping(value, path, BUDGET_FIELDS)
    return Budget(
        max_trials=check.integer(data.get("max_trials"), (*path, "max_trials"), positive=True),
        max_wallclock=check.number(data.get("max_wallclock"), (*path, "max_wallclock"), positive=True),
        max_concurrent=check.integer(data.get("max_concurrent"), (*path, "max_concurrent"), positive=True),
        metric_threshold=check.number(data.get("metric_threshold"), (*path, "metric_threshold")),
        max_failures=check.integer(data.get("max_failures"), (*path, "max_failures"), positive=True),
        trial_timeout=check.number(data.get("trial_timeout"), (*path, "trial_timeout"), positive=True),
        max_initial_failures=(
            check.integer(data["max_initial_failures"], (*path, "max_initial_failures"), positive=True)
            if "max_initial_failures" in data else 5
        ),
    )


def check_backend(value: Any, budget: Budget, check: Checker) -> str:
    """The backend name; also refuses more concurrent trials than the backend can run.

    Nothing is built or run here: the name is looked up in the backend registry and the
    limit read from the backend class (``worker_limit``), so checking a spec starts no
    process and probes no GPU.
    """
    name = check.string(value, ("backend",))
    try:
        limit = worker_limit(name)
    except (TypeError, ValueError) as err:
        raise check.error(("backend",), str(err)) from None
    if limit is not None and budget.max_concurrent is not None and budget.max_concurrent > limit:
        raise check.error(
            ("budget", "max_concurrent"),
            f"backend {name!r} runs at most {limit} trial(s) at once, got {budget.max_concurrent}; "
            "use backend: process for parallel trials",
        )
    return name
