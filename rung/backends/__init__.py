"""Backends run trials: in-process, in local worker processes, on a simulator, and more to come.

The contract every backend follows is written in :mod:`rung.backends._base` (the
:class:`Backend` docstrings); :mod:`rung.testing.backends` checks it for any backend.
"""

from __future__ import annotations

from ._base import Backend, OutcomeKind, TrialEvents, TrialLaunch, TrialOutcome
from ._gpus import GpuPlacement, detect_gpus
from ._inprocess import InProcessBackend
from ._process import ProcessBackend, WorkerStartError
from ._ray import RayBackend
from ._ray_files import SharedDirectory, TrialFiles, register_trial_files
from ._registry import ENTRY_POINT_GROUP, available_backends, make_backend, register_backend, worker_limit
from ._resources import TrialResources
from ._simulated import Simulated, SimulatedObjective, SimulatedProblem, simulated
from ._simulator import SimulatorBackend

__all__ = [
    "ENTRY_POINT_GROUP",
    "Backend",
    "GpuPlacement",
    "InProcessBackend",
    "OutcomeKind",
    "ProcessBackend",
    "RayBackend",
    "SharedDirectory",
    "Simulated",
    "SimulatedObjective",
    "SimulatedProblem",
    "SimulatorBackend",
    "TrialEvents",
    "TrialFiles",
    "TrialLaunch",
    "TrialOutcome",
    "TrialResources",
    "WorkerStartError",
    "available_backends",
    "detect_gpus",
    "make_backend",
    "register_backend",
    "register_trial_files",
    "simulated",
    "worker_limit",
]

register_backend("process", ProcessBackend)
register_backend("inprocess", InProcessBackend)
register_backend("simulator", SimulatorBackend)
register_backend("ray", RayBackend)
