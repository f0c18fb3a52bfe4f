"""How a trial ended: from what the backend saw and what the tuner decided, a status and a reason.

Pure functions of their inputs, so every rule about failures (a missing or non-numeric
metric, NaN, a kill, a returned value of the wrong kind) is written once and tested alone.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Mapping

from ..backends import OutcomeKind, TrialOutcome
from ..schedulers import Action, Decision
from ..trial._record import TrialStatus


def metric_problem(metric: str, metrics: Mapping[str, Any], where: str) -> str | None:
    """Why ``metrics`` cannot be accepted (missing, not a number, NaN/inf), or None."""
    if metric not in metrics:
        return f"{where} has no metric {metric!r} (got: {', '.join(sorted(metrics)) or 'nothing'})"
    value = metrics[metric]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{where}: metric {metric!r} is {value!r}, not a number"
    if not math.isfinite(float(value)):
        return f"{where}: metric {metric!r} is {float(value)}"
    return None


@dataclass(frozen=True)
class Verdict:
    """A trial's status and reason; ``final_metrics`` is a returned result still to accept."""

    status: TrialStatus
    reason: str | None = None
    final_metrics: dict[str, Any] | None = None


@dataclass
class PendingEnd:
    """What the tuner knows about a running trial before the backend says it ended."""

    decision: Decision | None = None  # the scheduler's last PAUSE or STOP
    bad_metric: str | None = None  # a report the tuner refused
    kill: tuple[TrialStatus, str] | None = None  # why the tuner terminated it


def classify(outcome: TrialOutcome, pending: PendingEnd, *, metric: str, reported: bool,
             stop_message: str | None) -> Verdict:
    """The verdict on a trial that left its worker.

    ``reported``: the trial has an accepted value already; ``stop_message``: set when the
    experiment is ending (a trial that stops itself then was stopped by the experiment).
    """
    if pending.bad_metric is not None:
        return Verdict(TrialStatus.FAILED, pending.bad_metric)
    if pending.kill is not None:
        return Verdict(*pending.kill)
    if outcome.kind is OutcomeKind.KILLED:
        return Verdict(TrialStatus.STOPPED, "terminated")
    if outcome.kind is OutcomeKind.FAILED:
        return Verdict(TrialStatus.FAILED, outcome.error or "failed")
    decision = pending.decision
    if decision is not None:
        if decision.action is Action.PAUSE:
            return Verdict(TrialStatus.PAUSED, decision.reason or "paused by the scheduler")
        if decision.completes:  # it reached max_resource: done, not judged
            return Verdict(TrialStatus.COMPLETED, decision.reason)
        return Verdict(TrialStatus.STOPPED, decision.reason or "stopped by the scheduler")
    if outcome.kind is OutcomeKind.STOPPED:
        if stop_message is not None:
            return Verdict(TrialStatus.STOPPED, stop_message)
        return Verdict(TrialStatus.STOPPED, "the objective raised TrialStopped")
    return returned_value(outcome.value, metric=metric, reported=reported)


def returned_value(value: Any, *, metric: str, reported: bool) -> Verdict:
    """The verdict on what the objective returned (None, a number or a dict of metrics)."""
    if value is None:
        if not reported:
            return Verdict(TrialStatus.FAILED, f"the objective returned None and never reported metric {metric!r}")
        return Verdict(TrialStatus.COMPLETED)
    if isinstance(value, Mapping):
        metrics = dict(value)
        if metric not in metrics and reported:
            return Verdict(TrialStatus.COMPLETED)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        metrics = {metric: float(value)}
    else:
        return Verdict(TrialStatus.FAILED, (
            f"the objective returned {type(value).__name__} {value!r}; return a number, "
            f"a dict with {metric!r}, or None after rung.report()"
        ))
    problem = metric_problem(metric, metrics, "the returned value")
    if problem is not None:
        return Verdict(TrialStatus.FAILED, problem)
    return Verdict(TrialStatus.COMPLETED, final_metrics=metrics)
