"""The simulator's virtual clock, which may also charge the tuner's own (real) time.

Simulated time only moves when the simulator moves it to the next event, so by default the
tuner's decisions (searcher, scheduler, records) are free. With ``count_tuner_time`` the
clock also runs, at real speed, whenever control is in the tuner: between two ``wait``
calls and inside the report / end callbacks. The simulator's own bookkeeping (and the
instant computation of simulated steps) is never charged: it brackets that work with
:meth:`VirtualClock.backend_work`, and each callback into the tuner with
:meth:`VirtualClock.tuner_work`.
"""

from __future__ import annotations

import contextlib
import time
from typing import Iterator


class VirtualClock:
    """Simulated seconds since :meth:`reset`; optionally charged with real tuner time."""

    def __init__(self, count_tuner_time: bool = False) -> None:
        self.count_tuner_time = bool(count_tuner_time)
        self._now = 0.0
        self._mark: float | None = None  # real time when tuner time began to flow; None: frozen

    def reset(self) -> None:
        """Back to 0; tuner time flows from now on if it is counted."""
        self._now = 0.0
        self._mark = time.perf_counter() if self.count_tuner_time else None

    def now(self) -> float:
        """The virtual time (the tuner's clock while the simulator runs its trials)."""
        if self._mark is None:
            return self._now
        return self._now + (time.perf_counter() - self._mark)

    def advance_to(self, when: float) -> None:
        """Move forward to ``when`` (never backward: a late event is seen when it is seen)."""
        if when > self._now:
            self._now = when

    def freeze(self) -> None:
        """Charge the tuner time that has flowed so far, then stop the clock."""
        if self._mark is not None:
            self._now += time.perf_counter() - self._mark
            self._mark = None

    def thaw(self) -> None:
        """Control goes back to the tuner: its time flows again if it is counted."""
        if self.count_tuner_time:
            self._mark = time.perf_counter()

    @contextlib.contextmanager
    def backend_work(self) -> Iterator[None]:
        """The simulator is working: the tuner's time is charged up to here and then stops."""
        flowing = self._mark is not None
        self.freeze()
        try:
            yield
        finally:
            if flowing:
                self.thaw()

    @contextlib.contextmanager
    def tuner_work(self) -> Iterator[None]:
        """The tuner is working (a callback from inside the simulator): its time flows."""
        flowing = self._mark is not None
        self.thaw()
        try:
            yield
        finally:
            if not flowing:
                self.freeze()
