"""The tuner: the event loop, its run state, budgets, outcomes, the experiment session.

``Tuner`` is what users build; ``Callback`` is how progress views, dashboards and loggers
follow a run; ``RunState`` is the state of a run rebuilt from its events (live, on resume
and by ``rung.load``).

The names load on first use: ``rung.load`` needs only ``RunState`` (``_state.py``), and
importing the event loop would pull in the backends, the progress view (rich) and asyncio
for nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._budgets import Budgets
    from ._callbacks import Callback, CallbackList
    from ._state import RunState
    from ._tuner import Tuner

_LAZY = {
    "Budgets": "._budgets",
    "Callback": "._callbacks",
    "CallbackList": "._callbacks",
    "RunState": "._state",
    "Tuner": "._tuner",
}

__all__ = ["Budgets", "Callback", "CallbackList", "RunState", "Tuner"]


def __getattr__(name: str) -> Any:
    try:
        module_name = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, including those loaded on first use."""
    return sorted(set(__all__) | set(globals()))
