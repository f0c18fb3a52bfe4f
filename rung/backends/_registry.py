"""Backends by name: the built-ins, those registered at run time, and entry points.

A third-party package makes its backend available by name in one of two ways: call
``rung.backends.register_backend("ray", RayBackend)`` (e.g. on import), or declare an
entry point in the ``rung.backends`` group, which rung loads only when a name it does not
know is asked for::

    [project.entry-points."rung.backends"]
    ray = "rung_ray:RayBackend"

A factory is a Backend subclass or any callable returning a Backend; a class may declare
``worker_limit`` so that a spec naming it can be checked without building one.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any, Callable

from ._base import Backend

ENTRY_POINT_GROUP = "rung.backends"

BackendFactory = Callable[..., Backend]

_factories: dict[str, BackendFactory] = {}
_entry_points_loaded = False


def _key(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a backend name must be a non-empty string, got {name!r}")
    return name.strip().lower()


def register_backend(name: str, factory: BackendFactory, *, replace: bool = False) -> None:
    """Make ``factory`` available as backend ``name`` (names are case-insensitive).

    Registering a different factory under a taken name raises ValueError unless ``replace``.
    """
    key = _key(name)
    if not callable(factory):
        raise TypeError(f"the factory of backend {name!r} must be callable (a Backend subclass), got {factory!r}")
    if key in _factories and _factories[key] is not factory and not replace:
        raise ValueError(f"backend {key!r} is already registered ({_factories[key]!r}); pass replace=True")
    _factories[key] = factory


def _entry_points() -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


def _load_entry_points() -> None:
    """Register every entry point of the group not registered yet (imports their modules)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry in _entry_points():
        key = _key(entry.name)
        if key not in _factories:
            _factories[key] = entry.load()


def available_backends() -> list[str]:
    """Names ``make_backend`` accepts, entry points included (those are not imported here)."""
    return sorted(set(_factories) | {_key(entry.name) for entry in _entry_points()})


def backend_factory(name: str) -> BackendFactory:
    """The factory registered as ``name``; entry points are loaded if the name is unknown."""
    key = _key(name)
    if key not in _factories:
        _load_entry_points()
    try:
        return _factories[key]
    except KeyError:
        raise ValueError(f"backend={name!r} is not known; choose one of {available_backends()}") from None


def worker_limit(name: str) -> int | None:
    """The class-level limit on parallel trials of backend ``name``, without building one."""
    factory = backend_factory(name)
    limit = getattr(factory, "worker_limit", None) if isinstance(factory, type) else None
    return limit if isinstance(limit, int) else None


def make_backend(backend: "str | Backend", **options: Any) -> Backend:
    """Resolve the tuner's ``backend=`` argument: an instance as it is, a name built with ``options``."""
    if isinstance(backend, Backend):
        if options:
            raise TypeError(f"backend options {sorted(options)} need a backend name, not an instance")
        return backend
    if isinstance(backend, str):
        built = backend_factory(backend)(**options)
        if not isinstance(built, Backend):
            raise TypeError(f"the factory of backend {backend!r} returned {built!r}, not a rung.backends.Backend")
        return built
    raise TypeError(f"backend must be a name or a rung.backends.Backend instance, got {backend!r}")
