"""Schedulers decide when trials start, continue, pause, stop and resume."""

from ._base import CONTINUE, Action, Decision, ResumeTrial, Scheduler, StartTrial, Suggestion
from ._fifo import FIFO

__all__ = [
    "Action",
    "CONTINUE",
    "Decision",
    "FIFO",
    "ResumeTrial",
    "Scheduler",
    "StartTrial",
    "Suggestion",
    "make_scheduler",
]

_BY_NAME = {"fifo": FIFO}


def make_scheduler(scheduler: "str | Scheduler | type[Scheduler] | None") -> Scheduler:
    """Resolve the tuner's ``scheduler=`` argument (a name, a class, an instance or None)."""
    if scheduler is None:
        return FIFO()
    if isinstance(scheduler, Scheduler):
        return scheduler
    if isinstance(scheduler, type) and issubclass(scheduler, Scheduler):
        return scheduler()
    if isinstance(scheduler, str):
        try:
            return _BY_NAME[scheduler.lower()]()
        except KeyError:
            raise ValueError(
                f"scheduler={scheduler!r} is not known; choose one of {sorted(_BY_NAME)} "
                "or pass a rung.schedulers.Scheduler instance"
            ) from None
    raise TypeError(f"scheduler must be a name, a Scheduler class or instance, got {scheduler!r}")
