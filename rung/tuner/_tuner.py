"""The tuner: the event loop that ties searcher, scheduler, backend and records together.

One loop, whatever the backend: fill every free worker with what the scheduler suggests,
wait for events (reports, trial ends), pass each report to the scheduler and carry out its
decision, and stop at the first budget reached (max trials, max wall-clock, metric
threshold, max failures) or when the search has nothing left. Time spent in the searcher
and scheduler is measured apart from time spent in trials.
"""

from __future__ import annotations

import math
import numbers
import os
import secrets
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from ._progress import ProgressView, QuietProgress, RichProgress
from ._replay import replay
from ..results._result import TrajectoryPoint, TuningResult
from ..trial._record import Report, Trial, TrialStatus
from ..backends import Backend, OutcomeKind, TrialLaunch, TrialOutcome, make_backend
from ..schedulers import Action, Decision, ResumeTrial, Scheduler, StartTrial, make_scheduler
from ..searchers import Searcher, make_searcher
from ..searchers._base import check_metric, check_mode
from ._warm_start import warm_start
from ..space import Space
from ..storage import ExperimentExists, Recorder, Storage, StorageError, rung_home

STOP_REASONS = (
    "max_trials", "max_wallclock", "metric_threshold", "search_exhausted", "max_failures", "interrupted",
    "stop_requested",
)
STOP_POLL_INTERVAL = 1.0


def _positive(name: str, value: Any, kind: type = float, allow_none: bool = True) -> Any:
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind is int:
        ok = ok and float(value).is_integer()
    if not ok or not value > 0 or (isinstance(value, float) and not math.isfinite(value)):
        expected = "a positive integer" if kind is int else "a positive number"
        raise ValueError(f"{name} must be {expected}, got {name}={value!r}")
    return kind(value)


class Tuner:
    """Find the config of ``space`` that optimizes ``metric`` of ``objective``.

    Parameters
    ----------
    objective:
        ``objective(config) -> None | float | dict``. It may call ``rung.report(**metrics)``
        once per step (e.g. per epoch) and/or return its final metric.
    space:
        Dict (or :class:`rung.space.Space`) of parameter name to domain or constant.
    metric, mode:
        The metric to optimize and ``"min"`` or ``"max"``.
    searcher:
        ``"auto"`` (default: GP, TPE or BOHB-style, picked from the space and the scheduler
        by what won on rung's benchmarks), ``"random"``, ``"grid"``, ``"tpe"``, ``"gp"``,
        ``"bohb"``, ``"mobster"``, a Searcher class or instance.
    scheduler:
        ``"fifo"`` / ``None`` (run to completion), a Scheduler class or instance.
    n_workers:
        Trials running at once (default: one per CPU for the process backend).
    max_trials, max_wallclock, metric_threshold, max_failures:
        Budgets; the first reached ends the experiment. ``metric_threshold`` is reached by
        any accepted value at least as good as it. Running trials are stopped when the
        wall-clock, threshold or failure budget ends the run; when the trial budget is spent,
        running trials finish.
    trial_timeout:
        Seconds a trial may run before it is killed and recorded as failed.
    backend:
        ``"process"`` (default: warm local worker processes), ``"inprocess"`` or a Backend.
    seed:
        Seed of the searcher built from a name or class.
    verbose:
        0: quiet; 1: live progress bar and a summary line.
    experiment, workdir:
        Name of the experiment and directory for trial logs and checkpoints (default
        ``$RUNG_HOME/experiments/<experiment>``).
    storage:
        Where every event is recorded: a SQLAlchemy URL (``"sqlite:///path.db"``,
        ``"postgresql://..."``), a ``.db`` path, ``":memory:"``, a ``rung.storage.Storage``,
        or None for the default SQLite file ``$RUNG_HOME/rung.db``.
    resume:
        If the experiment already exists in the store, continue it: finished trials are kept,
        the searcher and scheduler are rebuilt by replaying the log, trials that were running
        are started again (from their checkpoints, if they keep any). Without ``resume`` an
        existing name is an error.
    warm_start:
        Names of earlier experiments in the same store whose finished trials the searcher
        learns from before the first suggestion. Trials whose configs do not fit this space
        are dropped and listed in ``result.warm_start``.
    """

    def __init__(
        self,
        objective: Callable[[dict], Any],
        space: Space | Mapping[str, Any],
        metric: str,
        mode: str = "min",
        searcher: str | Searcher | type[Searcher] = "auto",
        scheduler: str | Scheduler | type[Scheduler] | None = None,
        n_workers: int | None = None,
        max_trials: int | None = None,
        max_wallclock: float | None = None,
        metric_threshold: float | None = None,
        max_failures: int | None = None,
        trial_timeout: float | None = None,
        backend: str | Backend = "process",
        seed: int | None = None,
        verbose: int = 1,
        experiment: str | None = None,
        workdir: str | os.PathLike | None = None,
        storage: "str | os.PathLike | Storage | None | bool" = None,
        resume: bool = False,
        warm_start: "str | list[str] | None" = None,
        spec: dict[str, Any] | None = None,
    ) -> None:
        if not callable(objective):
            raise TypeError(f"objective must be callable, got {objective!r}")
        self.objective = objective
        self.space = Space.coerce(space)
        self.metric = check_metric(metric, required=True)
        self.mode = check_mode(mode)
        self.max_trials = _positive("max_trials", max_trials, int)
        self.max_wallclock = _positive("max_wallclock", max_wallclock)
        self.max_failures = _positive("max_failures", max_failures, int)
        self.trial_timeout = _positive("trial_timeout", trial_timeout)
        if metric_threshold is not None and not isinstance(metric_threshold, numbers.Real):
            raise ValueError(f"metric_threshold must be a number, got metric_threshold={metric_threshold!r}")
        self.metric_threshold = None if metric_threshold is None else float(metric_threshold)
        self.seed = seed
        self.verbose = verbose
        self.searcher = make_searcher(searcher, self.space, self.metric, self.mode, seed)
        self.scheduler = make_scheduler(scheduler)
        self.backend = make_backend(backend)
        if n_workers is None:
            n_workers = self.backend.default_workers()
        self.n_workers = _positive("n_workers", n_workers, int, allow_none=False)
        if self.backend.max_workers is not None and self.n_workers > self.backend.max_workers:
            raise ValueError(
                f"backend {self.backend.name!r} runs at most {self.backend.max_workers} trial(s) at once, "
                f"got n_workers={self.n_workers}; use backend='process' for parallel trials"
            )
        if (
            self.max_trials is None
            and self.max_wallclock is None
            and self.metric_threshold is None
            and not self.searcher.is_finite
        ):
            raise ValueError(
                "the experiment has no end: set max_trials, max_wallclock or metric_threshold "
                "(or use a finite searcher such as grid)"
            )
        self.experiment = experiment or datetime.now().strftime("exp-%Y%m%d-%H%M%S-") + secrets.token_hex(2)
        self.workdir = Path(workdir) if workdir is not None else rung_home() / "experiments" / self.experiment
        self.storage = storage
        self.resume = bool(resume)
        if isinstance(warm_start, str):
            warm_start = [warm_start]
        self.warm_start = list(warm_start or [])
        self.spec = spec
        self._reset()

    # -- state -------------------------------------------------------------------------------
    def _reset(self) -> None:
        self._trials: dict[int, Trial] = {}
        self._reports: list[Report] = []
        self._trajectory: list[TrajectoryPoint] = []
        self._running: set[int] = set()
        self._deadlines: dict[int, float] = {}
        self._segment_start: dict[int, float] = {}
        self._decisions: dict[int, Decision] = {}
        self._bad_metric: dict[int, str] = {}
        self._kill_reasons: dict[int, tuple[TrialStatus, str]] = {}
        self._best: float | None = None
        self._n_failed = 0
        self._n_finished = 0
        self._decision_time = 0.0
        self._stop_reason: str | None = None
        self._stop_detail = ""
        self._terminating = False
        self._clock = self.backend.clock or time.perf_counter
        self._t0 = self._clock()
        self._relaunch: list[Trial] = []
        self._recorder: Recorder | None = None
        self._store: Storage | None = None
        self._experiment_id: int | None = None
        self._next_stop_poll = 0.0
        self._warm_start_summary: dict[str, Any] | None = None
        self._elapsed_offset = 0.0
        self._decision_rungs: set[float] = set()
        self._abandon_pending: dict[int, str] = {}

    def _now(self) -> float:
        return self._clock() - self._t0

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> TuningResult:
        """Run the experiment to its end and return every trial, report and the incumbent."""
        self._reset()
        self.scheduler.setup(self.searcher, self.metric, self.mode)
        self._open_store()
        try:
            self.backend.start(self.objective, self, self.n_workers)
        except BaseException:
            self._close_store("failed")
            raise
        progress = self._make_progress()
        self._t0 = self._clock() - self._elapsed_offset
        progress.start()
        status = "finished"
        try:
            self._loop(progress)
        except KeyboardInterrupt:
            status = "interrupted"
            self._request_stop("interrupted", "interrupted by the user")
            for trial_id in list(self._running):
                self._terminate(trial_id, TrialStatus.STOPPED, "experiment interrupted")
                self._close_unfinished(trial_id)
        except BaseException:
            status = "failed"
            raise
        finally:
            self.backend.shutdown()
            self._close_store(status)
            result = self._result(status)
            progress.stop(self._summary(result))
        return result

    # -- the store ---------------------------------------------------------------------------
    def _open_store(self) -> None:
        """Create or reopen the experiment; on resume, rebuild state from its log."""
        if self.storage is False:
            return  # nothing recorded: for benchmarks of the loop itself
        store = self.storage if isinstance(self.storage, Storage) else Storage(self.storage)
        self._store = store
        settings = {
            "searcher": type(self.searcher).__name__, "scheduler": type(self.scheduler).__name__,
            "max_trials": self.max_trials, "max_wallclock": self.max_wallclock,
            "metric_threshold": self.metric_threshold, "max_failures": self.max_failures,
            "trial_timeout": self.trial_timeout, "n_workers": self.n_workers, "warm_start": self.warm_start,
        }
        experiment = store.get_experiment(self.experiment)
        if experiment is None:
            self._experiment_id = store.create_experiment(
                self.experiment, metric=self.metric, mode=self.mode, seed=self.seed, space=self.space.to_dict(),
                settings=settings, spec=self.spec, workdir=str(self.workdir),
            )
        elif not self.resume:
            raise ExperimentExists(
                f"experiment {self.experiment!r} already exists in {store.url}; pass resume=True "
                "(or run `rung resume NAME`) to continue it, or choose another name"
            )
        else:
            self._check_compatible(experiment)
            self._experiment_id = experiment["id"]
            if experiment["workdir"]:
                self.workdir = Path(experiment["workdir"])
        store.claim(self._experiment_id)
        if self.warm_start:
            self._warm_start_summary = warm_start(self.searcher, self.space, self.metric, store, self.warm_start)
        self._recorder = Recorder(store, self._experiment_id)
        if experiment is not None:
            self._replay(store, experiment)

    def _check_compatible(self, experiment: dict[str, Any]) -> None:
        stored = Space.from_dict(experiment["space"])
        if stored != self.space:
            raise StorageError(
                f"experiment {self.experiment!r} was run with a different space; "
                f"stored: {stored!r}, given: {self.space!r}"
            )
        for name in ("metric", "mode"):
            if experiment[name] != getattr(self, name):
                raise StorageError(
                    f"experiment {self.experiment!r} optimizes {name}={experiment[name]!r}, "
                    f"not {getattr(self, name)!r}"
                )

    def _replay(self, store: Storage, experiment: dict[str, Any]) -> None:
        """Take over trials, reports and the decision layer's state from the stored log."""
        assert self._recorder is not None
        trial_rows, report_rows, events = store.load_log(experiment["id"])
        state = replay(self.scheduler, self.metric, self.mode, trial_rows, report_rows, events,
                       elapsed=experiment["elapsed"] or 0.0)
        if state.mismatched:
            warnings.warn(
                f"resuming {self.experiment!r}: the searcher suggested other configs than the stored ones "
                f"for trials {state.mismatched[:5]}; is it deterministic under its seed? Later decisions "
                "may differ from an uninterrupted run",
                RuntimeWarning,
                stacklevel=3,
            )
        self._recorder.next_seq = state.next_seq
        self._recorder.mark_known(set(state.trials))
        self._trials = state.trials
        self._reports = state.reports
        self._trajectory = state.trajectory
        self._best = state.trajectory[-1].best_value if state.trajectory else None
        self._relaunch = state.relaunch  # they were running (or about to) when the tuner died
        self._abandon_pending = state.abandon_pending
        self._decision_rungs = state.decision_rungs
        self._n_failed = state.n_failed
        self._n_finished = state.n_finished
        self._elapsed_offset = state.elapsed
        self._decision_time = experiment["decision_time"] or 0.0
        for trial in state.carried_out:
            self._recorder.record_end(trial, state.elapsed)
            if trial.status is TrialStatus.STOPPED:
                self._improve_incumbent(trial, state.elapsed)

    def _close_store(self, status: str) -> None:
        if self._store is None or self._experiment_id is None:
            return
        if self._recorder is not None:
            self._recorder.close()
        self._store.finish(
            self._experiment_id, status=status, stop_reason=self._stop_reason or status,
            elapsed=self._now(), decision_time=self._decision_time,
        )
        if not isinstance(self.storage, Storage):
            self._store.dispose()

    def commit(self) -> None:
        """Make every accepted result durable; backends call this before answering trials."""
        if self._recorder is not None:
            self._recorder.flush()

    def _loop(self, progress: ProgressView) -> None:
        while True:
            self.commit()
            if self._stop_reason is None:
                self._check_clock()
                self._poll_stop_request()
            if self._stop_reason is None:
                self._launch_trials()
            if not self._running:
                if self._stop_reason is None:
                    budget_spent = self.max_trials is not None and len(self._trials) >= self.max_trials
                    self._request_stop("max_trials" if budget_spent else "search_exhausted")
                return
            if self._stop_reason is not None and not self._terminating:
                self._terminating = True
                for trial_id in list(self._running):
                    self._terminate(trial_id, TrialStatus.STOPPED, f"experiment stopped: {self._stop_detail}")
            self.backend.wait(self._wait_timeout())
            self._check_clock()
            progress.update(self._n_finished, len(self._running), self._n_failed, self._best)

    def _poll_stop_request(self) -> None:
        """Honour ``rung stop NAME`` from another process (checked about once a second)."""
        now = time.monotonic()
        if self._store is None or now < self._next_stop_poll:
            return
        self._next_stop_poll = now + STOP_POLL_INTERVAL
        if self._store.stop_requested(self._experiment_id):
            self._request_stop("stop_requested", "stop requested from the command line")

    def _launch_trials(self) -> None:
        self._collect_abandoned()
        # Results accepted so far are committed before they cause any new decision.
        self.commit()
        while self._relaunch and self.backend.free_slots() > 0:
            self._start(self._relaunch.pop(0), None, kind="restart")
        while self.backend.free_slots() > 0:
            allow_new = self.max_trials is None or len(self._trials) < self.max_trials
            started = time.perf_counter()
            suggestion = self.scheduler.suggest(allow_new)
            self._decision_time += time.perf_counter() - started
            if suggestion is None:
                return
            if isinstance(suggestion, StartTrial):
                if not allow_new:
                    raise RuntimeError(f"{self.scheduler!r} started a new trial although the trial budget is spent")
                trial = Trial(trial_id=len(self._trials), config=suggestion.config, created_at=self._now())
                self._trials[trial.trial_id] = trial
            elif isinstance(suggestion, ResumeTrial):
                trial = self._trials[suggestion.trial_id]
                if trial.status is not TrialStatus.PAUSED:
                    raise RuntimeError(f"{self.scheduler!r} resumed trial {trial.trial_id}, which is {trial.status.value}")
            else:
                raise TypeError(f"scheduler.suggest() returned {suggestion!r}")
            kind = "start" if isinstance(suggestion, StartTrial) else "resume"
            self._start(trial, suggestion.resource, kind=kind, allow_new=allow_new)

    def _start(self, trial: Trial, resource: float | None, kind: str = "start", allow_new: bool = True) -> None:
        now = self._now()
        trial.status = TrialStatus.RUNNING
        if kind != "restart":
            trial.resource = resource
        trial.n_starts += 1
        if trial.started_at is None:
            trial.started_at = now
        self._segment_start[trial.trial_id] = now
        self._running.add(trial.trial_id)
        if self.trial_timeout is not None:
            self._deadlines[trial.trial_id] = now + self.trial_timeout
        if self._recorder is not None:
            self._recorder.record_start(trial, kind, now, {"resource": trial.resource, "allow_new": allow_new})
        started = time.perf_counter()
        self.scheduler.on_start(trial)
        self._decision_time += time.perf_counter() - started
        self.backend.launch(
            TrialLaunch(trial.trial_id, trial.config, self.workdir / f"trial_{trial.trial_id}", resource)
        )

    def _wait_timeout(self) -> float:
        # Real time: wake at least every 0.1 s to refresh the progress view. Simulated time:
        # only deadlines bound the wait; the backend jumps to its next event.
        timeout = 0.1 if self.backend.clock is None else math.inf
        now = self._now()
        if self._deadlines:
            timeout = min(timeout, min(self._deadlines.values()) - now)
        if self.max_wallclock is not None:
            timeout = min(timeout, self.max_wallclock - now)
        return max(timeout, 0.0)

    def _check_clock(self) -> None:
        now = self._now()
        if self.max_wallclock is not None and now >= self.max_wallclock and self._stop_reason is None:
            self._request_stop("max_wallclock", f"max_wallclock={self.max_wallclock:g} s reached")
        for trial_id, deadline in list(self._deadlines.items()):
            if now >= deadline:
                del self._deadlines[trial_id]
                self._terminate(trial_id, TrialStatus.FAILED, f"timed out after trial_timeout={self.trial_timeout:g} s")

    def _terminate(self, trial_id: int, status: TrialStatus, reason: str) -> None:
        if trial_id in self._running and trial_id not in self._kill_reasons:
            self._kill_reasons[trial_id] = (status, reason)
            self.backend.terminate(trial_id)

    def _close_unfinished(self, trial_id: int) -> None:
        """Record a trial the backend will not report on any more (interrupted run)."""
        if trial_id in self._running:
            self.on_end(trial_id, TrialOutcome(OutcomeKind.KILLED))

    def _request_stop(self, reason: str, detail: str = "") -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
            self._stop_detail = detail or reason

    # -- events from the backend -----------------------------------------------------------
    def on_report(self, trial_id: int, metrics: dict[str, Any]) -> str:
        """Accept one report and return the scheduler's action for the trial.

        The report and the decision are recorded; the backend calls :meth:`commit` before
        it passes the action on to the trial.
        """
        trial = self._trials[trial_id]
        if trial_id not in self._running or trial_id in self._kill_reasons:
            return Action.STOP.value
        if self._stop_reason is None:
            self._poll_stop_request()  # in-process trials keep the loop from polling
        problem = self._metric_problem(metrics, f"report {trial.n_reports + 1}")
        if problem is not None:
            self._bad_metric[trial_id] = problem
            return Action.STOP.value
        report = self._accept(trial, metrics)
        decision = self._decide(trial, metrics)
        if decision.action is not Action.CONTINUE:
            self._decisions[trial_id] = decision
            level = decision.details.get("rung") if decision.details else None
            if isinstance(level, numbers.Real):
                self._decision_rungs.add(float(level))
        if self._recorder is not None:
            self._recorder.record_report(
                trial_id, report.step, report.time, metrics, decision.action.value, decision.reason, dict(decision.details)
            )
        return decision.action.value

    def _decide(self, trial: Trial, metrics: dict[str, Any]) -> Decision:
        if self._stop_reason is not None:
            return Decision.stop(f"experiment stopped: {self._stop_detail}")
        now = self._now()
        deadline = self._deadlines.get(trial.trial_id)
        if deadline is not None and now >= deadline:
            reason = f"timed out after trial_timeout={self.trial_timeout:g} s"
            self._kill_reasons[trial.trial_id] = (TrialStatus.FAILED, reason)
            return Decision.stop(reason)
        if self.max_wallclock is not None and now >= self.max_wallclock:
            self._request_stop("max_wallclock", f"max_wallclock={self.max_wallclock:g} s reached")
            return Decision.stop(f"experiment stopped: {self._stop_detail}")
        started = time.perf_counter()
        decision = self.scheduler.on_report(trial, metrics)
        self._decision_time += time.perf_counter() - started
        return decision

    def _accept(self, trial: Trial, metrics: dict[str, Any]) -> Report:
        trial.n_reports += 1
        trial.last_metrics = metrics
        value = float(metrics[self.metric])
        trial.metric_value = value
        report = Report(trial.trial_id, trial.n_reports, self._now(), metrics)
        self._reports.append(report)
        if self.metric_threshold is not None and self._reaches_threshold(value):
            self._request_stop(
                "metric_threshold",
                f"trial {trial.trial_id} reached {self.metric}={value:g} (threshold {self.metric_threshold:g})",
            )
        return report

    def _reaches_threshold(self, value: float) -> bool:
        assert self.metric_threshold is not None
        return value <= self.metric_threshold if self.mode == "min" else value >= self.metric_threshold

    def _metric_problem(self, metrics: Mapping[str, Any], where: str) -> str | None:
        if self.metric not in metrics:
            return f"{where} has no metric {self.metric!r} (got: {', '.join(sorted(metrics)) or 'nothing'})"
        value = metrics[self.metric]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"{where}: metric {self.metric!r} is {value!r}, not a number"
        if not math.isfinite(float(value)):
            return f"{where}: metric {self.metric!r} is {float(value)}"
        return None

    def on_end(self, trial_id: int, outcome: TrialOutcome) -> None:
        """Record how a trial left its worker and tell the scheduler."""
        trial = self._trials[trial_id]
        if trial_id not in self._running:
            return
        now = self._now()
        self._running.discard(trial_id)
        self._deadlines.pop(trial_id, None)
        trial.run_time += now - self._segment_start.pop(trial_id, now)
        trial.ended_at = now
        status, reason = self._classify(trial, outcome)
        trial.status = status
        if status is TrialStatus.FAILED:
            trial.error = reason
            trial.traceback = outcome.traceback
            trial.end_reason = None  # a reason from an earlier pause no longer applies
        else:
            trial.end_reason = reason
        started = time.perf_counter()
        if status is TrialStatus.PAUSED:
            self.scheduler.on_pause(trial)
        elif status is TrialStatus.COMPLETED:
            self.scheduler.on_complete(trial, trial.last_metrics)
        elif status is TrialStatus.STOPPED:
            self.scheduler.on_stop(trial)
        else:
            self.scheduler.on_fail(trial)
        self._decision_time += time.perf_counter() - started
        if self._recorder is not None:
            self._recorder.record_end(trial, now)
        if status is TrialStatus.PAUSED:
            self._collect_abandoned()
            return
        self._finished(trial, now)

    def _collect_abandoned(self) -> None:
        """Close paused trials the scheduler has given up on (e.g. not promoted)."""
        for trial_id, reason in self.scheduler.take_abandoned():
            self._abandon_pending[trial_id] = reason
        for trial_id, reason in list(self._abandon_pending.items()):
            trial = self._trials.get(trial_id)
            if trial is None or trial.status is not TrialStatus.PAUSED:
                continue  # still on its way to the pause: closed when it gets there
            del self._abandon_pending[trial_id]
            trial.status = TrialStatus.STOPPED
            trial.end_reason = reason
            now = self._now()
            if self._recorder is not None:
                self._recorder.record_end(trial, now, abandoned=True)
            self._finished(trial, now)

    def _finished(self, trial: Trial, now: float) -> None:
        """Bookkeeping for a trial that will not run again: counts, budgets, incumbent."""
        status = trial.status
        self._n_finished += 1
        if status is TrialStatus.FAILED:
            self._n_failed += 1
            if self.max_failures is not None and self._n_failed >= self.max_failures:
                self._request_stop("max_failures", f"max_failures={self.max_failures} reached")
        else:
            self._improve_incumbent(trial, now)

    def _improve_incumbent(self, trial: Trial, now: float) -> None:
        value = trial.metric_value
        if value is None or not math.isfinite(value):
            return
        if self._best is None or (value < self._best if self.mode == "min" else value > self._best):
            self._best = value
            self._trajectory.append(TrajectoryPoint(now, value, trial.trial_id))

    def _classify(self, trial: Trial, outcome: TrialOutcome) -> tuple[TrialStatus, str | None]:
        trial_id = trial.trial_id
        decision = self._decisions.pop(trial_id, None)
        if trial_id in self._bad_metric:
            return TrialStatus.FAILED, self._bad_metric.pop(trial_id)
        if trial_id in self._kill_reasons:
            return self._kill_reasons.pop(trial_id)
        if outcome.kind is OutcomeKind.KILLED:
            return TrialStatus.STOPPED, "terminated"
        if outcome.kind is OutcomeKind.FAILED:
            return TrialStatus.FAILED, outcome.error or "failed"
        if decision is not None:
            if decision.action is Action.PAUSE:
                return TrialStatus.PAUSED, decision.reason or "paused by the scheduler"
            return TrialStatus.STOPPED, decision.reason or "stopped by the scheduler"
        if self._stop_reason is not None and outcome.kind is OutcomeKind.STOPPED:
            return TrialStatus.STOPPED, f"experiment stopped: {self._stop_detail}"
        if outcome.kind is OutcomeKind.STOPPED:
            return TrialStatus.STOPPED, "the objective raised TrialStopped"
        return self._final_value(trial, outcome.value)

    def _final_value(self, trial: Trial, value: Any) -> tuple[TrialStatus, str | None]:
        """Turn what the objective returned into its final result."""
        if value is None:
            if trial.metric_value is None:
                return TrialStatus.FAILED, f"the objective returned None and never reported metric {self.metric!r}"
            return TrialStatus.COMPLETED, None
        if isinstance(value, Mapping):
            metrics = dict(value)
            if self.metric not in metrics and trial.metric_value is not None:
                return TrialStatus.COMPLETED, None
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            metrics = {self.metric: float(value)}
        else:
            return TrialStatus.FAILED, (
                f"the objective returned {type(value).__name__} {value!r}; return a number, "
                f"a dict with {self.metric!r}, or None after rung.report()"
            )
        problem = self._metric_problem(metrics, "the returned value")
        if problem is not None:
            return TrialStatus.FAILED, problem
        report = self._accept(trial, metrics)
        if self._recorder is not None:
            self._recorder.record_report(trial.trial_id, report.step, report.time, metrics, None, None, None)
        return TrialStatus.COMPLETED, None

    # -- output ------------------------------------------------------------------------------
    def _make_progress(self) -> ProgressView:
        if not self.verbose:
            return QuietProgress()
        total = self.max_trials
        size = getattr(self.searcher, "size", None)
        if isinstance(size, int):
            total = size if total is None else min(total, size)
        return RichProgress(total, self.metric)

    def _result(self, status: str = "finished") -> TuningResult:
        return TuningResult(
            experiment=self.experiment,
            metric=self.metric,
            mode=self.mode,
            trial_records=list(self._trials.values()),
            report_records=list(self._reports),
            trajectory_points=list(self._trajectory),
            stop_reason=self._stop_reason or "search_exhausted",
            wallclock=self._now(),
            decision_time=self._decision_time,
            parameter_names=list(self.space.names),
            workdir=str(self.workdir),
            status=status,
            warm_start=self._warm_start_summary,
            decision_rungs=set(self._decision_rungs),
        )

    def _summary(self, result: TuningResult) -> str:
        best = result.best_trial
        head = (
            f"[bold]{len(result.trial_records)} trials[/] in {result.wallclock:.1f} s "
            f"({result.count('failed')} failed); stopped by {result.stop_reason}"
        )
        chosen = getattr(self.searcher, "chosen", None)
        picked = "" if chosen is None else f" (searcher auto: {chosen.name})"
        if best is None:
            return head + "; no trial produced a value" + picked
        return head + f"; best {self.metric}={best.metric_value:.6g} (trial {best.trial_id})" + picked
