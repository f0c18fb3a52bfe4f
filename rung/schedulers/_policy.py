"""Shared machinery of the early-termination policies (median stopping, bandit, truncation).

These policies never pause or resume: they start whatever the searcher proposes (any
searcher, model-based ones included) and answer STOP to a report that compares badly with
the other trials at the same evaluation point.

When a policy evaluates
    Evaluation points are the resource values ``j * evaluation_interval`` for j >= 1. A
    trial reaches point j at its first report with ``resource_attr >= j * interval``
    (when one report passes several points, only the highest is used); with reports at
    exact multiples, as HyperDrive assumes, this is simply "at every multiple". The policy
    is applied at a point only when ``j * interval >= delay_evaluation``. A report without
    ``resource_attr`` is not evaluated (CONTINUE) and does not count in running averages.

What is compared
    At each point the policy keeps, per trial, the value reported there, the running
    average of all its reports so far and its best value so far. A trial is compared only
    with the records of *other* trials at the same point (trials that got there earlier,
    finished or not), and only once at least ``min_others`` (default 1) of them exist; the
    first trial to reach a point is therefore never stopped there.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from . import _rungs
from ._base import Decision, Scheduler

if TYPE_CHECKING:
    from ..trial._record import Trial
    from ..searchers import Searcher


@dataclass(frozen=True)
class PointRecord:
    """A trial's record at one evaluation point (metric values as reported, not signed)."""

    value: float  # the value of the report that reached the point
    average: float  # running average of its reports up to that one
    best: float  # best value among them


@dataclass
class _Running:
    count: int = 0
    total: float = 0.0
    best: float | None = None
    last_point: int = 0


class EarlyTerminationPolicy(Scheduler):
    """Base class: bookkeeping of evaluation points; subclasses judge one record."""

    def __init__(
        self,
        resource_attr: str = "epoch",
        *,
        evaluation_interval: float = 1,
        delay_evaluation: float = 0,
        min_others: int = 1,
    ) -> None:
        self.resource_attr = _rungs.check_resource_attr(resource_attr)
        self.evaluation_interval = _rungs.check_number("evaluation_interval", evaluation_interval)
        self.delay_evaluation = _rungs.check_number("delay_evaluation", delay_evaluation, strict=False)
        self.min_others = _rungs.check_number("min_others", min_others, minimum=1, strict=False, integer=True)
        self._reset()

    def _reset(self) -> None:
        self._running: dict[int, _Running] = {}
        self._points: dict[int, dict[int, PointRecord]] = {}

    def setup(self, searcher: "Searcher", metric: str, mode: str) -> None:
        super().setup(searcher, metric, mode)
        self._reset()

    def records(self, point: float) -> dict[int, PointRecord]:
        """Trial id -> record at the evaluation point with resource value ``point``."""
        return dict(self._points.get(self._point_index(point) or 0, {}))

    def _point_index(self, resource: float) -> int | None:
        index = math.floor(round(resource / self.evaluation_interval, 9))
        return index if index >= 1 else None

    def on_report(self, trial: "Trial", metrics: Mapping[str, Any]) -> Decision:
        decision = super().on_report(trial, metrics)
        resource = _rungs.resource_of(metrics, self.resource_attr)
        if resource is None:
            return decision
        value = float(metrics[self.metric])
        running = self._running.setdefault(trial.trial_id, _Running())
        running.count += 1
        running.total += value
        if self.objective.better(value, running.best):
            running.best = value
        point = self._point_index(resource)
        if point is None or point <= running.last_point:
            return decision
        running.last_point = point
        assert running.best is not None  # set by this very report at the latest
        record = PointRecord(value, running.total / running.count, running.best)
        at_point = self._points.setdefault(point, {})
        others = [other for trial_id, other in at_point.items() if trial_id != trial.trial_id]
        at_point[trial.trial_id] = record
        resource_at = round(point * self.evaluation_interval, 12)
        if not _rungs.at_least(resource_at, self.delay_evaluation) or len(others) < self.min_others:
            return decision
        return self._judge(resource_at, record, others) or decision

    @abstractmethod
    def _judge(self, point: float, record: PointRecord, others: list[PointRecord]) -> Decision | None:
        """STOP decision for ``record`` at ``point`` given the other trials' records, or None."""

    def _where(self, point: float) -> str:
        return f"{self.resource_attr}={point:g}"

    def _common_repr(self) -> str:
        return (
            f"resource_attr={self.resource_attr!r}, evaluation_interval={self.evaluation_interval!r}, "
            f"delay_evaluation={self.delay_evaluation!r}, min_others={self.min_others!r}"
        )
