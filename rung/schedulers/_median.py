"""Median stopping: stop a trial whose best value is worse than the median of running averages."""

from __future__ import annotations

import numpy as np

from ._base import Decision
from ._policy import EarlyTerminationPolicy, PointRecord


class MedianStopping(EarlyTerminationPolicy):
    """Median stopping policy, as HyperDrive defines it.

    The exact rule: at an evaluation point (see :mod:`rung.schedulers._policy` for when
    that is), a trial is STOPPED if its *best* value so far is strictly worse than the
    median of the *running averages* (mean of all reports up to the point) of the other
    trials at that point. Ties continue. The trial's own running average is not part of
    the median. With the default ``min_others=1`` a trial is compared as soon as one other
    trial has reached the same point.

    Parameters
    ----------
    resource_attr:
        Name of the reported resource (e.g. ``"epoch"``).
    evaluation_interval:
        The policy applies at resource values that are multiples of this.
    delay_evaluation:
        No evaluation at resource values below this.
    min_others:
        How many other trials must have reached the point before a trial is compared.
    """

    def _judge(self, point: float, record: PointRecord, others: list[PointRecord]) -> Decision | None:
        median = float(np.median([other.average for other in others]))
        if self.objective.at_least_as_good(record.best, median):
            return None
        return Decision.stop(
            f"best {self.metric}={record.best:g} by {self._where(point)} is worse than the median "
            f"{median:g} of {len(others)} other trials' running averages",
            rung=point, value=record.best, threshold=median, compared_with=len(others),
            running_average=record.average,
        )

    def __repr__(self) -> str:
        return f"MedianStopping({self._common_repr()})"
