"""The benchmark harness (issue 5): run methods x problems x seeds, store, score, plot, compare.

- ``Method``, ``Budget``, ``RunResult``, ``EvaluationLog`` (``_method.py``): the contract every
  optimizer under test follows, rung's (``benchmarks/methods.py``) and the peers'
  (``benchmarks/peers/``).
- ``run_suite``, ``Cell`` (``_runner.py``): parallel, resumable runs stored by ``ResultStore``
  (``_store.py``) in the rung store.
- ``_selection.py``: choosing problems and methods, per-problem budgets.
- ``_scoring.py``: normalized scores, regret, t-intervals, ranks, time to target, peer ratios.
- ``_plots.py``, ``_report.py``: PNG plots and the markdown report.
- ``_cli.py``: ``python -m benchmarks run | report | smoke | list``.
"""

from __future__ import annotations

from ._method import Budget, EvaluationLog, Method, RunResult, algorithm_of, library_of
from ._runner import Cell, SuiteOutcome, run_suite
from ._selection import BudgetSpec, select_methods, select_problems
from ._store import ResultStore

__all__ = [
    "Budget",
    "BudgetSpec",
    "Cell",
    "EvaluationLog",
    "Method",
    "ResultStore",
    "RunResult",
    "SuiteOutcome",
    "algorithm_of",
    "library_of",
    "run_suite",
    "select_methods",
    "select_problems",
]
