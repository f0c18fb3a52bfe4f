"""Conformance checks for any :class:`rung.schedulers.Scheduler`.

A scheduler is pure decision logic, so the checks drive it without a tuner or a backend:
a small deterministic stand-in for the tuner's loop starts trials on ``n_workers``
simulated workers, lets them report a learning curve (``loss = x + 1/epoch`` for
``epoch = 1 .. max_resource``, with some trials failing), and calls the scheduler's hooks
in the order the tuner does: ``suggest`` -> ``on_start`` -> ``on_report``* -> exactly one
of ``on_complete`` / ``on_stop`` / ``on_pause`` / ``on_fail`` per launch, draining
``take_abandoned`` as the tuner does.

Use it on your own scheduler::

    from rung.testing.schedulers import check_scheduler
    check_scheduler(lambda: MyScheduler("epoch", max_resource=9))

or, one pytest test per check::

    @pytest.mark.parametrize("name, check", SCHEDULER_CHECKS, ids=[n for n, _ in SCHEDULER_CHECKS])
    def test_my_scheduler(name, check):
        check(lambda: MyScheduler("epoch", max_resource=9))

The factory must return a fresh scheduler each call, judging the resource attribute
``resource_attr`` (default ``"epoch"``) whose values run from 1 to ``max_resource``.
Each check raises AssertionError naming itself and what went wrong.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from ..schedulers import Action, Decision, ResumeTrial, Scheduler, StartTrial
from ..searchers import Random, Searcher
from ..space import uniform
from ..trial._record import Trial, TrialStatus

__all__ = ["SCHEDULER_CHECKS", "SchedulerFactory", "check_scheduler", "run_experiment"]

SchedulerFactory = Callable[[], Scheduler]
DETAIL_KEYS = frozenset({"rung", "value", "threshold", "compared_with"})
METRIC = "loss"
SEED = 7


class _Told(Random):
    """A seeded random searcher that counts the final results it is told per config."""

    def __init__(self, mode: str, seed: int) -> None:
        super().__init__({"x": uniform(0.0, 1.0)}, metric=METRIC, mode=mode, seed=seed)
        self.finals: dict[float, int] = {}

    def observe(self, config: Mapping[str, Any], metrics: Any) -> None:
        self.finals[config["x"]] = self.finals.get(config["x"], 0) + 1
        super().observe(config, metrics)

    def on_failed(self, config: Mapping[str, Any]) -> None:
        self.finals[config["x"]] = self.finals.get(config["x"], 0) + 1
        super().on_failed(config)


@dataclass
class Experiment:
    """What :func:`run_experiment` saw: every call made and every answer given, in order."""

    trace: list[tuple[Any, ...]] = field(default_factory=list)  # comparable summary
    calls: list[tuple[str, tuple[Any, ...], Any]] = field(default_factory=list)  # (hook, args, answer)
    trials: dict[int, Trial] = field(default_factory=dict)
    searcher: _Told | None = None


def _fail(check: str, message: str) -> AssertionError:
    return AssertionError(f"scheduler check {check!r} failed: {message}")


def _summary(decision: Decision) -> tuple[Any, ...]:
    return (decision.action.value, decision.reason, tuple(sorted((k, repr(v)) for k, v in decision.details.items())))


def run_experiment(
    scheduler: Scheduler,
    *,
    mode: str = "min",
    n_workers: int = 1,
    max_trials: int = 12,
    max_resource: int = 9,
    resource_attr: str = "epoch",
    fail_every: int = 5,
    seed: int = SEED,
    check: str = "run",
) -> Experiment:
    """Drive ``scheduler`` as the tuner would and check the contract on the way.

    Trial ``i`` with ``i % fail_every == fail_every - 1`` fails at its second report; the
    others report ``epoch = 1 .. max_resource`` (continuing from their last epoch after a
    pause) with ``loss = x + 1/epoch`` (negated in max mode) and then complete.
    """
    searcher = _Told(mode, seed)
    scheduler.setup(searcher, METRIC, mode)
    sign = 1.0 if mode == "min" else -1.0
    seen = Experiment(searcher=searcher)
    trials, done, last = seen.trials, {}, {}
    running: list[int] = []
    abandoned: set[int] = set()
    launches = 0
    bound = max_trials * (max_resource + 2) * 4 + 100

    def call(hook: str, *args: Any) -> Any:
        answer = getattr(scheduler, hook)(*args)
        seen.calls.append((hook, copy.deepcopy(args), copy.deepcopy(answer)))
        return answer

    def end(trial: Trial, status: TrialStatus, hook: str, *args: Any) -> None:
        trial.status = status
        running.remove(trial.trial_id)
        call(hook, trial, *args)
        seen.trace.append((hook, trial.trial_id))

    def drain() -> None:
        for trial_id, reason in call("take_abandoned"):
            trial = trials.get(trial_id)
            if trial is None or trial.status in (TrialStatus.COMPLETED, TrialStatus.FAILED):
                raise _fail(check, f"abandoned trial {trial_id}, which is {None if trial is None else trial.status.value}")
            if not isinstance(reason, str) or not reason:
                raise _fail(check, f"abandoned trial {trial_id} without a reason")
            abandoned.add(trial_id)
            if trial.status is TrialStatus.PAUSED:
                trial.status = TrialStatus.STOPPED
            seen.trace.append(("abandoned", trial_id, reason))

    for _ in range(bound):
        drain()
        while len(running) < n_workers:
            allow_new = len(trials) < max_trials
            suggestion = call("suggest", allow_new)
            seen.trace.append(("suggest", allow_new, suggestion))
            if suggestion is None:
                break
            if isinstance(suggestion, StartTrial):
                if not allow_new:
                    raise _fail(check, f"suggest(allow_new=False) started a new trial: {suggestion!r}")
                if not isinstance(suggestion.config, dict):
                    raise _fail(check, f"StartTrial.config must be a dict, got {suggestion.config!r}")
                trial = Trial(trial_id=len(trials), config=suggestion.config)
                trials[trial.trial_id] = trial
                done[trial.trial_id] = 0
            elif isinstance(suggestion, ResumeTrial):
                trial = trials.get(suggestion.trial_id)  # type: ignore[assignment]
                if trial is None or trial.status is not TrialStatus.PAUSED or suggestion.trial_id in abandoned:
                    state = "unknown" if trial is None else ("abandoned" if suggestion.trial_id in abandoned else trial.status.value)
                    raise _fail(check, f"resumed trial {suggestion.trial_id}, which is {state}; only paused trials resume")
            else:
                raise _fail(check, f"suggest() returned {suggestion!r}; expected StartTrial, ResumeTrial or None")
            resource = suggestion.resource
            if resource is not None and not (isinstance(resource, (int, float)) and math.isfinite(resource) and resource > 0):
                raise _fail(check, f"suggestion resource must be None or a finite number > 0, got {resource!r}")
            trial.status = TrialStatus.RUNNING
            trial.resource = resource
            trial.n_starts += 1
            launches += 1
            running.append(trial.trial_id)
            call("on_start", trial)
        if not running:
            break
        trial = trials[running[launches % len(running)]]
        epoch = done[trial.trial_id] + 1
        if trial.trial_id % fail_every == fail_every - 1 and epoch == 2:
            trial.error = "simulated failure"
            end(trial, TrialStatus.FAILED, "on_fail")
            continue
        value = sign * (trial.config["x"] + 1.0 / epoch)
        metrics = {METRIC: value, resource_attr: epoch}
        done[trial.trial_id] = epoch
        trial.n_reports += 1
        trial.last_metrics = dict(metrics)
        trial.metric_value = value
        decision = call("on_report", trial, metrics)
        if not isinstance(decision, Decision) or not isinstance(decision.action, Action):
            raise _fail(check, f"on_report() must return a Decision, got {decision!r}")
        seen.trace.append(("report", trial.trial_id, epoch, _summary(decision)))
        if decision.action is not Action.CONTINUE:
            if not isinstance(decision.reason, str) or not decision.reason:
                raise _fail(check, f"a {decision.action.value} decision needs a reason: {decision!r}")
            missing = DETAIL_KEYS - set(decision.details)
            if missing:
                raise _fail(check, f"a {decision.action.value} decision must carry details {sorted(DETAIL_KEYS)}; "
                                   f"missing {sorted(missing)} in {decision!r}")
            last[trial.trial_id] = decision
            trial.end_reason = decision.reason
            if decision.action is Action.PAUSE:
                end(trial, TrialStatus.PAUSED, "on_pause")
            elif decision.completes:  # it reached max_resource: the tuner records it as completed
                end(trial, TrialStatus.COMPLETED, "on_complete", dict(trial.last_metrics))
            else:
                end(trial, TrialStatus.STOPPED, "on_stop")
        elif epoch >= max_resource:
            end(trial, TrialStatus.COMPLETED, "on_complete", dict(trial.last_metrics))
    else:
        raise _fail(check, f"the experiment did not end within {bound} events (suggest() never returned None "
                           "with nothing running)")
    return seen


# -- the checks ----------------------------------------------------------------------------
def check_decisions_and_suggestions(factory: SchedulerFactory, *, max_resource: int = 9, resource_attr: str = "epoch") -> None:
    """Decisions are Decisions; PAUSE/STOP carry a reason and details; suggestions are valid;
    only paused trials resume; no new trial once allow_new is False; the run ends; no trial is
    left running."""
    for mode in ("min", "max"):
        for n_workers in (1, 3):
            seen = run_experiment(factory(), mode=mode, n_workers=n_workers, max_resource=max_resource,
                                  resource_attr=resource_attr, check="decisions_and_suggestions")
            left = [t.trial_id for t in seen.trials.values() if t.status is TrialStatus.RUNNING]
            if left:
                raise _fail("decisions_and_suggestions", f"trials {left} never ended")
            if not seen.trials:
                raise _fail("decisions_and_suggestions", "no trial was started")


def check_searcher_told_once(factory: SchedulerFactory, *, max_resource: int = 9, resource_attr: str = "epoch") -> None:
    """The searcher hears each trial's final result (observe or on_failed) at most once."""
    for n_workers in (1, 3):
        seen = run_experiment(factory(), n_workers=n_workers, max_resource=max_resource, resource_attr=resource_attr,
                              check="searcher_told_once")
        assert seen.searcher is not None
        twice = {x: n for x, n in seen.searcher.finals.items() if n > 1}
        if twice:
            raise _fail("searcher_told_once", f"the searcher was told these configs' results more than once: {twice}")


def check_deterministic(factory: SchedulerFactory, *, max_resource: int = 9, resource_attr: str = "epoch") -> None:
    """Two fresh schedulers with the same seeded searcher make the same decisions."""
    first = run_experiment(factory(), n_workers=2, max_resource=max_resource, resource_attr=resource_attr,
                           check="deterministic")
    second = run_experiment(factory(), n_workers=2, max_resource=max_resource, resource_attr=resource_attr,
                            check="deterministic")
    _same("deterministic", first.trace, second.trace)


def check_setup_starts_over(factory: SchedulerFactory, *, max_resource: int = 9, resource_attr: str = "epoch") -> None:
    """``setup`` forgets an earlier run: a used scheduler decides as a fresh one does."""
    used = factory()
    run_experiment(used, n_workers=2, max_resource=max_resource, resource_attr=resource_attr, seed=SEED + 1,
                   check="setup_starts_over")
    again = run_experiment(used, n_workers=2, max_resource=max_resource, resource_attr=resource_attr,
                           check="setup_starts_over")
    fresh = run_experiment(factory(), n_workers=2, max_resource=max_resource, resource_attr=resource_attr,
                           check="setup_starts_over")
    _same("setup_starts_over", fresh.trace, again.trace)


def check_replay(factory: SchedulerFactory, *, max_resource: int = 9, resource_attr: str = "epoch") -> None:
    """The same calls replayed on a fresh scheduler get the same answers (how a resume rebuilds it)."""
    seen = run_experiment(factory(), n_workers=3, max_resource=max_resource, resource_attr=resource_attr,
                          check="replay")
    scheduler = factory()
    scheduler.setup(_Told("min", SEED), METRIC, "min")
    live: dict[int, Trial] = {}
    for index, (hook, args, answer) in enumerate(seen.calls):
        replayed_args = []
        for arg in args:
            if isinstance(arg, Trial):
                # One object per trial, as the tuner keeps: updated to the state it had then.
                trial = live.setdefault(arg.trial_id, copy.deepcopy(arg))
                trial.__dict__.update(copy.deepcopy(arg.__dict__))
                arg = trial
            replayed_args.append(arg)
        replayed = getattr(scheduler, hook)(*replayed_args)
        if replayed != answer:
            raise _fail("replay", f"call {index} {hook}{tuple(replayed_args)!r} answered {replayed!r} on replay, "
                                  f"{answer!r} the first time")


def check_mode_symmetry(factory: SchedulerFactory, *, max_resource: int = 9, resource_attr: str = "epoch") -> None:
    """Maximizing ``-loss`` gives the same actions as minimizing ``loss``: "better" follows the mode."""
    low = run_experiment(factory(), mode="min", n_workers=2, max_resource=max_resource, resource_attr=resource_attr,
                         check="mode_symmetry")
    high = run_experiment(factory(), mode="max", n_workers=2, max_resource=max_resource, resource_attr=resource_attr,
                          check="mode_symmetry")
    _same("mode_symmetry", _actions(low.trace), _actions(high.trace))


def _actions(trace: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [entry[:3] + (entry[3][0],) if entry[0] == "report" else entry[:2] for entry in trace]


def _same(check: str, first: list[Any], second: list[Any]) -> None:
    for index, (a, b) in enumerate(zip(first, second)):
        if a != b:
            raise _fail(check, f"the runs differ at event {index}: {a!r} vs {b!r}")
    if len(first) != len(second):
        raise _fail(check, f"one run has {len(first)} events, the other {len(second)}")


#: Every check as (name, check); each takes the factory and ``max_resource`` / ``resource_attr``.
SCHEDULER_CHECKS: list[tuple[str, Callable[..., None]]] = [
    ("decisions_and_suggestions", check_decisions_and_suggestions),
    ("searcher_told_once", check_searcher_told_once),
    ("deterministic", check_deterministic),
    ("setup_starts_over", check_setup_starts_over),
    ("replay", check_replay),
    ("mode_symmetry", check_mode_symmetry),
]


def check_scheduler(
    factory: SchedulerFactory, *, max_resource: int = 9, resource_attr: str = "epoch", skip: Iterable[str] = ()
) -> None:
    """Run every check of :data:`SCHEDULER_CHECKS` but those named in ``skip``.

    ``skip`` is for schedulers whose rule is deliberately not symmetric, e.g. a relative
    slack (``Bandit(slack_factor=...)``) is not the same rule on negated values.
    """
    skipped = set(skip)
    unknown = skipped - {name for name, _ in SCHEDULER_CHECKS}
    if unknown:
        raise ValueError(f"unknown scheduler checks {sorted(unknown)}; known: {[n for n, _ in SCHEDULER_CHECKS]}")
    for name, check in SCHEDULER_CHECKS:
        if name not in skipped:
            check(factory, max_resource=max_resource, resource_attr=resource_attr)
