"""Conformance checks for any :class:`rung.backends.Backend`.

The checks drive a backend directly, as the tuner would, through a small recording
:class:`RecordingEvents` sink (no tuner, no store), and check the protocol written in
:mod:`rung.backends._base`: reports arrive in order and each trial ends exactly once; an
answer "stop" / "pause" raises TrialStopped / TrialPaused in the trial; ``commit()`` comes
before any answer reaches a trial; ``terminate`` ends a trial as KILLED; a raising
objective ends FAILED with its traceback; ``free_slots`` counts; the launch's ``resource``
reaches the trial's session and its ``trial_dir`` is used; ``shutdown`` is idempotent.

Use it on your own backend::

    from rung.testing.backends import check_backend
    check_backend(lambda: MyBackend(), n_workers=2)

or, one pytest test per check::

    @pytest.mark.parametrize("name, check", BACKEND_CHECKS, ids=[n for n, _ in BACKEND_CHECKS])
    def test_my_backend(name, check):
        check(lambda: MyBackend(), n_workers=2)

Trials run :func:`conformance_objective` (a picklable function that reads what to do
from its config). A backend whose trials are not Python functions passes ``kit=`` a
:class:`ObjectiveKit` with its own objective doing the same things, e.g.
:data:`SIMULATED_KIT` for :class:`~rung.backends.SimulatorBackend`.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..backends._base import Backend, OutcomeKind, TrialLaunch, TrialOutcome
from ..backends._resources import TrialResources
from ..trial._session import TrialPaused, TrialStopped, current_session, report

__all__ = [
    "BACKEND_CHECKS",
    "SIMULATED_KIT",
    "FUNCTION_KIT",
    "ObjectiveKit",
    "RecordingEvents",
    "check_backend",
    "conformance_objective",
]

BackendFactory = Callable[[], Backend]
SEEN_FILE = "conformance_seen.txt"
TIMEOUT = 60.0


# -- what trials run -----------------------------------------------------------------------
def conformance_objective(config: dict[str, Any]) -> Any:
    """The trial of every check; ``config["kind"]`` says what it does.

    ``"report"``: report ``step = 1 .. config["steps"]`` with ``loss = 1/step``, then return
    ``config["steps"]``; if a report raises, write the exception's class name to
    ``conformance_seen.txt`` in the trial directory and re-raise. ``"fail"``: raise
    ``RuntimeError("conformance failure")``. ``"endless"``: report every 20 ms for ever.
    ``"probe"``: report the session's ``resource`` (-1 for None) and write its trial
    directory's name to ``conformance_seen.txt`` there.
    """
    kind = config["kind"]
    if kind == "fail":
        raise RuntimeError("conformance failure")
    if kind == "endless":
        step = 0
        while True:
            step += 1
            report(step=step, loss=1.0)
            time.sleep(0.02)
    session = current_session()
    trial_dir = Path(session.trial_dir) if session is not None else None
    if kind == "probe":
        resource = getattr(session, "resource", None)
        if trial_dir is not None:
            trial_dir.mkdir(parents=True, exist_ok=True)
            (trial_dir / SEEN_FILE).write_text(trial_dir.name)
        report(step=1, loss=0.0, resource=-1.0 if resource is None else float(resource))
        return None
    try:
        for step in range(1, int(config["steps"]) + 1):
            report(step=step, loss=1.0 / step)
    except TrialStopped as exc:  # TrialPaused too
        if trial_dir is not None:
            trial_dir.mkdir(parents=True, exist_ok=True)
            (trial_dir / SEEN_FILE).write_text(type(exc).__name__)
        raise
    return config["steps"]


class SimulatedConformanceObjective:
    """:func:`conformance_objective` as simulated steps (one virtual second each)."""

    def steps(self, config: dict[str, Any], start_step: int) -> Iterator[tuple[float, dict[str, Any]]]:
        kind = config["kind"]
        if kind == "fail":
            raise RuntimeError("conformance failure")
        if kind == "endless":
            step = start_step
            while True:
                step += 1
                yield 1.0, {"step": step, "loss": 1.0}
        session = current_session()
        if kind == "probe":
            resource = getattr(session, "resource", None)
            if session is not None:
                trial_dir = Path(session.trial_dir)
                trial_dir.mkdir(parents=True, exist_ok=True)
                (trial_dir / SEEN_FILE).write_text(trial_dir.name)
            yield 1.0, {"step": 1, "loss": 0.0, "resource": -1.0 if resource is None else float(resource)}
            return
        for step in range(start_step + 1, int(config["steps"]) + 1):
            yield 1.0, {"step": step, "loss": 1.0 / step}


@dataclass(frozen=True)
class ObjectiveKit:
    """The objective a backend's trials run, and what its trials can show.

    ``raises_in_trial``: a "stop"/"pause" answer raises in trial code, which records it in
    ``conformance_seen.txt`` (False for simulated trials, which have no code to raise in).
    """

    objective: Any
    raises_in_trial: bool = True


FUNCTION_KIT = ObjectiveKit(conformance_objective)
SIMULATED_KIT = ObjectiveKit(SimulatedConformanceObjective(), raises_in_trial=False)


# -- the tuner's side ----------------------------------------------------------------------
@dataclass
class RecordingEvents:
    """A TrialEvents sink that records everything and notes every breach of the protocol.

    ``answer(trial_id, metrics)`` gives the action for each report (default "continue").
    """

    answer: Callable[[int, dict[str, Any]], str] = lambda trial_id, metrics: "continue"
    reports: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    ends: dict[int, list[TrialOutcome]] = field(default_factory=dict)
    launches: dict[int, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    commits: int = 0
    _answered_uncommitted: set[int] = field(default_factory=set)

    def launched(self, trial_id: int) -> None:
        self.launches[trial_id] = self.launches.get(trial_id, 0) + 1

    def on_report(self, trial_id: int, metrics: dict[str, Any]) -> str:
        if trial_id not in self.launches:
            self.problems.append(f"a report for trial {trial_id}, which was never launched")
        elif len(self.ends.get(trial_id, [])) >= self.launches[trial_id]:
            self.problems.append(f"a report for trial {trial_id} after its on_end: {metrics!r}")
        if trial_id in self._answered_uncommitted:
            self.problems.append(f"trial {trial_id} reported again before commit(): its answer reached it uncommitted")
        self.reports.append((trial_id, dict(metrics)))
        self._answered_uncommitted.add(trial_id)
        return self.answer(trial_id, metrics)

    def commit(self) -> None:
        self.commits += 1
        self._answered_uncommitted.clear()

    def on_end(self, trial_id: int, outcome: TrialOutcome) -> None:
        ends = self.ends.setdefault(trial_id, [])
        ends.append(outcome)
        if len(ends) > self.launches.get(trial_id, 0):
            self.problems.append(f"trial {trial_id} ended {len(ends)} times for {self.launches.get(trial_id, 0)} launch(es)")
        if outcome.kind in (OutcomeKind.RETURNED, OutcomeKind.STOPPED) and trial_id in self._answered_uncommitted:
            self.problems.append(f"trial {trial_id} ended ({outcome.kind.value}) on an answer given before commit()")

    def metrics_of(self, trial_id: int) -> list[dict[str, Any]]:
        return [metrics for tid, metrics in self.reports if tid == trial_id]

    def ended(self, trial_id: int) -> bool:
        return len(self.ends.get(trial_id, [])) >= self.launches.get(trial_id, 1)


def _fail(check: str, message: str) -> AssertionError:
    return AssertionError(f"backend check {check!r} failed: {message}")


class _Harness:
    """One backend started with one sink; launches trials as slots free up."""

    def __init__(self, check: str, factory: BackendFactory, kit: ObjectiveKit, n_workers: int, events: RecordingEvents):
        self.check = check
        self.backend = factory()
        self.events = events
        self.n_workers = n_workers
        self.root = Path(tempfile.mkdtemp(prefix="rung-backend-check-"))
        self.backend.check_resources(TrialResources(), n_workers)
        self.backend.start(kit.objective, events, n_workers)
        self._peak_check()

    def _peak_check(self) -> None:
        free = self.backend.free_slots()
        if not 0 <= free <= self.n_workers:
            raise _fail(self.check, f"free_slots() is {free} with n_workers={self.n_workers}")

    def launch(self, trial_id: int, config: dict[str, Any], resource: float | None = None) -> TrialLaunch:
        launch = TrialLaunch(trial_id, config, self.backend.trial_dir(self.root, trial_id), resource)
        self.events.launched(trial_id)
        self.backend.launch(launch)
        self._peak_check()
        return launch

    def run(self, pending: list[tuple[int, dict[str, Any]]], resource: float | None = None,
            until: Callable[[], bool] | None = None) -> None:
        """Launch ``pending`` trials as slots free up; wait until every one ended (or ``until``)."""
        queue = list(pending)
        ids = [trial_id for trial_id, _ in pending]
        deadline = time.monotonic() + TIMEOUT
        while True:
            while queue and self.backend.free_slots() > 0:
                trial_id, config = queue.pop(0)
                self.launch(trial_id, config, resource)
            if until is not None:
                if until():
                    return
            elif not queue and all(self.events.ended(t) for t in ids):
                return
            if time.monotonic() > deadline:
                raise _fail(self.check, f"trials {ids} did not all end within {TIMEOUT:g} s; ends: {self.events.ends}")
            self.backend.wait(0.05)
            self._peak_check()

    def close(self) -> None:
        self.backend.shutdown()
        self.backend.shutdown()  # twice: shutdown is idempotent
        if self.events.problems:
            raise _fail(self.check, "; ".join(self.events.problems))


def _workers(factory: BackendFactory, n_workers: int) -> int:
    limit = factory().max_workers
    return n_workers if limit is None else min(n_workers, limit)


# -- the checks ----------------------------------------------------------------------------
def check_reports_and_one_end(factory: BackendFactory, *, kit: ObjectiveKit = FUNCTION_KIT, n_workers: int = 2) -> None:
    """Every trial's reports arrive in order, each trial ends exactly once (RETURNED), commit
    precedes every answer, and all slots are free again at the end."""
    check = "reports_and_one_end"
    n = _workers(factory, n_workers)
    harness = _Harness(check, factory, kit, n, RecordingEvents())
    try:
        harness.run([(trial_id, {"kind": "report", "steps": 3}) for trial_id in range(n + 2)])
        for trial_id in range(n + 2):
            steps = [metrics["step"] for metrics in harness.events.metrics_of(trial_id)]
            if steps != [1, 2, 3]:
                raise _fail(check, f"trial {trial_id} reported steps {steps}, expected [1, 2, 3]")
            outcomes = harness.events.ends[trial_id]
            if len(outcomes) != 1 or outcomes[0].kind is not OutcomeKind.RETURNED:
                raise _fail(check, f"trial {trial_id} ended with {outcomes}, expected one RETURNED")
        if harness.events.commits == 0:
            raise _fail(check, "commit() was never called")
        if harness.backend.free_slots() != n:
            raise _fail(check, f"free_slots() is {harness.backend.free_slots()} after every trial ended, expected {n}")
    finally:
        harness.close()


def check_stop_and_pause(factory: BackendFactory, *, kit: ObjectiveKit = FUNCTION_KIT, n_workers: int = 2) -> None:
    """An answer "stop" / "pause" ends the trial as STOPPED with no further report; trial
    code sees TrialStopped / TrialPaused."""
    check = "stop_and_pause"
    answers = {0: "stop", 1: "pause"}

    def answer(trial_id: int, metrics: dict[str, Any]) -> str:
        return answers[trial_id] if metrics["step"] == 2 and trial_id in answers else "continue"

    harness = _Harness(check, factory, kit, _workers(factory, n_workers), RecordingEvents(answer))
    try:
        launches = {t: harness.backend.trial_dir(harness.root, t) for t in (0, 1, 2)}
        harness.run([(t, {"kind": "report", "steps": 4}) for t in (0, 1, 2)])
        expected = {0: (OutcomeKind.STOPPED, [1, 2], TrialStopped), 1: (OutcomeKind.STOPPED, [1, 2], TrialPaused),
                    2: (OutcomeKind.RETURNED, [1, 2, 3, 4], None)}
        for trial_id, (kind, steps, exception) in expected.items():
            seen = [metrics["step"] for metrics in harness.events.metrics_of(trial_id)]
            outcome = harness.events.ends[trial_id]
            if seen != steps or [o.kind for o in outcome] != [kind]:
                raise _fail(check, f"trial {trial_id}: steps {seen}, ends {outcome}; expected steps {steps}, one {kind.value}")
            if kit.raises_in_trial and exception is not None:
                path = launches[trial_id] / SEEN_FILE
                raised = path.read_text() if path.exists() else None
                if raised != exception.__name__:
                    raise _fail(check, f"trial {trial_id} saw {raised!r} from rung.report, expected {exception.__name__}")
    finally:
        harness.close()


def check_failure(factory: BackendFactory, *, kit: ObjectiveKit = FUNCTION_KIT, n_workers: int = 2) -> None:
    """A raising objective ends FAILED with the error and its traceback; the backend goes on."""
    check = "failure"
    harness = _Harness(check, factory, kit, _workers(factory, n_workers), RecordingEvents())
    try:
        harness.run([(0, {"kind": "fail"}), (1, {"kind": "report", "steps": 1})])
        (outcome,) = harness.events.ends[0]
        if outcome.kind is not OutcomeKind.FAILED or "conformance failure" not in (outcome.error or ""):
            raise _fail(check, f"a raising trial ended with {outcome}, expected FAILED naming the error")
        if "conformance failure" not in (outcome.traceback or "") or "Traceback" not in (outcome.traceback or ""):
            raise _fail(check, f"the failed trial's traceback is {outcome.traceback!r}")
        if [o.kind for o in harness.events.ends[1]] != [OutcomeKind.RETURNED]:
            raise _fail(check, f"the trial after the failure ended with {harness.events.ends[1]}")
    finally:
        harness.close()


def check_terminate(factory: BackendFactory, *, kit: ObjectiveKit = FUNCTION_KIT, n_workers: int = 2) -> None:
    """``terminate`` right after launch ends the trial as KILLED; a running trial terminated
    (then answered "stop", as the tuner does) ends once; terminating an ended trial is ignored."""
    check = "terminate"
    doomed: set[int] = set()

    def answer(trial_id: int, metrics: dict[str, Any]) -> str:
        doomed.add(trial_id)
        return "stop" if metrics["step"] > 1 else "continue"

    harness = _Harness(check, factory, kit, _workers(factory, n_workers), RecordingEvents(answer))
    try:
        harness.launch(0, {"kind": "endless"})
        harness.backend.terminate(0)
        harness.run([], until=lambda: harness.events.ended(0))
        if [o.kind for o in harness.events.ends[0]] != [OutcomeKind.KILLED]:
            raise _fail(check, f"a trial terminated right after launch ended with {harness.events.ends[0]}, expected KILLED")
        harness.launch(1, {"kind": "endless"})
        deadline = time.monotonic() + TIMEOUT
        while not harness.events.ended(1):
            if 1 in doomed:
                harness.backend.terminate(1)
            if time.monotonic() > deadline:
                raise _fail(check, "a terminated running trial did not end")
            harness.backend.wait(0.05)
        kinds = [o.kind for o in harness.events.ends[1]]
        if kinds not in ([OutcomeKind.KILLED], [OutcomeKind.STOPPED]):
            raise _fail(check, f"a terminated running trial ended with {harness.events.ends[1]}")
        harness.backend.terminate(1)  # ended already: ignored
        harness.backend.terminate(99)  # never launched: ignored
        harness.backend.wait(0.05)
        if len(harness.events.ends[1]) != 1:
            raise _fail(check, "terminating an ended trial ended it again")
        # A killed worker may need restarting before its slot is free again: wait for it.
        deadline = time.monotonic() + TIMEOUT
        while harness.backend.free_slots() != harness.n_workers and time.monotonic() < deadline:
            harness.backend.wait(0.05)
        if harness.backend.free_slots() != harness.n_workers:
            raise _fail(check, f"free_slots() is {harness.backend.free_slots()} after the kills, expected {harness.n_workers}")
    finally:
        harness.close()


def check_session(factory: BackendFactory, *, kit: ObjectiveKit = FUNCTION_KIT, n_workers: int = 2) -> None:
    """The launch's ``resource`` reaches the trial's session and its ``trial_dir`` is the one used."""
    check = "session"
    harness = _Harness(check, factory, kit, _workers(factory, n_workers), RecordingEvents())
    try:
        harness.run([(0, {"kind": "probe"})], resource=4.0)
        harness.run([(1, {"kind": "probe"})], resource=None)
        for trial_id, expected in ((0, 4.0), (1, -1.0)):
            (metrics,) = harness.events.metrics_of(trial_id)
            if metrics.get("resource") != expected:
                raise _fail(check, f"trial {trial_id} saw resource {metrics.get('resource')!r} in its session, "
                                   f"expected {expected!r} (-1 for None)")
            trial_dir = harness.backend.trial_dir(harness.root, trial_id)
            seen = trial_dir / SEEN_FILE
            if not seen.exists() or seen.read_text() != trial_dir.name:
                raise _fail(check, f"trial {trial_id} did not run in its trial_dir {trial_dir}")
    finally:
        harness.close()


def check_lifecycle(factory: BackendFactory, *, kit: ObjectiveKit = FUNCTION_KIT, n_workers: int = 2) -> None:
    """``shutdown`` before ``start`` and twice is safe; ``trial_dir`` is stable per trial id;
    default resources are accepted; a launch takes a slot and its end gives it back."""
    check = "lifecycle"
    unused = factory()
    unused.shutdown()
    unused.shutdown()
    root = Path(tempfile.mkdtemp(prefix="rung-backend-check-"))
    if unused.trial_dir(root, 3) != unused.trial_dir(root, 3) or unused.trial_dir(root, 3) == unused.trial_dir(root, 4):
        raise _fail(check, "trial_dir() must give one directory per trial id, the same every time")
    try:
        unused.check_resources(TrialResources(), 1)
    except ValueError as exc:
        raise _fail(check, f"check_resources() refused the default resources: {exc}") from None
    n = _workers(factory, n_workers)
    harness = _Harness(check, factory, kit, n, RecordingEvents())
    try:
        if harness.backend.free_slots() != n:
            raise _fail(check, f"free_slots() is {harness.backend.free_slots()} after start, expected {n}")
        harness.launch(0, {"kind": "report", "steps": 1})
        if harness.backend.free_slots() != n - 1:
            raise _fail(check, f"free_slots() is {harness.backend.free_slots()} with one trial launched, expected {n - 1}")
        harness.run([], until=lambda: harness.events.ended(0))
        if harness.backend.free_slots() != n:
            raise _fail(check, f"free_slots() is {harness.backend.free_slots()} after the trial ended, expected {n}")
    finally:
        harness.close()


#: Every check as (name, check); each takes the factory, ``kit=`` and ``n_workers=``.
BACKEND_CHECKS: list[tuple[str, Callable[..., None]]] = [
    ("reports_and_one_end", check_reports_and_one_end),
    ("stop_and_pause", check_stop_and_pause),
    ("failure", check_failure),
    ("terminate", check_terminate),
    ("session", check_session),
    ("lifecycle", check_lifecycle),
]


def check_backend(factory: BackendFactory, *, kit: ObjectiveKit = FUNCTION_KIT, n_workers: int = 2) -> None:
    """Run every check of :data:`BACKEND_CHECKS`; ``factory`` builds a fresh, unstarted backend."""
    for _name, check in BACKEND_CHECKS:
        check(factory, kit=kit, n_workers=n_workers)
