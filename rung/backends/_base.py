"""The backend contract: where trials run.

A backend starts trials, carries each report to the tuner and the tuner's answer back to
the trial, and tells the tuner how each trial ended. The tuner never blocks on a single
trial: it calls :meth:`Backend.wait`, during which the backend delivers whatever events
arrive through the :class:`TrialEvents` callbacks.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol


class OutcomeKind(str, enum.Enum):
    RETURNED = "returned"  # the objective returned (its value may be None)
    STOPPED = "stopped"  # the objective let TrialStopped/TrialPaused propagate
    FAILED = "failed"  # it raised, exited, crashed, or its result could not be sent
    KILLED = "killed"  # the backend terminated it because the tuner asked


@dataclass
class TrialOutcome:
    kind: OutcomeKind
    value: Any = None
    error: str | None = None
    traceback: str | None = None


@dataclass(frozen=True)
class TrialLaunch:
    """What a backend needs to run one trial (a new one or a resumed one)."""

    trial_id: int
    config: dict[str, Any]
    trial_dir: Path
    resource: float | None = None


class TrialEvents(Protocol):
    """The tuner's side of the conversation."""

    def on_report(self, trial_id: int, metrics: dict[str, Any]) -> str:
        """Return the action for the trial: "continue", "pause" or "stop"."""

    def on_end(self, trial_id: int, outcome: TrialOutcome) -> None:
        """The trial left its worker; the worker is free again."""

    def commit(self) -> None:
        """Make accepted reports durable; called before any action reaches a trial."""


class Backend(ABC):
    """Runs trials. Subclasses: in-process, local worker processes, (later) scripts, Ray."""

    name: str = "backend"
    #: The tuner's clock while this backend runs trials: None for real time
    #: (``time.perf_counter``); a simulator supplies its virtual clock here, so budgets,
    #: timeouts, timings and the trajectory all run on simulated time.
    clock: Callable[[], float] | None = None

    @abstractmethod
    def start(self, objective: Callable[[dict], Any], events: TrialEvents, n_workers: int) -> None:
        """Prepare ``n_workers`` slots; raise a clear error if the objective cannot run there."""

    @abstractmethod
    def free_slots(self) -> int:
        """How many trials could be launched right now."""

    @abstractmethod
    def launch(self, launch: TrialLaunch) -> None:
        """Start a trial on a free slot; it runs until it ends or is terminated."""

    @abstractmethod
    def wait(self, timeout: float | None) -> None:
        """Deliver events for up to ``timeout`` seconds (returns early once something happened)."""

    @abstractmethod
    def terminate(self, trial_id: int) -> None:
        """Kill a running trial; its ``on_end`` arrives later with ``OutcomeKind.KILLED``."""

    @abstractmethod
    def shutdown(self) -> None:
        """Stop every worker and release resources. Safe to call twice."""

    @property
    def max_workers(self) -> int | None:
        """Upper bound on parallel trials, or None when only the machine limits it."""
        return None

    def default_workers(self) -> int:
        return 1


def describe_exit(returncode: int) -> str:
    """Turn a process return code into words: 'exited with code 3', 'killed by SIGSEGV'."""
    import signal

    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exited with code {returncode}"
