"""Benchmark problems for rung (issue 5): a registry of :class:`Problem` objects by name.

``get(name)`` builds a problem, ``names(kind=None)`` lists them ("synthetic", "tabulated" or
"real"). Families, one module each (see their docstrings and ``README.md`` here):

- ``synthetic``: Branin, Hartmann 6, Ackley 5-d, Rastrigin 5-d (single fidelity).
- ``multifidelity``: multi-fidelity Hartmann 6 (three bias/noise levels), CountingOnes.
- ``tabulated``: LCBench (five OpenML tasks) and rbv2 XGBoost, from ``shared/bench-data``.
- ``bayesmark``: the Bayesmark scikit-learn problems (real, single fidelity).
- ``mnist1d``: a PyTorch MLP on MNIST-1D (real, epochs as the fidelity).

Importing this package is cheap: family modules import only numpy and rung; tables, data
sets, scikit-learn and torch are loaded when a problem is first evaluated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from . import bayesmark, mnist1d, multifidelity, synthetic, tabulated
from ._base import KINDS, Problem, SingleFidelity

__all__ = ["KINDS", "Problem", "SingleFidelity", "get", "names"]

# kind of every problem in a family module
_FAMILIES = (
    (synthetic, "synthetic"),
    (multifidelity, "synthetic"),
    (tabulated, "tabulated"),
    (bayesmark, "real"),
    (mnist1d, "real"),
)


@functools.lru_cache(maxsize=None)
def _registry() -> dict[str, tuple[str, Callable[[], Problem]]]:
    entries: dict[str, tuple[str, Callable[[], Problem]]] = {}
    for module, kind in _FAMILIES:
        for name, factory in module.problems().items():
            if name in entries:
                raise RuntimeError(f"benchmark problem {name!r} registered twice")
            entries[name] = (kind, factory)
    return entries


def names(kind: str | None = None) -> list[str]:
    """Registered problem names, in registry order; only those of ``kind`` if given."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    return [name for name, (k, _) in _registry().items() if kind is None or k == kind]


def get(name: str) -> Problem:
    """A new problem object for ``name`` (KeyError listing close names if unknown)."""
    try:
        _, factory = _registry()[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, _registry(), n=5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown benchmark problem {name!r}{hint}") from None
    return factory()
