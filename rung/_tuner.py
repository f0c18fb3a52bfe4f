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
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from ._progress import ProgressView, QuietProgress, RichProgress
from ._result import TrajectoryPoint, TuningResult
from ._trial import Report, Trial, TrialStatus
from .backends import Backend, OutcomeKind, TrialLaunch, TrialOutcome, make_backend
from .schedulers import Action, Decision, ResumeTrial, Scheduler, StartTrial, make_scheduler
from .searchers import Searcher, make_searcher
from .searchers._base import check_metric, check_mode
from .space import Space

STOP_REASONS = ("max_trials", "max_wallclock", "metric_threshold", "search_exhausted", "max_failures", "interrupted")


def rung_home() -> Path:
    """Where rung keeps its files unless told otherwise: ``$RUNG_HOME`` or ``~/.rung``."""
    return Path(os.environ.get("RUNG_HOME", "~/.rung")).expanduser()


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
        ``"random"`` (default), ``"grid"``, a Searcher class or instance.
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
    """

    def __init__(
        self,
        objective: Callable[[dict], Any],
        space: Space | Mapping[str, Any],
        metric: str,
        mode: str = "min",
        searcher: str | Searcher | type[Searcher] = "random",
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
        self._t0 = time.perf_counter()

    def _now(self) -> float:
        return time.perf_counter() - self._t0

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> TuningResult:
        """Run the experiment to its end and return every trial, report and the incumbent."""
        self._reset()
        self.scheduler.setup(self.searcher, self.metric, self.mode)
        self.backend.start(self.objective, self, self.n_workers)
        progress = self._make_progress()
        self._t0 = time.perf_counter()
        progress.start()
        try:
            self._loop(progress)
        except KeyboardInterrupt:
            self._request_stop("interrupted", "interrupted by the user")
            for trial_id in list(self._running):
                self._terminate(trial_id, TrialStatus.STOPPED, "experiment interrupted")
                self._close_unfinished(trial_id)
        finally:
            self.backend.shutdown()
            result = self._result()
            progress.stop(self._summary(result))
        return result

    def _loop(self, progress: ProgressView) -> None:
        while True:
            if self._stop_reason is None:
                self._check_clock()
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

    def _launch_trials(self) -> None:
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
            self._start(trial, suggestion.resource)

    def _start(self, trial: Trial, resource: float | None) -> None:
        now = self._now()
        trial.status = TrialStatus.RUNNING
        trial.resource = resource
        trial.n_starts += 1
        if trial.started_at is None:
            trial.started_at = now
        self._segment_start[trial.trial_id] = now
        self._running.add(trial.trial_id)
        if self.trial_timeout is not None:
            self._deadlines[trial.trial_id] = now + self.trial_timeout
        started = time.perf_counter()
        self.scheduler.on_start(trial)
        self._decision_time += time.perf_counter() - started
        self.backend.launch(
            TrialLaunch(trial.trial_id, trial.config, self.workdir / f"trial_{trial.trial_id}", resource)
        )

    def _wait_timeout(self) -> float:
        timeout = 0.1  # also the progress refresh period
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
        """Accept one report and return the scheduler's action for the trial."""
        trial = self._trials[trial_id]
        if trial_id not in self._running or trial_id in self._kill_reasons:
            return Action.STOP.value
        problem = self._metric_problem(metrics, f"report {trial.n_reports + 1}")
        if problem is not None:
            self._bad_metric[trial_id] = problem
            return Action.STOP.value
        self._accept(trial, metrics)
        if self._stop_reason is not None:
            return Action.STOP.value
        now = self._now()
        deadline = self._deadlines.get(trial_id)
        if deadline is not None and now >= deadline:
            self._kill_reasons[trial_id] = (TrialStatus.FAILED, f"timed out after trial_timeout={self.trial_timeout:g} s")
            return Action.STOP.value
        if self.max_wallclock is not None and now >= self.max_wallclock:
            self._request_stop("max_wallclock", f"max_wallclock={self.max_wallclock:g} s reached")
            return Action.STOP.value
        started = time.perf_counter()
        decision = self.scheduler.on_report(trial, metrics)
        self._decision_time += time.perf_counter() - started
        if decision.action is not Action.CONTINUE:
            self._decisions[trial_id] = decision
        return decision.action.value

    def _accept(self, trial: Trial, metrics: dict[str, Any]) -> None:
        trial.n_reports += 1
        trial.last_metrics = metrics
        value = float(metrics[self.metric])
        trial.metric_value = value
        self._reports.append(Report(trial.trial_id, trial.n_reports, self._now(), metrics))
        if self.metric_threshold is not None and self._reaches_threshold(value):
            self._request_stop(
                "metric_threshold",
                f"trial {trial.trial_id} reached {self.metric}={value:g} (threshold {self.metric_threshold:g})",
            )

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
        if status is TrialStatus.PAUSED:
            return
        self._n_finished += 1
        if status is TrialStatus.FAILED:
            self._n_failed += 1
            if self.max_failures is not None and self._n_failed >= self.max_failures:
                self._request_stop("max_failures", f"max_failures={self.max_failures} reached")
        elif trial.metric_value is not None and (
            self._best is None or (trial.metric_value < self._best if self.mode == "min" else trial.metric_value > self._best)
        ):
            self._best = trial.metric_value
            self._trajectory.append(TrajectoryPoint(now, trial.metric_value, trial_id))

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
        self._accept(trial, metrics)
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

    def _result(self) -> TuningResult:
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
        )

    def _summary(self, result: TuningResult) -> str:
        best = result.best_trial
        head = (
            f"[bold]{len(result.trial_records)} trials[/] in {result.wallclock:.1f} s "
            f"({result.count('failed')} failed); stopped by {result.stop_reason}"
        )
        if best is None:
            return head + "; no trial produced a value"
        return head + f"; best {self.metric}={best.metric_value:.6g} (trial {best.trial_id})"
