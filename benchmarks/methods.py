"""rung's own methods for the benchmark suite, all run through ``rung.Tuner``.

``methods(problem)`` lists those that apply to a problem, in the ``benchmarks.harness``
``Method`` form (see ``benchmarks/harness/_method.py``):

- every problem: ``rung-random``; ``rung-gp`` and ``rung-tpe`` when those searchers import;
  ``rung-auto``, rung's default searcher (under ASHA on multi-fidelity problems);
  ``rung-grid`` on single-fidelity problems with at most three parameters (a grid of
  about ``max_evaluations`` points, visited in a seeded random order);
- multi-fidelity problems: ``rung-asha`` (stopping), ``rung-asha-promotion``,
  ``rung-hyperband`` (synchronous), ``rung-sh`` (synchronous successive halving),
  ``rung-median`` (median stopping), ``rung-gp-asha`` / ``rung-tpe-asha`` (the model
  searchers under ASHA stopping, learning from final results), and the multi-fidelity
  model searchers, which also learn from intermediate reports: ``rung-bohb-asha``,
  ``rung-bohb-hyperband``, ``rung-bohb-median`` (BOHB-style TPE per rung level) and
  ``rung-mobster-asha``, ``rung-mobster-hyperband`` (a GP over config and resource).
  Variants of the BOHB-style searcher under ASHA with its guards (issue 18) turned off:
  ``rung-bohb-classic-asha`` (none: BOHB's own rule, the default before issue 18),
  ``rung-bohb-trustonly-asha`` (trust check only), ``rung-bohb-dedupeonly-asha``
  (duplicate guard only), ``rung-bohb-nostrata-asha`` (both, without the random stratum:
  the default before issue 18 item 5). On single-fidelity problems ``rung-gp-noplateau`` is
  the GP without its plateau guard (as it was before issue 18 item 4's round of
  2026-12-02) and ``rung-tpe-plateau`` TPE with its guard (off by default).
  Rung levels: ``min_resource * 3**k`` up to ``max_resource`` (reduction factor 3);
  ``-hyperband`` is synchronous Hyperband. (Under asynchronous stopping Hyperband the model
  searchers took about twice as long to reach the target on mf-hartmann6-highbias, 10
  seeds: BOHB 773 s against 358 s, MOBSTER 914 s against 499 s.)

Synthetic and tabulated problems run on :class:`SimulatorBackend` (virtual clock,
``budget.n_workers`` simulated workers); real problems on the in-process backend
(wall-clock, one trial at a time) in a temporary trial directory. The tuner records
in memory (``storage=":memory:"``): the runner stores the :class:`RunResult`.
"""

from __future__ import annotations

import importlib
import math
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import rung
from rung.schedulers import ASHA, FIFO, Hyperband, MedianStopping, Scheduler, SuccessiveHalving
from rung.searchers import Grid, Random, Searcher

from .harness._method import Budget, EvaluationLog, RunResult

if TYPE_CHECKING:
    from .problems import Problem

REDUCTION_FACTOR = 3
#: Single-fidelity problems with at most this many tunable parameters get a grid method.
GRID_MAX_DIMENSIONS = 3
#: Points per continuous parameter of the grid when only a time budget is given.
GRID_DEFAULT_POINTS = 10


def simulator_backend() -> type:
    """``SimulatorBackend``: from ``rung.backends`` once exported, else its module."""
    try:
        from rung.backends import SimulatorBackend  # type: ignore[attr-defined]
    except ImportError:
        from rung.backends._simulator import SimulatorBackend
    return SimulatorBackend


def simulated(problem: Problem) -> Any:
    """The problem as a callable objective (``rung.backends.simulated``, or its module)."""
    try:
        from rung.backends import simulated as wrap  # type: ignore[attr-defined]
    except ImportError:
        from rung.backends._simulated import simulated as wrap
    return wrap(problem)


def optional_searcher(module: str, name: str) -> type[Searcher] | None:
    """A searcher class from ``rung.searchers.<module>`` if it imports, else None."""
    try:
        return getattr(importlib.import_module(f"rung.searchers.{module}"), name)
    except (ImportError, AttributeError):
        return None


def searcher_classes() -> dict[str, type[Searcher]]:
    """Algorithm name to searcher class: random always, the others when importable."""
    found: dict[str, type[Searcher]] = {"random": Random}
    for algorithm, module, name in (("gp", "_gp", "GP"), ("tpe", "_tpe", "TPE"), ("bohb", "_bohb", "BOHB"),
                                    ("mobster", "_mobster", "MOBSTER"), ("auto", "_auto", "Auto")):
        cls = optional_searcher(module, name)
        if cls is not None:
            found[algorithm] = cls
    return found


#: Searchers that learn from intermediate reports, and the schedulers they are benchmarked with.
MULTI_FIDELITY_SEARCHERS: dict[str, tuple[str, ...]] = {
    "bohb": ("asha", "hyperband", "median"),
    "mobster": ("asha", "hyperband", "median"),
}
#: The BOHB-style searcher with its guards off (name part, searcher options), under ASHA.
BOHB_VARIANTS: dict[str, tuple[tuple[str, Any], ...]] = {
    "classic": (("trust_check", False), ("duplicate_guard", False), ("random_stratum", False)),
    "trustonly": (("duplicate_guard", False), ("random_stratum", False)),
    "dedupeonly": (("trust_check", False), ("random_stratum", False)),
    "nostrata": (("random_stratum", False),),
}
#: The GP and TPE with the plateau guard set against their default (searcher, name part,
#: searcher options), on single-fidelity problems.
SINGLE_FIDELITY_VARIANTS: tuple[tuple[str, str, tuple[tuple[str, Any], ...]], ...] = (
    ("gp", "noplateau", (("plateau_guard", False),)),
    ("tpe", "plateau", (("plateau_guard", True),)),
)


# -- schedulers for a problem -------------------------------------------------------------
def _levels(problem: Problem) -> dict[str, Any]:
    return dict(resource_attr=problem.fidelity, min_resource=problem.min_resource,
                max_resource=problem.max_resource, reduction_factor=REDUCTION_FACTOR)


def _median(problem: Problem) -> Scheduler:
    delay = problem.levels[min(2, problem.n_steps - 1)]
    return MedianStopping(problem.fidelity, evaluation_interval=problem.min_resource, delay_evaluation=delay,
                          min_others=3)


SCHEDULERS: dict[str, Callable[[Problem, int], Scheduler]] = {
    "fifo": lambda problem, seed: FIFO(),
    "asha": lambda problem, seed: ASHA(**_levels(problem), type="stopping", seed=seed),
    "asha-promotion": lambda problem, seed: ASHA(**_levels(problem), type="promotion", seed=seed),
    "hyperband": lambda problem, seed: Hyperband(**_levels(problem), type="synchronous", seed=seed),
    "hyperband-stopping": lambda problem, seed: Hyperband(**_levels(problem), type="stopping", seed=seed),
    "sh": lambda problem, seed: SuccessiveHalving(**_levels(problem)),
    "median": lambda problem, seed: _median(problem),
}


# -- the method -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RungMethod:
    """``rung.Tuner`` with a searcher (by algorithm name) and a scheduler (by name)."""

    name: str
    searcher: str
    scheduler: str = "fifo"
    #: Keyword arguments for the searcher (variants of one algorithm).
    options: tuple[tuple[str, Any], ...] = ()

    def run(self, problem: Problem, seed: int, budget: Budget) -> RunResult:
        searcher = self._searcher(problem, seed, budget)
        scheduler = SCHEDULERS[self.scheduler](problem, seed)
        real = problem.kind == "real"
        with tempfile.TemporaryDirectory(prefix="rung-bench-") as workdir:
            if real:
                backend: Any = "inprocess"
                n_workers = 1
            else:
                backend = simulator_backend()(count_decision_time=budget.count_decision_time)
                n_workers = budget.n_workers
            tuner = rung.Tuner(
                simulated(problem), problem.space, metric=problem.metric, mode=problem.mode,
                searcher=searcher, scheduler=scheduler, n_workers=n_workers,
                max_trials=budget.max_evaluations, max_wallclock=budget.max_time, backend=backend,
                seed=seed, verbose=0, storage=":memory:", workdir=workdir,
                experiment=f"bench-{self.name}-{problem.name}-{seed}",
            )
            started = time.perf_counter()
            result = tuner.run()
            real_time = time.perf_counter() - started
        log = EvaluationLog(problem, self.name, seed)
        for report in result.report_records:
            log.report(report.time, report.metrics, trial=report.trial_id)
        return log.result(
            n_evaluations=len(result.trial_records), decision_time=result.decision_time, real_time=real_time,
            elapsed=result.wallclock, n_failed=result.count("failed"),
            info={"searcher": type(searcher).__name__, "scheduler": type(scheduler).__name__,
                  "n_workers": n_workers, "stop_reason": result.stop_reason,
                  "clock": "wall-clock" if real else "simulated"},
        )

    def _searcher(self, problem: Problem, seed: int, budget: Budget) -> Searcher:
        space = problem.space
        if self.searcher == "grid":
            return Grid(space, metric=problem.metric, mode=problem.mode, seed=seed,
                        num_points=grid_points(problem, budget), shuffle=True)
        cls = searcher_classes()[self.searcher]
        return cls(space, metric=problem.metric, mode=problem.mode, seed=seed, **dict(self.options))


def grid_points(problem: Problem, budget: Budget) -> int:
    """Points per continuous parameter: about ``max_evaluations`` grid points in all."""
    space = problem.rung_space()
    continuous = [name for name in space.tunable_names if not space[name].is_finite]
    if budget.max_evaluations is None or not continuous:
        return GRID_DEFAULT_POINTS
    return max(2, math.floor(budget.max_evaluations ** (1 / len(continuous)) + 1e-9))


def grid_applies(problem: Problem) -> bool:
    """A grid is sensible on single-fidelity problems with few, unconditional parameters."""
    space = problem.rung_space()
    if problem.fidelity is not None or len(space.tunable_names) > GRID_MAX_DIMENSIONS:
        return False
    return not any(space[name].conditions for name in space.names)


def methods(problem: Problem) -> list[RungMethod]:
    """rung's methods that apply to ``problem``."""
    found = searcher_classes()
    out = [RungMethod(f"rung-{name}", name) for name in found if name not in MULTI_FIDELITY_SEARCHERS
           and name != "auto"]
    if "auto" in found:  # what a user gets by default: ASHA when the problem has a fidelity
        out.append(RungMethod("rung-auto", "auto", "fifo" if problem.fidelity is None else "asha"))
    if grid_applies(problem):
        out.append(RungMethod("rung-grid", "grid"))
    if problem.fidelity is None:
        for model, variant, options in SINGLE_FIDELITY_VARIANTS:
            if model in found:
                out.append(RungMethod(f"rung-{model}-{variant}", model, "fifo", options))
    if problem.fidelity is not None:
        for scheduler in ("asha", "asha-promotion", "hyperband", "sh", "median"):
            out.append(RungMethod(f"rung-{scheduler}", "random", scheduler))
        for model in ("gp", "tpe"):
            if model in found:
                out.append(RungMethod(f"rung-{model}-asha", model, "asha"))
        for model, schedulers in MULTI_FIDELITY_SEARCHERS.items():
            if model in found:
                for scheduler in schedulers:
                    label = scheduler.split("-")[0]
                    out.append(RungMethod(f"rung-{model}-{label}", model, scheduler))
        if "bohb" in found:
            for variant, options in BOHB_VARIANTS.items():
                out.append(RungMethod(f"rung-bohb-{variant}-asha", "bohb", "asha", options))
    return out
