"""The scheduler contract: who starts, continues, pauses, stops and resumes trials.

A scheduler is pure decision logic (no clocks, threads or files), so it can be tested on
scripted inputs and replayed in a simulator. The tuner drives it with events:

* ``suggest(allow_new)`` when a worker is free: start a new trial (:class:`StartTrial`, a
  config obtained from the searcher), resume a paused one (:class:`ResumeTrial`), or
  ``None`` for "nothing to start right now". When nothing is running and the scheduler
  returns ``None``, the experiment is over.
* ``on_report(trial, metrics)`` for every accepted report: answer with a :class:`Decision`
  (CONTINUE, PAUSE or STOP, with a reason for the record).
* ``on_complete`` / ``on_stop`` / ``on_pause`` / ``on_fail`` when a trial leaves its worker.

Successive halving, ASHA (stopping and promotion), Hyperband and the median / bandit /
truncation policies all fit in these calls: stopping policies answer STOP from
``on_report``; promotion-based ones answer PAUSE at a rung and later return
``ResumeTrial(trial_id, resource=...)`` from ``suggest``.
"""

from __future__ import annotations

import enum
from abc import ABC
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from .._objective import Objective

if TYPE_CHECKING:
    from ..trial._record import Trial
    from ..searchers import Searcher


class Action(str, enum.Enum):
    CONTINUE = "continue"
    PAUSE = "pause"
    STOP = "stop"


@dataclass(frozen=True)
class Decision:
    """A scheduler's answer to a report, with the reason that is stored alongside it.

    ``details`` holds what the decision compared, e.g. ``{"rung": 4, "value": 0.31,
    "threshold": 0.27, "compared_with": 8}``.
    """

    action: Action
    reason: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def stop(cls, reason: str, **details: Any) -> "Decision":
        return cls(Action.STOP, reason, details)

    @classmethod
    def pause(cls, reason: str, **details: Any) -> "Decision":
        return cls(Action.PAUSE, reason, details)

    @classmethod
    def complete(cls, reason: str, **details: Any) -> "Decision":
        """STOP because the trial has had its whole budget (it reached ``max_resource``).

        The trial hears "stop" like any other, but the tuner records it as completed, and
        the scheduler hears ``on_complete``: it was not judged, it is done. The mark is
        ``details["completed"] = True``, stored with the report, so a replay sees it too.
        """
        return cls(Action.STOP, reason, {**details, "completed": True})

    @property
    def completes(self) -> bool:
        """Whether this STOP ends the trial as completed (see :meth:`complete`)."""
        return self.action is Action.STOP and bool(self.details.get("completed"))


CONTINUE = Decision(Action.CONTINUE)


@dataclass(frozen=True)
class StartTrial:
    """Start a new trial with ``config``; ``resource`` caps what it may spend (None: no cap)."""

    config: dict[str, Any]
    resource: float | None = None


@dataclass(frozen=True)
class ResumeTrial:
    """Resume paused trial ``trial_id`` from its checkpoint, up to ``resource``."""

    trial_id: int
    resource: float | None = None


Suggestion = StartTrial | ResumeTrial


class Scheduler(ABC):
    """Base class: run every trial to completion unless a subclass decides otherwise.

    Subclasses override the hooks they need; the defaults forward finished results to the
    searcher so that model-based searchers learn from every trial.
    """

    searcher: "Searcher"
    metric: str
    mode: str
    #: What is optimized and which of two values is better; set by :meth:`setup`.
    objective: Objective
    #: Config key under which a trial is told the resource it may run to (e.g.
    #: ``"max_epochs"``), None for no such key. Multi-fidelity schedulers take it as
    #: ``max_resource_attr=``; the trial also gets it from :func:`rung.resource_limit`.
    max_resource_attr: str | None = None

    def setup(self, searcher: "Searcher", metric: str, mode: str) -> None:
        """Bind the scheduler to the tuner's searcher and objective; called once by the tuner."""
        attr = self.max_resource_attr
        space_names = getattr(getattr(searcher, "space", None), "names", ())
        if attr is not None and attr in space_names:
            raise ValueError(
                f"max_resource_attr={attr!r} is also a parameter of the space; the scheduler sets "
                f"config[{attr!r}] itself (the resource a trial may run to), so remove it from the "
                "space or pick another max_resource_attr"
            )
        self.searcher = searcher
        self.objective = Objective(metric, mode)
        self.metric = metric
        self.mode = mode
        resource_attr = getattr(self, "resource_attr", None)
        if resource_attr is not None:
            levels = getattr(self, "levels", None)
            searcher.set_fidelity(
                resource_attr, levels=None if levels is None else list(levels),
                max_resource=getattr(self, "max_resource", None),
            )

    def launch_config(self, config: Mapping[str, Any], resource: float | None) -> dict[str, Any]:
        """The config a trial is launched with: ``config`` plus, with ``max_resource_attr``
        set and a capped launch, ``config[max_resource_attr] = resource`` (an int when whole).

        The searcher's config (what is stored and modelled) stays without it; a resumed
        trial is launched with its new cap.
        """
        launched = dict(config)
        if self.max_resource_attr is not None and resource is not None:
            launched[self.max_resource_attr] = whole(resource)
        return launched

    def suggest(self, allow_new: bool = True) -> Suggestion | None:
        """What to run on a free worker. ``allow_new`` is False once the trial budget is spent."""
        if not allow_new:
            return None
        config = self.searcher.suggest()
        return None if config is None else StartTrial(config)

    def on_start(self, trial: "Trial") -> None:
        """A trial (new or resumed) was handed to a worker."""

    def on_report(self, trial: "Trial", metrics: Mapping[str, Any]) -> Decision:
        """An accepted report; ``metrics`` holds a finite value of ``self.metric``."""
        self.searcher.observe_partial(trial.config, metrics)
        return CONTINUE

    def on_complete(self, trial: "Trial", metrics: Mapping[str, Any]) -> None:
        """The trial ran to its end; ``metrics`` is its final result."""
        self.searcher.observe(trial.config, metrics)

    def on_stop(self, trial: "Trial") -> None:
        """The trial ended early (by this scheduler or a budget); it will not run again."""
        if trial.metric_value is not None:
            self.searcher.observe(trial.config, trial.last_metrics)
        else:
            self.searcher.on_failed(trial.config)

    def on_pause(self, trial: "Trial") -> None:
        """The trial left its worker after a PAUSE decision and may be resumed."""

    def on_fail(self, trial: "Trial") -> None:
        """The trial failed; it will not run again."""
        self.searcher.on_failed(trial.config)

    def abandon(self, trial_id: int, reason: str) -> None:
        """Declare that paused trial ``trial_id`` will never be resumed, and why.

        Subclasses call this (e.g. successive halving for trials not promoted); the tuner
        then records the trial as stopped with ``reason``.
        """
        self.__dict__.setdefault("_abandoned", []).append((trial_id, reason))

    def take_abandoned(self) -> list[tuple[int, str]]:
        """Abandoned trials declared since the last call (the tuner drains this)."""
        return self.__dict__.pop("_abandoned", [])


def whole(value: float) -> float | int:
    """``value`` as an int when it is a whole number (5.0 -> 5), so ``range(limit)`` works."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def check_max_resource_attr(value: Any) -> str | None:
    """None or a non-empty string (the config key trials read their resource limit from)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"max_resource_attr must be a non-empty string or None, got max_resource_attr={value!r}")
    return value
