"""``rung.resource_limit()``: how far the scheduler lets this trial run.

A multi-fidelity scheduler (ASHA, successive halving, Hyperband) launches each trial with a
cap on its resource attribute: the last epoch of the whole budget, or the next rung level
for a trial that will be paused there. Trial code that plans its own schedule (a learning
rate decayed over the epochs it will get, d2l's ``config["max_epochs"]``) reads the cap
here, or from its config under the scheduler's ``max_resource_attr``.
"""

from __future__ import annotations

from typing import TypeVar

from ._session import _environment_session, current_session

T = TypeVar("T")


def resource_limit(default: T | None = None) -> float | int | T | None:
    """The resource (e.g. epoch) this launch of the trial may run to, or ``default``.

    ``default`` is returned when the trial has no cap (no multi-fidelity scheduler) and when
    called outside a trial (so the same training code runs on its own). Whole numbers come
    back as ints, so ``range(1, rung.resource_limit(10) + 1)`` works. A trial that reports
    past the cap is stopped there anyway.
    """
    session = current_session() or _environment_session()
    limit = None if session is None else getattr(session, "resource", None)
    if limit is None:
        return default
    limit = float(limit)
    return int(limit) if limit.is_integer() else limit
