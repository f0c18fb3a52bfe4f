"""What an experiment leaves paused at its end, in words for the summary line.

Promotion-based schedulers (ASHA and Hyperband with ``type="promotion"``, successive halving)
pause trials at rungs; those never promoted stay paused when the experiment ends. The
summary says how many, and at which rung, so "paused" never reads as "still running".
"""

from __future__ import annotations

import collections
from typing import Any, Iterable

from ..trial._record import Trial, TrialStatus


def paused_note(trials: Iterable[Trial], scheduler: Any) -> str:
    """``"; 23 left paused (not promoted): 15 at epoch=1, 8 at epoch=3"``, or ``""``."""
    paused = [t for t in trials if t.status is TrialStatus.PAUSED]
    if not paused:
        return ""
    attr = getattr(scheduler, "resource_attr", None) or "resource"
    at = collections.Counter(t.resource for t in paused)
    parts = [f"{n} at {attr}={level:g}" if level is not None else f"{n} at an unknown rung"
             for level, n in sorted(at.items(), key=lambda item: (item[0] is None, item[0] or 0))]
    return f"; {len(paused)} left paused (not promoted): {', '.join(parts)}"
