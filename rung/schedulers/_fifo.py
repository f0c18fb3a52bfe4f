"""Run-to-completion: every trial runs until its objective returns."""

from __future__ import annotations

from ._base import Scheduler


class FIFO(Scheduler):
    """Start trials in the order the searcher proposes them and never stop one early."""

    def __repr__(self) -> str:
        return "FIFO()"
