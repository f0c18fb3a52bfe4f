"""A multi-fidelity scheduler must find its resource in the reports, and reach its maximum.

``ASHA("epochs")`` with trials reporting ``epoch`` would stop nothing and say nothing: every
report lacks the resource, so every decision is CONTINUE. The first report that lacks it,
while no report of the experiment has had it, fails that trial and stops the experiment
with ``stop_reason="resource_missing"``, naming both names (and the closest one the report
has). A ``max_resource`` that no report ever reaches (``max_resource=27`` while ``train``
reports 10 epochs) leaves the top rung empty: one warning at the end says so.
"""

from __future__ import annotations

import difflib
import math
import numbers
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from ..trial._record import Report, Trial, TrialStatus

#: ``stop_reason`` of an experiment stopped because reports lack the scheduler's resource.
STOP_REASON = "resource_missing"


def _resource(metrics: Mapping[str, Any], attr: str) -> float | None:
    value = metrics.get(attr)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        return None
    return float(value)


class ResourceCheck:
    """Watches the reports for the scheduler's ``resource_attr`` (if it has one)."""

    def __init__(self, scheduler: Any) -> None:
        attr = getattr(scheduler, "resource_attr", None)
        self.attr: str | None = attr if isinstance(attr, str) else None
        self.scheduler_name = type(scheduler).__name__
        self.seen = False

    def problem(self, trial: Trial, metrics: Mapping[str, Any]) -> str | None:
        """Why this report must fail the experiment (its resource was never reported), or None
        (also after the first time: the stop then ends the other trials)."""
        if self.attr is None or self.seen:
            return None
        if self.attr in metrics:
            self.seen = True
            return None
        self.seen = True  # said once; the experiment stops, later reports are stopped with it
        names = [name for name in metrics if isinstance(name, str)]
        close = difflib.get_close_matches(self.attr, names, n=1, cutoff=0.6)
        hint = f"; did you mean {self.scheduler_name}(resource_attr={close[0]!r})?" if close else (
            f"; report the resource with rung.report({self.attr}=..., ...)"
        )
        return (
            f"{self.scheduler_name} reads the resource from the report field {self.attr!r}, but report "
            f"{trial.n_reports + 1} of trial {trial.trial_id} has no {self.attr!r} "
            f"(it has {', '.join(map(repr, names)) or 'nothing'}){hint} Without it the scheduler can "
            "neither stop nor pause any trial, so the experiment is stopped"
        )


def unreached_max_resource(scheduler: Any, trials: Iterable[Trial], reports: Iterable[Report]) -> str | None:
    """The warning for a ``max_resource`` that no report reached although trials ran to
    their own end (completed), or None."""
    attr = getattr(scheduler, "resource_attr", None)
    max_resource = getattr(scheduler, "max_resource", None)
    if not isinstance(attr, str) or not isinstance(max_resource, (int, float)) or isinstance(max_resource, bool):
        return None
    values = [v for report in reports if (v := _resource(report.metrics, attr)) is not None]
    completed = [t for t in trials if t.status is TrialStatus.COMPLETED]
    if not values or not completed:
        return None
    highest = max(values)
    if highest >= max_resource - 1e-9 * max(1.0, abs(max_resource)):
        return None
    shown = int(highest) if float(highest).is_integer() else highest
    return (
        f"{type(scheduler).__name__}(max_resource={max_resource!r}): no trial reported {attr} >= {max_resource!r}; "
        f"the highest was {attr}={shown!r} ({len(completed)} trial(s) ended on their own before it), so the "
        f"top rung was never used and the ranking rests on lower rungs: set max_resource={shown!r}, or let "
        f"trials run to {attr}={max_resource!r}"
    )


def warn_unreached(scheduler: Any, trials: Iterable[Trial], reports: Iterable[Report]) -> None:
    """Emit :func:`unreached_max_resource`'s warning (a RuntimeWarning), if any."""
    message = unreached_max_resource(scheduler, trials, reports)
    if message is not None:
        warnings.warn(message, RuntimeWarning, stacklevel=3)
