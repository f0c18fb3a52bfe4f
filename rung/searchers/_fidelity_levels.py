"""Where a report belongs for a multi-fidelity searcher: its resource level.

Multi-fidelity searchers (:class:`~rung.searchers.BOHB`, :class:`~rung.searchers.MOBSTER`)
keep their observations per resource level. A scheduler's ``setup`` tells them, through
``Searcher.set_fidelity``, which report field holds the resource and, when it has them,
its rung levels and ``max_resource``:

* with rung levels, a report belongs to the highest level it has reached (``resource >=
  level``, with the schedulers' float tolerance) and reports below the first level are
  not kept, exactly as ASHA and successive halving judge trials; a trial is recorded at a
  level once, by the first report that reaches it (later epochs below the next level
  would otherwise mix values of different fidelity into one level);
* without rung levels (stopping policies), each distinct resource value is its own level;
* a result without the resource field (a FIFO scheduler, or a final result that does not
  repeat it) belongs to the top: ``max_resource`` when known, else :data:`FINAL`.

This module is pure bookkeeping: no model, no randomness.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from typing import Any

#: Level of results that carry no resource value: above every resource level.
FINAL = math.inf
# Relative tolerance when comparing resource values (as in rung.schedulers._rungs).
_TOLERANCE = 1e-9


def resource_value(metrics: Mapping[str, Any], resource_attr: str | None) -> float | None:
    """The report's resource, or None when absent, not a number or not finite."""
    if resource_attr is None or resource_attr not in metrics:
        return None
    value = metrics[resource_attr]
    if isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


class Fidelity:
    """The resource field and rung levels a multi-fidelity searcher buckets reports by."""

    def __init__(self, resource_attr: str | None = None) -> None:
        self.resource_attr = resource_attr
        self.levels: list[float] | None = None
        self.max_resource: float | None = None
        # Smallest and largest resource seen in reports: the scale when levels are unknown.
        self._seen: tuple[float, float] | None = None

    def configure(
        self, resource_attr: str, levels: Sequence[float] | None, max_resource: float | None
    ) -> None:
        """What ``Searcher.set_fidelity`` received."""
        self.resource_attr = resource_attr
        self.levels = None if not levels else sorted(float(level) for level in levels)
        if max_resource is None and self.levels:
            max_resource = self.levels[-1]
        self.max_resource = None if max_resource is None else float(max_resource)

    @property
    def active(self) -> bool:
        """True once a resource field is known (a multi-fidelity scheduler, or the user)."""
        return self.resource_attr is not None

    def level_of_report(self, metrics: Mapping[str, Any]) -> float | None:
        """The level of an intermediate report, or None if it belongs to none."""
        resource = resource_value(metrics, self.resource_attr)
        if resource is None:
            return None
        return self._bucket(resource)

    def level_of_result(self, metrics: Mapping[str, Any]) -> float | None:
        """The level of a final result: its resource's level, else the top level."""
        resource = resource_value(metrics, self.resource_attr)
        if resource is None:
            return FINAL if self.max_resource is None else self._bucket(self.max_resource)
        return self._bucket(resource)

    def _bucket(self, resource: float) -> float | None:
        if resource > 0:
            low, high = self._seen or (resource, resource)
            self._seen = (min(low, resource), max(high, resource))
        levels = self.levels
        if levels is None:
            return resource
        # Highest k with resource >= levels[k] (within tolerance).
        k = bisect.bisect_right(levels, resource + _TOLERANCE * max(1.0, abs(resource))) - 1
        return None if k < 0 else levels[k]

    def unit(self, level: float) -> float:
        """``level`` on a log scale in [0, 1]: 0 at the first level, 1 at ``max_resource``.

        Resource levels are usually geometric (``r_min * eta**k``), so a log scale spaces
        them evenly; :data:`FINAL` and anything beyond the known range map to the ends.
        Without rung levels the range is that of the resources reported so far.
        """
        if level == FINAL:
            return 1.0
        seen_low, seen_high = self._seen or (None, None)
        low = self.levels[0] if self.levels else seen_low
        high = self.max_resource if self.max_resource is not None else seen_high
        if low is None or high is None or not high > low > 0:
            return 1.0
        return min(1.0, max(0.0, math.log(level / low) / math.log(high / low)))
