"""Truncation selection: stop trials in the lowest X% at an evaluation point."""

from __future__ import annotations

import numbers

import numpy as np

from ._base import Decision
from ._policy import EarlyTerminationPolicy, PointRecord


class Truncation(EarlyTerminationPolicy):
    """Truncation selection policy, as HyperDrive defines it.

    The exact rule: at an evaluation point (see :mod:`rung.schedulers._policy`), take the
    ``n`` values reported there (this trial's and the other trials'). The lowest
    ``m = floor(n * truncation_percentage / 100)`` of them are truncated: the trial is
    STOPPED iff at least ``n - m`` values are strictly better than its own (so ties favour
    the trial, and no trial is stopped while ``m`` is 0, e.g. fewer than 5 values at 20%).
    ``truncation_percentage`` is an integer from 1 to 99.
    """

    def __init__(
        self,
        resource_attr: str = "epoch",
        *,
        truncation_percentage: int | None = None,
        evaluation_interval: float = 1,
        delay_evaluation: float = 0,
        min_others: int = 1,
    ) -> None:
        ok = (
            isinstance(truncation_percentage, numbers.Real)
            and not isinstance(truncation_percentage, bool)
            and float(truncation_percentage).is_integer()
            and 1 <= truncation_percentage <= 99
        )
        if not ok or truncation_percentage is None:
            raise ValueError(
                "truncation_percentage must be an integer from 1 to 99 (the share of the worst "
                f"trials stopped at each evaluation), got truncation_percentage={truncation_percentage!r}"
            )
        self.truncation_percentage = int(truncation_percentage)
        super().__init__(
            resource_attr, evaluation_interval=evaluation_interval, delay_evaluation=delay_evaluation,
            min_others=min_others,
        )

    def _judge(self, point: float, record: PointRecord, others: list[PointRecord]) -> Decision | None:
        oriented = self.objective.oriented
        signed = np.array([oriented(record.value)] + [oriented(other.value) for other in others])
        n = len(signed)
        m = n * self.truncation_percentage // 100
        if m == 0:
            return None
        better = int(np.count_nonzero(signed < signed[0]))
        if better < n - m:
            return None
        threshold = oriented(np.sort(signed)[n - m - 1])  # oriented twice: the value again
        return Decision.stop(
            f"{self.metric}={record.value:g} at {self._where(point)} is in the lowest "
            f"{self.truncation_percentage}% ({m} of {n} trials; cutoff {threshold:g})",
            rung=point, value=record.value, threshold=threshold, compared_with=len(others), truncated=m,
        )

    def __repr__(self) -> str:
        return f"Truncation(truncation_percentage={self.truncation_percentage!r}, {self._common_repr()})"
