"""Which problems and methods a suite runs, and the budget each problem gets.

Problems are chosen by name, by ``fnmatch`` pattern (``bayesmark-*-iris-*``) or by group:
the kinds ``synthetic``, ``tabulated``, ``real``, and ``multi-fidelity`` /
``single-fidelity``, ``all``. Problems whose data or libraries are missing are left out
with a note (tables not found, scikit-learn or torch not installed).

Methods come from ``benchmarks.methods.methods(problem)`` (rung) and, when the colleague's
package imports, ``benchmarks.peers.methods(problem)``; ``--methods`` patterns filter them
by name (``rung-*``, ``*-tpe``, or a library name such as ``optuna``).

Budgets: ``--max-time`` is either seconds (``3600``) or a multiple of the problem's cost
(``50x``: the simulated time that 50 full-fidelity evaluations of average cost take on
``n_workers`` workers, the mean taken over 16 seeded random configs). Costs of real
problems are unknown before training, so there ``Nx`` means N evaluations instead.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._method import Budget, Method

if TYPE_CHECKING:
    from benchmarks.problems import Problem

GROUPS = ("synthetic", "tabulated", "real", "multi-fidelity", "single-fidelity", "all")
DEFAULT_PROBLEMS = ("synthetic", "tabulated")
COST_SAMPLES = 16


# -- problems ------------------------------------------------------------------------------
def _token_matches(token: str, name: str, kind: str, problem: Any) -> bool:
    """Whether ``token`` selects problem ``name``; ``problem()`` builds it if needed."""
    if token == "all":
        return True
    if token in ("synthetic", "tabulated", "real"):
        return kind == token
    if token in ("multi-fidelity", "single-fidelity"):
        return (problem().fidelity is not None) == (token == "multi-fidelity")
    return fnmatch.fnmatchcase(name, token)


def select_problems(tokens: Sequence[str] | None = None) -> tuple[list[Problem], list[str]]:
    """The problems matching any of ``tokens`` (registry order), and notes on those left out.

    A token that matches no registered problem raises ``KeyError`` with close names.
    """
    from benchmarks import problems as registry

    tokens = list(tokens or DEFAULT_PROBLEMS)
    chosen: list[Problem] = []
    notes: list[str] = []
    used: set[str] = set()
    for kind in ("synthetic", "tabulated", "real"):
        for name in registry.names(kind):
            built: list[Problem] = []

            def problem(name: str = name) -> Problem:
                if not built:
                    built.append(registry.get(name))
                return built[0]

            hits = [token for token in tokens if _token_matches(token, name, kind, problem)]
            if not hits:
                continue
            used.update(hits)
            missing = unavailable(problem())
            if missing:
                notes.append(f"{name}: left out ({missing})")
            else:
                chosen.append(problem())
    for token in tokens:
        if token not in used:
            import difflib

            close = difflib.get_close_matches(token, registry.names() + list(GROUPS), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise KeyError(f"no benchmark problem matches {token!r}{hint}")
    return chosen, notes


def unavailable(problem: Problem) -> str | None:
    """Why ``problem`` cannot run here (missing data or library), or None."""
    if problem.kind == "tabulated":
        try:
            problem.optimum  # loads the table
        except FileNotFoundError as exc:
            return str(exc)
        return None
    if problem.name.startswith("bayesmark-") and importlib.util.find_spec("sklearn") is None:
        return "scikit-learn is not installed"
    if problem.name.startswith("mnist1d"):
        if importlib.util.find_spec("torch") is None:
            return "torch is not installed"
        from benchmarks.problems import mnist1d

        if importlib.util.find_spec("mnist1d") is None and not mnist1d.cache_path().exists():
            return "the mnist1d package is not installed (pip install -e '.[bench]')"
    return None


# -- methods -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def peers_module() -> tuple[Any, str | None]:
    """``benchmarks.peers`` if it imports, else None and why not."""
    try:
        module = importlib.import_module("benchmarks.peers")
    except Exception as exc:  # ImportError, or a peer library failing at import
        return None, f"{type(exc).__name__}: {exc}"
    if not hasattr(module, "methods"):
        return None, "benchmarks.peers has no methods(problem)"
    return module, None


def all_methods(problem: Problem, peers: bool = True) -> list[Method]:
    """rung's methods for ``problem``, then the peers' (if wanted and importable)."""
    from benchmarks import methods as rung_methods

    found: list[Method] = list(rung_methods.methods(problem))
    module, _ = peers_module() if peers else (None, None)
    if module is not None:
        found.extend(module.methods(problem))
    return found


def method_matches(name: str, patterns: Sequence[str] | None) -> bool:
    """Whether ``name`` matches a pattern (fnmatch) or a library name (``optuna``)."""
    if not patterns:
        return True
    return any(fnmatch.fnmatchcase(name, p) or (_is_library(p) and name.startswith(p + "-")) for p in patterns)


def _is_library(pattern: str) -> bool:
    """``optuna`` names a library; ``rung-asha`` or ``*-tpe`` do not."""
    return "-" not in pattern and not any(c in pattern for c in "*?[")


def select_methods(problem: Problem, patterns: Sequence[str] | None, peers: bool = True) -> list[Method]:
    """The methods for ``problem`` whose names match ``patterns`` (all if none given)."""
    chosen = [m for m in all_methods(problem, peers) if method_matches(m.name, patterns)]
    names = [m.name for m in chosen]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"several methods named {sorted(duplicates)} for {problem.name}")
    return chosen


def find_method(problem: Problem, name: str) -> Method:
    """The method called ``name`` for ``problem`` (used to rebuild one in a worker)."""
    for method in all_methods(problem):
        if method.name == name:
            return method
    raise KeyError(f"no method {name!r} for problem {problem.name!r}")


# -- budgets -------------------------------------------------------------------------------
def parse_time(text: str | float | None) -> tuple[float | None, float | None]:
    """``"3600"`` -> (3600 s, None); ``"50x"`` -> (None, 50 evaluations' worth)."""
    if text is None:
        return None, None
    if isinstance(text, (int, float)):
        return float(text), None
    text = str(text).strip().lower()
    try:
        if text.endswith("x"):
            multiple = float(text[:-1])
            if not multiple > 0:
                raise ValueError
            return None, multiple
        seconds = float(text)
        if not seconds > 0:
            raise ValueError
        return seconds, None
    except ValueError:
        raise ValueError(f"max time must be seconds (3600) or a multiple of the cost (50x), got {text!r}") from None


@functools.lru_cache(maxsize=None)
def _mean_full_cost(problem: Problem) -> float:
    space = problem.rung_space()
    rng = np.random.default_rng(0)
    costs = [sum(d for d, _ in problem.steps(space.sample(rng), 0)) for _ in range(COST_SAMPLES)]
    return float(np.mean(costs))


def mean_full_cost(problem: Problem) -> float:
    """Mean simulated seconds of a full-fidelity evaluation (16 seeded random configs)."""
    return _mean_full_cost(problem)


def _round(value: float) -> float:
    """Six significant digits: budgets stored and compared across reruns stay equal."""
    return float(f"{value:.6g}")


@dataclass(frozen=True)
class BudgetSpec:
    """A budget as the command line gives it, resolved per problem by :meth:`resolve`."""

    max_evaluations: int | None = None
    max_time: float | None = None
    time_multiple: float | None = None
    n_workers: int = 1
    count_decision_time: bool = False

    def resolve(self, problem: Problem) -> Budget:
        """The :class:`Budget` of one problem (real problems: one worker, Nx = N evaluations)."""
        evaluations, seconds = self.max_evaluations, self.max_time
        workers = self.n_workers
        if problem.kind == "real":
            workers = 1
            if self.time_multiple is not None and evaluations is None:
                evaluations = max(1, int(round(self.time_multiple)))
        elif self.time_multiple is not None:
            multiple = _round(self.time_multiple * mean_full_cost(problem) / workers)
            seconds = multiple if seconds is None else min(seconds, multiple)
        return Budget(max_evaluations=evaluations, max_time=seconds, n_workers=workers,
                      count_decision_time=self.count_decision_time)


def describe_budget(budget: Budget) -> str:
    parts = []
    if budget.max_evaluations is not None:
        parts.append(f"{budget.max_evaluations} evaluations")
    if budget.max_time is not None:
        parts.append(f"{budget.max_time:g} s")
    parts.append(f"{budget.n_workers} worker{'s' if budget.n_workers > 1 else ''}")
    return ", ".join(parts)
