"""Compare methods on your own problem: ``rung.compare(...)`` and ``rung compare SPEC``.

>>> comparison = rung.compare("spec.yaml", methods=["random", "tpe", "asha"], seeds=10)
>>> comparison.summary()            # final values and time to a target, per method
>>> comparison.plot("compare.png")  # incumbent vs wall-clock: mean and 95 % band per method

``rung.compare`` is this module, callable: ``rung.compare(...)`` is :func:`compare`.
Comparisons are stored (see :mod:`rung.compare._comparison`): :func:`load_comparison` and
:func:`list_comparisons` read them back. :mod:`rung.compare.scoring` holds the scores the
benchmark harness shares.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ._comparison import Comparison, RunSummary, list_comparisons, load_comparison, run_name
from ._methods import METHODS, Fidelity, parse_method
from ._run import DEFAULT_METHODS, compare

__all__ = ["DEFAULT_METHODS", "METHODS", "Comparison", "Fidelity", "RunSummary", "compare", "list_comparisons",
           "load_comparison", "parse_method", "run_name"]


class _CallableModule(types.ModuleType):
    """Lets ``rung.compare(...)`` call :func:`compare` while ``rung.compare.X`` stays the module."""

    def __call__(self, *args: Any, **kwargs: Any) -> Comparison:
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
