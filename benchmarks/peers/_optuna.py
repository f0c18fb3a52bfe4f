"""Optuna's samplers and pruners as benchmark methods, driven by the simulation loop.

Methods (``OptunaMethod``): ``optuna-random`` (RandomSampler), ``optuna-tpe``
(TPESampler), ``optuna-gp`` (GPSampler, needs torch), ``optuna-cmaes`` (CmaEsSampler, needs
the ``cmaes`` package, numeric spaces only), and on multi-fidelity problems
``optuna-tpe-median`` (TPE + MedianPruner) and ``optuna-tpe-hyperband`` (TPE +
HyperbandPruner). Samplers keep Optuna's defaults apart from the seed.

How a trial runs: ``study.ask()``, then define-by-run ``trial.suggest_*`` in the space's
parent-before-child order, for active parameters only (a conditional parameter is
suggested only when its conditions hold, as Optuna users write it). Without a pruner every
trial runs to full fidelity and is told its final value. With a pruner each step calls
``trial.report(value, step)`` and ``trial.should_prune()``; a pruned trial is told
``TrialState.PRUNED``. Several asked trials are in flight at once with several workers;
Optuna's samplers treat running trials their own way (TPE ignores them by default).

Pruner settings follow rung's methods where the two match: reduction factor 3 and the
fidelity range for Hyperband; for the median pruner, no pruning before the third level and
at least 3 trials at a step (Optuna's ``n_startup_trials=5`` kept). Steps are the resource
values when they are whole numbers, else step numbers (see ``_common.progress``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benchmarks.harness._method import Budget, RunResult

from ._common import REDUCTION_FACTOR, delay_step, progress, quiet, version
from ._simloop import COMPLETED, STOPPED, SimOutcome, simulate
from ._space import Param, SpaceView, is_active

if TYPE_CHECKING:
    import optuna

    from benchmarks.problems import Problem

SAMPLERS = ("random", "tpe", "gp", "cmaes")
PRUNERS = ("median", "hyperband")
#: Extra packages a sampler needs besides optuna.
SAMPLER_NEEDS = {"gp": ("torch",), "cmaes": ("cmaes",)}


def suggest(trial: optuna.Trial, param: Param) -> Any:
    """The define-by-run call for one parameter; returns the peer's raw value."""
    if param.kind == "categorical":
        return trial.suggest_categorical(param.name, list(param.choices))
    if param.kind == "int":
        return trial.suggest_int(param.name, int(param.low), int(param.high), log=param.log)
    return trial.suggest_float(param.name, param.low, param.high, log=param.log)


def sample_config(trial: optuna.Trial, view: SpaceView) -> dict[str, Any]:
    """A rung config suggested by ``trial``: active parameters only, constants added."""
    values: dict[str, Any] = {}
    for name in view.order:
        if not is_active(view.space[name], values):
            continue
        if name in view.constants:
            values[name] = view.constants[name]
        else:
            param = view.params[name]
            values[name] = param.decode(suggest(trial, param))
    return {name: values[name] for name in view.space.names if name in values}


def make_sampler(kind: str, seed: int) -> optuna.samplers.BaseSampler:
    import optuna

    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if kind == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    if kind == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    raise ValueError(f"unknown Optuna sampler {kind!r} (known: {', '.join(SAMPLERS)})")


def make_pruner(kind: str | None, problem: Problem) -> optuna.pruners.BasePruner:
    import optuna

    if kind is None:
        return optuna.pruners.NopPruner()
    if problem.fidelity is None:
        raise ValueError(f"pruner {kind!r} needs a multi-fidelity problem, got {problem.name!r}")
    if kind == "median":
        return optuna.pruners.MedianPruner(n_warmup_steps=delay_step(problem), n_min_trials=3)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=progress(problem, 0), max_resource=progress(problem, problem.n_steps - 1),
            reduction_factor=REDUCTION_FACTOR)
    raise ValueError(f"unknown Optuna pruner {kind!r} (known: {', '.join(PRUNERS)})")


class OptunaPeer:
    """An Optuna study behind the :class:`~benchmarks.peers._simloop.Peer` interface."""

    def __init__(self, study: optuna.Study, problem: Problem, prune: bool) -> None:
        self.study = study
        self.problem = problem
        self.view = SpaceView(problem.space)
        self.prune = prune

    def ask(self) -> tuple[Any, dict[str, Any]]:
        trial = self.study.ask()
        return trial, sample_config(trial, self.view)

    def report(self, handle: Any, step: int, metrics: Mapping[str, Any]) -> bool:
        if not self.prune:
            return True
        value = float(metrics[self.problem.metric])
        if not math.isfinite(value):
            return True
        handle.report(value, progress(self.problem, step))
        return not handle.should_prune()

    def finish(self, handle: Any, status: str, metrics: Mapping[str, Any] | None) -> None:
        from optuna.trial import TrialState

        value = math.nan if metrics is None else float(metrics[self.problem.metric])
        if status == COMPLETED and math.isfinite(value):
            self.study.tell(handle, value)
        elif status == STOPPED:
            self.study.tell(handle, state=TrialState.PRUNED)
        else:
            self.study.tell(handle, state=TrialState.FAIL)


@dataclass(frozen=True)
class OptunaMethod:
    """One Optuna sampler (and optional pruner) as a benchmark method."""

    name: str
    sampler: str
    pruner: str | None = None

    def simulate(self, problem: Problem, seed: int, budget: Budget) -> SimOutcome:
        """Run the study through the simulation loop; the outcome keeps every trial."""
        import optuna

        with quiet("optuna"):
            study = optuna.create_study(
                # a fixed name: HyperbandPruner assigns brackets by hashing it
                study_name=f"{self.name}|{problem.name}|{seed}",
                direction="minimize" if problem.mode == "min" else "maximize",
                sampler=make_sampler(self.sampler, seed), pruner=make_pruner(self.pruner, problem))
            return simulate(problem, OptunaPeer(study, problem, self.pruner is not None), seed, budget)

    def run(self, problem: Problem, seed: int, budget: Budget) -> RunResult:
        info = {"library": f"optuna {version('optuna')}", "sampler": self.sampler,
                "pruner": self.pruner or "none"}
        return self.simulate(problem, seed, budget).result(self.name, info)


def optuna_methods(problem: Problem, available: set[str]) -> list[OptunaMethod]:
    """The Optuna methods for ``problem`` given the importable packages ``available``."""
    if "optuna" not in available:
        return []
    out = []
    for sampler in SAMPLERS:
        if not all(need in available for need in SAMPLER_NEEDS.get(sampler, ())):
            continue
        if sampler == "cmaes" and not SpaceView(problem.space).is_numeric:
            continue  # CMA-ES models numeric, unconditional spaces only
        out.append(OptunaMethod(f"optuna-{sampler}", sampler))
    if problem.fidelity is not None:
        out += [OptunaMethod(f"optuna-tpe-{pruner}", "tpe", pruner) for pruner in PRUNERS]
    return out
