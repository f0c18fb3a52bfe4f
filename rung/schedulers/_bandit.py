"""Bandit policy: stop a trial that falls outside a slack of the best trial."""

from __future__ import annotations

from ._base import Decision
from ._policy import EarlyTerminationPolicy, PointRecord
from ._rungs import check_number


class Bandit(EarlyTerminationPolicy):
    """Bandit early-termination policy, as HyperDrive defines it.

    The exact rule: at an evaluation point (see :mod:`rung.schedulers._policy`), ``best``
    is the best value reported at that point by any trial (this one included). The cutoff
    allows a slack from it:

    * ``slack_amount=a``: ``best + a`` (min mode) or ``best - a`` (max mode);
    * ``slack_factor=f``: ``best * (1 + f)`` (min mode) or ``best / (1 + f)`` (max mode),
      e.g. best 0.8 with f=0.2 in max mode gives 0.8 / 1.2 = 0.667. The slack is taken on
      ``|best|``, so for a negative best the cutoff is still on the worse side of it.

    The trial is STOPPED if its value at that point is strictly worse than the cutoff.
    Exactly one of ``slack_factor`` / ``slack_amount`` must be given (both >= 0).
    """

    def __init__(
        self,
        resource_attr: str = "epoch",
        *,
        slack_factor: float | None = None,
        slack_amount: float | None = None,
        evaluation_interval: float = 1,
        delay_evaluation: float = 0,
        min_others: int = 1,
    ) -> None:
        if (slack_factor is None) == (slack_amount is None):
            raise ValueError(
                "Bandit needs exactly one of slack_factor or slack_amount, got "
                f"slack_factor={slack_factor!r} and slack_amount={slack_amount!r}"
            )
        if slack_factor is not None:
            slack_factor = check_number("slack_factor", slack_factor, strict=False)
        if slack_amount is not None:
            slack_amount = check_number("slack_amount", slack_amount, strict=False)
        self.slack_factor = slack_factor
        self.slack_amount = slack_amount
        super().__init__(
            resource_attr, evaluation_interval=evaluation_interval, delay_evaluation=delay_evaluation,
            min_others=min_others,
        )

    def cutoff(self, best: float) -> float:
        """The worst value that still continues when the best value at the point is ``best``."""
        factor = self.slack_factor
        if self.slack_amount is not None:
            slack = self.slack_amount
        elif factor is None:
            raise AssertionError("Bandit has neither slack_amount nor slack_factor")
        elif self.objective.mode == "min":
            slack = abs(best) * factor
        else:
            slack = abs(best) * factor / (1 + factor)
        return best + slack if self.objective.mode == "min" else best - slack

    def _judge(self, point: float, record: PointRecord, others: list[PointRecord]) -> Decision | None:
        best = min([record.value] + [other.value for other in others], key=self.objective.sort_key)
        cutoff = self.cutoff(best)
        if self.objective.at_least_as_good(record.value, cutoff):
            return None
        slack = f"slack_amount={self.slack_amount:g}" if self.slack_amount is not None else f"slack_factor={self.slack_factor:g}"
        return Decision.stop(
            f"{self.metric}={record.value:g} at {self._where(point)} is outside the slack of the best "
            f"trial there ({best:g}, {slack}, cutoff {cutoff:g})",
            rung=point, value=record.value, threshold=cutoff, compared_with=len(others), best=best,
        )

    def __repr__(self) -> str:
        return (
            f"Bandit(slack_factor={self.slack_factor!r}, slack_amount={self.slack_amount!r}, "
            f"{self._common_repr()})"
        )
