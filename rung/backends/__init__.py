"""Backends run trials: in-process, in local worker processes, and more to come."""

from __future__ import annotations

from ._base import Backend, OutcomeKind, TrialEvents, TrialLaunch, TrialOutcome
from ._inprocess import InProcessBackend
from ._process import ProcessBackend, WorkerStartError
from ._simulated import Simulated, SimulatedObjective, SimulatedProblem, simulated
from ._simulator import SimulatorBackend

__all__ = [
    "Backend",
    "InProcessBackend",
    "OutcomeKind",
    "ProcessBackend",
    "Simulated",
    "SimulatedObjective",
    "SimulatedProblem",
    "SimulatorBackend",
    "TrialEvents",
    "TrialLaunch",
    "TrialOutcome",
    "WorkerStartError",
    "make_backend",
    "simulated",
]

_BY_NAME = {"process": ProcessBackend, "inprocess": InProcessBackend, "simulator": SimulatorBackend}


def make_backend(backend: "str | Backend") -> Backend:
    """Resolve the tuner's ``backend=`` argument."""
    if isinstance(backend, Backend):
        return backend
    if isinstance(backend, str):
        try:
            return _BY_NAME[backend.lower()]()
        except KeyError:
            raise ValueError(f"backend={backend!r} is not known; choose one of {sorted(_BY_NAME)}") from None
    raise TypeError(f"backend must be a name or a rung.backends.Backend instance, got {backend!r}")
