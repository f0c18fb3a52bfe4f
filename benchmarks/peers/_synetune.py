"""Syne Tune's schedulers as benchmark methods, driven by the simulation loop.

Syne Tune (``pip install syne-tune``, 0.16) is optional: without it this module still
imports and :func:`synetune_methods` returns nothing.

Methods (``SyneTuneMethod``), from ``syne_tune.optimizer.baselines``:

- every problem, full fidelity: ``synetune-random`` (RandomSearch), ``synetune-tpe`` (TPE,
  Syne Tune's KDE searcher), ``synetune-bore`` (BORE), ``synetune-rea`` (regularized
  evolution), ``synetune-botorch`` (GP Bayesian optimization; needs ``botorch``) and
  ``synetune-cqr`` (conformal quantile regression; its module imports
  ``huggingface_hub``, so it is listed only when that package is installed);
- multi-fidelity problems: ``synetune-asha`` (ASHA, stopping), ``synetune-bohb`` (ASHA with
  the KDE searcher), ``synetune-asha-bore`` and ``synetune-asha-cqr`` (as ``cqr``).

Syne Tune 0.16 no longer ships MOBSTER, Hyper-Tune or its own GP searchers
(``BayesianOptimization``); ``BOTorch`` is its GP method now.

How a trial runs, as Syne Tune's own ``Tuner`` does it: ``scheduler.suggest()`` gives a
config (a new trial; these schedulers never resume one), ``on_trial_add``; each step's
result (the metric plus the progress attribute) goes to ``on_trial_result``, whose
``SchedulerDecision`` STOP (or PAUSE, which no scheduler used here returns) ends the trial
with ``on_trial_remove``; a trial that reaches its last step with CONTINUE gets
``on_trial_complete``; a failure ``on_trial_error``. ASHA-type schedulers use
``time_attr`` = the step progress (``_common.progress``), ``grace_period`` = the first
level's, ``max_t`` = the last level's, reduction factor 3, one bracket (defaults
otherwise).

Config space: uniform, loguniform, randint and lograndint from rung's numeric domains,
``choice`` for categoricals (see ``_space``). Syne Tune has no conditional parameters: the
space is flattened (every parameter is suggested) and the parameters inactive in a
suggestion are dropped before the problem evaluates it; the scheduler keeps its full
suggestion. ASHA draws its bracket from numpy's global RNG: it is seeded per run and
restored afterwards.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchmarks.harness._method import Budget, RunResult

from ._common import REDUCTION_FACTOR, progress, quiet, seeded_global_numpy, version
from ._simloop import COMPLETED, FAILED, SimOutcome, simulate
from ._space import Param, SpaceView

if TYPE_CHECKING:
    from benchmarks.problems import Problem

#: The result key carrying the step progress to multi-fidelity schedulers.
PROGRESS_ATTR = "st_progress"
SINGLE_FIDELITY = {"random": "RandomSearch", "tpe": "TPE", "bore": "BORE", "rea": "REA",
                   "cqr": "CQR", "botorch": "BOTorch"}
MULTI_FIDELITY = {"asha": "ASHA", "bohb": "BOHB", "asha-bore": "ASHABORE", "asha-cqr": "ASHACQR"}
#: Extra packages a scheduler needs besides syne-tune.
#: CQR's surrogate module imports ``huggingface_hub`` (through Syne Tune's blackbox
#: repository) although it never downloads anything.
SCHEDULER_NEEDS = {"botorch": ("botorch",), "cqr": ("huggingface_hub",),
                   "asha-cqr": ("huggingface_hub",)}


def to_domain(param: Param) -> Any:
    """The Syne Tune domain for one parameter (see ``_space``)."""
    from syne_tune import config_space as cs

    if param.kind == "categorical":
        return cs.choice(list(param.choices))
    if param.kind == "int":
        make = cs.lograndint if param.log else cs.randint
        return make(int(param.low), int(param.high))
    return (cs.loguniform if param.log else cs.uniform)(param.low, param.high)


def config_space(view: SpaceView) -> dict[str, Any]:
    """A Syne Tune config space of every tunable parameter (flattened, no conditions)."""
    return {name: to_domain(param) for name, param in view.params.items()}


def make_scheduler(kind: str, problem: Problem, space: dict[str, Any], seed: int) -> Any:
    """The Syne Tune scheduler ``kind`` for ``problem`` with its defaults and ``seed``."""
    from syne_tune.optimizer import baselines

    minimize = problem.mode == "min"
    if kind == "random":
        return baselines.RandomSearch(space, metrics=[problem.metric], do_minimize=minimize,
                                      random_seed=seed)
    if kind in SINGLE_FIDELITY:
        cls = getattr(baselines, SINGLE_FIDELITY[kind])
        return cls(space, metric=problem.metric, do_minimize=minimize, random_seed=seed)
    if kind in MULTI_FIDELITY:
        if problem.fidelity is None:
            raise ValueError(f"{kind!r} needs a multi-fidelity problem, got {problem.name!r}")
        cls = getattr(baselines, MULTI_FIDELITY[kind])
        return cls(space, metric=problem.metric, do_minimize=minimize, random_seed=seed,
                   time_attr=PROGRESS_ATTR, grace_period=progress(problem, 0),
                   max_t=progress(problem, problem.n_steps - 1), reduction_factor=REDUCTION_FACTOR)
    known = ", ".join([*SINGLE_FIDELITY, *MULTI_FIDELITY])
    raise ValueError(f"unknown Syne Tune scheduler {kind!r} (known: {known})")


class SyneTunePeer:
    """A Syne Tune scheduler behind the :class:`~benchmarks.peers._simloop.Peer` interface."""

    def __init__(self, scheduler: Any, problem: Problem, view: SpaceView) -> None:
        self.scheduler = scheduler
        self.problem = problem
        self.view = view
        self.next_id = 0
        self.removed: set[int] = set()

    def ask(self) -> tuple[Any, dict[str, Any]] | None:
        from syne_tune.backend.trial_status import Trial

        suggestion = self.scheduler.suggest()
        if suggestion is None:
            return None
        if not suggestion.spawn_new_trial_id or suggestion.config is None:
            raise RuntimeError("the simulation loop does not resume paused Syne Tune trials")
        trial = Trial(trial_id=self.next_id, config=dict(suggestion.config),
                      creation_time=datetime.datetime.now())
        self.next_id += 1
        self.scheduler.on_trial_add(trial)
        return trial, self.view.config_from(suggestion.config)

    def _result(self, step: int, metrics: Mapping[str, Any]) -> dict[str, Any]:
        return {self.problem.metric: float(metrics[self.problem.metric]),
                PROGRESS_ATTR: progress(self.problem, step)}

    def report(self, handle: Any, step: int, metrics: Mapping[str, Any]) -> bool:
        from syne_tune.optimizer.scheduler import SchedulerDecision

        result = self._result(step, metrics)
        if not math.isfinite(result[self.problem.metric]):
            return True
        decision = self.scheduler.on_trial_result(handle, result)
        if decision in (SchedulerDecision.STOP, SchedulerDecision.PAUSE):
            self.scheduler.on_trial_remove(handle)
            self.removed.add(handle.trial_id)
            return False
        return True

    def finish(self, handle: Any, status: str, metrics: Mapping[str, Any] | None) -> None:
        if handle.trial_id in self.removed:
            return
        value = math.nan if metrics is None else float(metrics[self.problem.metric])
        if status == FAILED or not math.isfinite(value):
            self.scheduler.on_trial_error(handle)
        elif status == COMPLETED:
            step = self.problem.n_steps - 1
            self.scheduler.on_trial_complete(handle, self._result(step, metrics or {}))


@dataclass(frozen=True)
class SyneTuneMethod:
    """One Syne Tune scheduler (by short name, see the module docstring) as a method."""

    name: str
    scheduler: str

    def simulate(self, problem: Problem, seed: int, budget: Budget) -> SimOutcome:
        """Run the scheduler through the simulation loop; the outcome keeps every trial."""
        view = SpaceView(problem.space)
        with quiet("syne_tune"), seeded_global_numpy(seed):
            scheduler = make_scheduler(self.scheduler, problem, config_space(view), seed)
            return simulate(problem, SyneTunePeer(scheduler, problem, view), seed, budget)

    def run(self, problem: Problem, seed: int, budget: Budget) -> RunResult:
        info = {"library": f"syne-tune {version('syne-tune')}", "scheduler": self.scheduler,
                "flattened_conditions": SpaceView(problem.space).is_conditional}
        return self.simulate(problem, seed, budget).result(self.name, info)


def synetune_methods(problem: Problem, available: set[str]) -> list[SyneTuneMethod]:
    """The Syne Tune methods for ``problem`` given the importable packages ``available``."""
    if "syne_tune" not in available:
        return []
    kinds = list(SINGLE_FIDELITY)
    if problem.fidelity is not None:
        kinds += list(MULTI_FIDELITY)
    return [SyneTuneMethod(f"synetune-{kind}", kind) for kind in kinds
            if all(need in available for need in SCHEDULER_NEEDS.get(kind, ()))]
