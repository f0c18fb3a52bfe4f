"""Schedulers decide when trials start, continue, pause, stop and resume."""

from ._asha import ASHA
from ._bandit import Bandit
from ._base import CONTINUE, Action, Decision, ResumeTrial, Scheduler, StartTrial, Suggestion
from ._fifo import FIFO
from ._hyperband import Hyperband
from ._median import MedianStopping
from ._successive_halving import SuccessiveHalving
from ._truncation import Truncation

__all__ = [
    "SCHEDULERS",
    "ASHA",
    "Action",
    "Bandit",
    "CONTINUE",
    "Decision",
    "FIFO",
    "Hyperband",
    "MedianStopping",
    "ResumeTrial",
    "Scheduler",
    "StartTrial",
    "SuccessiveHalving",
    "Suggestion",
    "Truncation",
    "make_scheduler",
]

_BY_NAME: dict[str, type[Scheduler]] = {"fifo": FIFO, "median": MedianStopping}

# Names whose scheduler has a required setting: a bare name cannot build it.
_NEEDS_SETTINGS = {
    "sh": ("SuccessiveHalving", "max_resource", "SuccessiveHalving(max_resource=81)"),
    "successive_halving": ("SuccessiveHalving", "max_resource", "SuccessiveHalving(max_resource=81)"),
    "asha": ("ASHA", "max_resource", "ASHA(max_resource=81)"),
    "hyperband": ("Hyperband", "max_resource", "Hyperband(max_resource=81)"),
    "bandit": ("Bandit", "slack_factor or slack_amount", "Bandit(slack_factor=0.1)"),
    "truncation": ("Truncation", "truncation_percentage", "Truncation(truncation_percentage=20)"),
}

#: Every scheduler by the name used in specs and on the command line.
SCHEDULERS: dict[str, type[Scheduler]] = {
    "fifo": FIFO,
    "sh": SuccessiveHalving,
    "successive_halving": SuccessiveHalving,
    "asha": ASHA,
    "hyperband": Hyperband,
    "median": MedianStopping,
    "bandit": Bandit,
    "truncation": Truncation,
}


def make_scheduler(scheduler: "str | Scheduler | type[Scheduler] | None") -> Scheduler:
    """Resolve the tuner's ``scheduler=`` argument (a name, a class, an instance or None).

    Names: ``"fifo"``, ``"median"`` build the scheduler with its defaults. ``"sh"`` /
    ``"successive_halving"``, ``"asha"``, ``"hyperband"`` (need ``max_resource``),
    ``"bandit"`` (needs a slack) and ``"truncation"`` (needs a percentage) are known but
    raise ValueError saying which instance to pass instead.
    """
    if scheduler is None:
        return FIFO()
    if isinstance(scheduler, Scheduler):
        return scheduler
    if isinstance(scheduler, type) and issubclass(scheduler, Scheduler):
        return scheduler()
    if isinstance(scheduler, str):
        name = scheduler.lower()
        if name in _NEEDS_SETTINGS:
            cls, setting, example = _NEEDS_SETTINGS[name]
            raise ValueError(
                f"scheduler={scheduler!r} needs {setting}, which has no default; pass an instance "
                f"instead, e.g. scheduler=rung.schedulers.{example}"
            )
        try:
            return _BY_NAME[name]()
        except KeyError:
            known = sorted(set(_BY_NAME) | set(_NEEDS_SETTINGS))
            raise ValueError(
                f"scheduler={scheduler!r} is not known; choose one of {known} "
                "or pass a rung.schedulers.Scheduler instance"
            ) from None
    raise TypeError(f"scheduler must be a name, a Scheduler class or instance, got {scheduler!r}")
