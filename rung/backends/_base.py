"""The backend contract: where trials run, written down as a protocol.

A backend starts trials, carries each report to the tuner and the tuner's answer back to
the trial, and tells the tuner how each trial ended. The tuner never blocks on a single
trial: it calls :meth:`Backend.wait`, during which the backend delivers whatever events
arrive through the :class:`TrialEvents` callbacks.

The conversation, in order:

1. ``check_resources(resources, n_workers)`` and ``check_timeout(trial_timeout)`` once,
   before anything runs: refuse (with a ValueError saying why) what the backend cannot give
   every trial.
2. ``start(objective, events, n_workers)`` once: prepare ``n_workers`` slots.
3. Any number of ``launch(TrialLaunch(...))`` (only while ``free_slots() > 0``; the
   tuner builds each launch's directory with :meth:`Backend.trial_dir`), ``wait(timeout)``
   and ``terminate(trial_id)`` calls, in any order.
4. ``shutdown()``, possibly twice, possibly without ``start``.

Events reach the tuner only from inside ``wait``, ``launch`` or ``terminate`` (never from
another thread while the tuner runs its own code). For each launched trial:

* zero or more ``events.on_report(trial_id, metrics)``, in the order the trial made them;
  each returns the action ("continue", "pause", "stop");
* ``events.commit()`` after one or more reports and **before any of their answers reaches
  the trial**: the tuner makes the reports durable there, so a crash never leaves a trial
  acting on a decision that was not recorded. A backend may batch several reports under
  one commit;
* exactly one ``events.on_end(trial_id, outcome)``, after the last report; after it the
  slot is free and no further event for that launch may arrive. A trial launched again
  (resumed after a pause) is a new launch with the same ``trial_id``.

In the trial, "continue" makes ``rung.report`` return, "stop" makes it raise
:class:`~rung.TrialStopped` and "pause" :class:`~rung.TrialPaused`. While the trial runs,
``rung.trial._session.current_session()`` is a session carrying the launch's ``trial_id``,
``trial_dir`` and ``resource``.

A backend must never: answer a report before ``commit()``; deliver an event for a trial
after its ``on_end``, or two ``on_end`` for one launch; run more trials at once than
``n_workers``; let an exception of the objective escape into the tuner (it is a FAILED
outcome with the traceback); start work, processes or device probes when it is merely
constructed or imported (that happens in ``check_resources`` / ``start`` at the earliest).

:mod:`rung.testing.backends` checks all of this for any backend.
"""

from __future__ import annotations

import enum
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Protocol

from ._gpus import check_share, visible_gpus
from ._resources import TrialResources


#: The exit code of a trial process that lost its socket to the tuner (the tuner is gone,
#: or the trial closed file descriptors it had not opened); the tuner explains it.
EXIT_CHANNEL_LOST = 75


class OutcomeKind(str, enum.Enum):
    RETURNED = "returned"  # the objective returned (its value may be None)
    STOPPED = "stopped"  # the objective let TrialStopped/TrialPaused propagate
    FAILED = "failed"  # it raised, exited, crashed, or its result could not be sent
    KILLED = "killed"  # the backend terminated it because the tuner asked


@dataclass
class TrialOutcome:
    """How a trial left its worker: the kind, the returned value, or the error and traceback."""

    kind: OutcomeKind
    value: Any = None
    error: str | None = None
    traceback: str | None = None


@dataclass(frozen=True)
class TrialLaunch:
    """What a backend needs to run one trial (a new one or a resumed one).

    ``trial_dir`` is where the trial's logs and ``checkpoint/`` live (see
    :meth:`Backend.trial_dir`); ``resource`` caps what the trial may spend on the
    scheduler's resource attribute (None: no cap); ``resources`` is what it may use of the
    machine or cluster.
    """

    trial_id: int
    config: dict[str, Any]
    trial_dir: Path
    resource: float | None = None
    resources: TrialResources = field(default_factory=TrialResources)


class TrialEvents(Protocol):
    """The tuner's side of the conversation (see the module docstring for the order)."""

    def on_report(self, trial_id: int, metrics: dict[str, Any]) -> str:
        """Return the action for the trial: "continue", "pause" or "stop".

        The answer must not reach the trial before :meth:`commit` has been called.
        """

    def on_end(self, trial_id: int, outcome: TrialOutcome) -> None:
        """The trial left its worker; the worker is free again. Exactly once per launch."""

    def commit(self) -> None:
        """Make accepted reports durable; called before any action reaches a trial."""


class Backend(ABC):
    """Runs trials. Subclasses: in-process, local worker processes, the simulator, (later) Ray.

    Third-party backends subclass this, pass :func:`rung.testing.backends.check_backend`,
    and join by name with :func:`rung.backends.register_backend` or the ``rung.backends``
    entry point group.
    """

    name: str = "backend"
    #: The most trials any instance of this class can run at once (None: no fixed limit).
    #: A class attribute, so that a spec can be checked without building a backend.
    worker_limit: ClassVar[int | None] = None
    #: The tuner's clock while this backend runs trials: None for real time
    #: (``time.perf_counter``); a simulator supplies its virtual clock here, so budgets,
    #: timeouts, timings and the trajectory all run on simulated time.
    clock: Callable[[], float] | None = None

    def trial_dir(self, experiment_dir: Path, trial_id: int) -> Path:
        """Where trial ``trial_id`` keeps its logs and its ``checkpoint/`` directory.

        The backend chooses, since only it knows what its trials can reach: the default is
        ``experiment_dir / f"trial_{trial_id}"`` on this machine; a cluster backend may put
        it on shared storage. The same trial id always gets the same directory (a resumed
        trial finds its checkpoint there). Nothing is created here.
        """
        return Path(experiment_dir) / f"trial_{trial_id}"

    def check_resources(self, resources: TrialResources, n_workers: int) -> None:
        """Raise a ValueError naming the problem if some trial could not get ``resources``.

        Called once by the tuner before :meth:`start`. The default refuses, for a backend
        that runs trials on this machine: more CPUs per trial than the machine has, GPUs
        when none is visible (or more than are visible), and custom resources (a local
        machine has none). ``n_workers`` trials may share the machine's CPUs.
        """
        check_cpus(resources)
        if resources.gpus > 0:
            check_share(resources.gpus)
            gpus = visible_gpus()
            if not gpus:
                raise ValueError(
                    f"resources: each trial asks for gpus={resources.gpus:g} but no GPU is visible "
                    "(CUDA_VISIBLE_DEVICES is empty or nvidia-smi lists none)"
                )
            if resources.gpus > len(gpus):
                raise ValueError(
                    f"resources: each trial asks for gpus={resources.gpus:g} but {len(gpus)} are visible"
                )
        check_no_custom(self.name, resources)

    def check_timeout(self, trial_timeout: float | None) -> None:
        """Raise a ValueError if this backend cannot end a trial at ``trial_timeout`` seconds.

        Called once by the tuner before :meth:`start`, like :meth:`check_resources`. The
        default accepts any timeout (the backend kills the trial through :meth:`terminate`);
        a backend that cannot interrupt running trial code refuses a timeout here instead of
        letting a trial that never reports hang the run.
        """

    @abstractmethod
    def start(self, objective: Callable[[dict], Any], events: TrialEvents, n_workers: int) -> None:
        """Prepare ``n_workers`` slots; raise a clear error if the objective cannot run there.

        ``events`` receives every report and end from now on. No trial runs yet.
        """

    @abstractmethod
    def free_slots(self) -> int:
        """How many trials could be launched right now (0 .. n_workers)."""

    @abstractmethod
    def launch(self, launch: TrialLaunch) -> None:
        """Start a trial on a free slot; it runs until it ends or is terminated.

        The trial sees ``launch.trial_dir``, ``launch.resource`` and ``launch.resources``
        through its session (and, for GPUs, its visible devices). A launch that cannot run
        (its objective raises at once) still ends with one ``on_end``, during a later
        ``wait`` at the latest.
        """

    @abstractmethod
    def wait(self, timeout: float | None) -> None:
        """Deliver events for up to ``timeout`` seconds (returns early once something happened).

        ``None`` waits until something happens. With nothing running it returns at once.
        """

    @abstractmethod
    def terminate(self, trial_id: int) -> None:
        """Kill a running (or queued) trial; its ``on_end`` comes with ``OutcomeKind.KILLED``.

        The ``on_end`` may be delivered during this call or a later ``wait``. A trial id
        that is not running is ignored.
        """

    def wind_down(self) -> None:
        """The experiment is ending: nothing will be launched again (the running trials are
        about to be terminated). A backend may stop replacing the workers it loses from now on,
        so that no trial's end waits for a worker nobody will use. The default does nothing."""

    @abstractmethod
    def shutdown(self) -> None:
        """Stop every worker and release resources. Safe to call twice, or before ``start``."""

    @property
    def max_workers(self) -> int | None:
        """Upper bound on parallel trials, or None when only the machine limits it."""
        return type(self).worker_limit

    def default_workers(self) -> int:
        """Parallel trials when the tuner is not told ``n_workers``."""
        return 1


def check_cpus(resources: TrialResources) -> None:
    """Refuse more CPUs per trial than this machine has."""
    machine = os.cpu_count() or 1
    if resources.cpus > machine:
        raise ValueError(f"resources: each trial asks for cpus={resources.cpus:g} but this machine has {machine}")


def check_no_custom(backend: str, resources: TrialResources) -> None:
    """Refuse custom resources on a backend that knows none."""
    if resources.custom:
        raise ValueError(f"resources: backend {backend!r} knows no custom resources, got {sorted(resources.custom)}")


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
