"""Integrations with other libraries; each module imports its library only when used.

``rung.integrations.torch`` (PyTorch checkpoints) loads on first access, so
``import rung; rung.integrations.torch`` works without an explicit import.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["torch"]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'rung.integrations' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
