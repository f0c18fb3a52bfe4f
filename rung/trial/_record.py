"""The tuner's record of one trial: its config, status, reports and timings.

A trial is one evaluation of one config. It may report many times (once per epoch, say);
the scheduler sees every report and decides whether it continues. Schedulers and the
tuner share these records; backends only ever see the trial id and the config.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class TrialStatus(str, enum.Enum):
    """Where a trial is in its life.

    ``RUNNING`` (from its launch) -> one of ``COMPLETED`` (ran to its end), ``STOPPED`` (the
    scheduler or a budget ended it early), ``FAILED`` (it raised, crashed, hung or reported
    a bad metric). Promotion-based schedulers also use ``PAUSED``: the trial left its worker
    and may be resumed later from its checkpoint.
    """

    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def is_finished(self) -> bool:
        return self in (TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED)


@dataclass
class Report:
    """One ``rung.report(**metrics)`` call, as the tuner accepted it."""

    trial_id: int
    step: int
    time: float
    metrics: dict[str, Any]


@dataclass
class Trial:
    """Mutable record of a trial, owned by the tuner.

    ``metric_value`` is the last accepted value of the experiment's metric (what the trial
    is ranked by); ``resource`` is the resource limit a scheduler gave it on its latest
    (re)start, or ``None`` for "run to the end".
    """

    trial_id: int
    config: dict[str, Any]
    status: TrialStatus = TrialStatus.RUNNING
    created_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    run_time: float = 0.0
    n_reports: int = 0
    last_metrics: dict[str, Any] = field(default_factory=dict)
    metric_value: float | None = None
    error: str | None = None
    traceback: str | None = None
    end_reason: str | None = None
    resource: float | None = None
    n_starts: int = 0
    #: The scheduler's last PAUSE or STOP of this trial: ``{"reason": ..., "rung": ...,
    #: "value": ..., "threshold": ...}`` (what the decision's details hold); it explains the
    #: trial's end only while ``end_reason`` is that reason. Rebuilt from the stored reports.
    end_details: dict[str, Any] | None = None

    @property
    def is_finished(self) -> bool:
        return self.status.is_finished


def as_metric_value(value: Any) -> float | None:
    """Return ``value`` as a float if it is a real number (NaN/inf included), else None."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
