"""What ``rung show`` draws of an experiment: counts, the best trial, and the trials listed.

A small experiment is listed whole (its result, as ``rung.load`` gives it). A large one is
not read whole: :meth:`Storage.read_best_trials` gives the counts by status, the latest
time in the log and the rows and log entries of the few trials that can be among the
``top`` best, and the same ``RunState`` that rebuilds a whole run rebuilds those trials
from their own rows and entries (a trial's record depends on nothing else). Ranking them
as the whole table would be ranked gives the same ``top`` trials, best first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .._objective import Objective, check_mode
from ..storage import BestTrials, ExperimentRecord
from ..trial._record import Trial, TrialStatus
from ._result import TuningResult, best_trial_of


@dataclass
class ExperimentView:
    """The numbers and trials ``rung show`` prints."""

    metric: str
    mode: str
    n_trials: int
    counts: dict[str, int]  #: trials by status value
    best_trial: Trial | None
    wallclock: float
    decision_time: float
    parameter_names: list[str]
    #: The trials listed: all of them in id order, or (``ranked``) the best first.
    trials: list[Trial] = field(default_factory=list)
    ranked: bool = False


def ranked_trials(trials: list[Trial], metric: str, mode: str, top: int) -> list[Trial]:
    """The ``top`` best of ``trials`` (in id order) that have a value and did not fail, best
    first, ties in id order."""
    valued = [t for t in trials if t.metric_value is not None and t.status is not TrialStatus.FAILED]
    return Objective(metric, check_mode(mode)).ranked(valued, lambda t: t.metric_value)[:top]


def view_of_result(result: TuningResult, top: int | None = None) -> ExperimentView:
    """The view of a whole result: every trial in id order, or the ``top`` best."""
    trials = list(result.trial_records)
    counts = {status.value: result.count(status) for status in TrialStatus}
    return ExperimentView(
        metric=result.metric, mode=result.mode, n_trials=len(trials),
        counts={status: n for status, n in counts.items() if n}, best_trial=result.best_trial,
        wallclock=result.wallclock, decision_time=result.decision_time, parameter_names=list(result.parameter_names),
        trials=trials if top is None else ranked_trials(trials, result.metric, result.mode, top), ranked=top is not None,
    )


def view_of_best(experiment: ExperimentRecord, best: BestTrials, top: int) -> ExperimentView:
    """The view of a large experiment from :meth:`Storage.read_best_trials` (called with
    ``limit=top``): its ``top`` best trials, best first, as ranking the whole table gives."""
    from ..space import Space
    from ..tuner._state import RunState  # the tuner package imports this one

    objective = Objective(experiment.metric, check_mode(experiment.mode))
    candidates = list(RunState.from_log(objective, best.log).trials.values())
    order = [status.value for status in TrialStatus]
    return ExperimentView(
        metric=experiment.metric, mode=experiment.mode, n_trials=sum(best.counts.values()),
        counts={status: best.counts[status] for status in sorted(best.counts, key=_status_order(order)) if best.counts[status]},
        best_trial=best_trial_of(candidates, objective), wallclock=max(experiment.elapsed or 0.0, best.last_time),
        decision_time=experiment.decision_time or 0.0, parameter_names=list(Space.from_dict(experiment.space).names),
        trials=ranked_trials(candidates, experiment.metric, experiment.mode, top), ranked=True,
    )


def _status_order(order: list[str]) -> Callable[[str], tuple[int, str]]:
    """Sort key of status values: in ``order`` (TrialStatus's), unknown ones after, by name."""
    return lambda status: (order.index(status) if status in order else len(order), status)
