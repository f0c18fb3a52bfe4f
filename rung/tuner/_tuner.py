"""``rung.Tuner``: what the user configures; it builds the parts and runs them.

The tuner checks its arguments, builds the searcher, scheduler and backend, opens the
experiment's session with the store (resuming from its log when asked), hands everything
to the :class:`~rung.tuner._loop.EventLoop` and returns the :class:`rung.TuningResult`.
"""

from __future__ import annotations

import numbers
import os
import secrets
import sys
import warnings
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from .._names import check_experiment_name
from .._objective import Objective
from ..backends import Backend, TrialResources, make_backend
from ..results._result import TuningResult
from ..schedulers import Scheduler, make_scheduler
from ..searchers import Searcher, _warmup, make_searcher
from ._resource_check import warn_unreached
from ..trial._calling import signature_problem
from ._searcher_check import bind_searcher_instance
from ._objective_check import check_objective_space
from ..space import Space
from ..storage import Storage, rung_home
from ._budgets import Budgets, positive
from ._callbacks import Callback, CallbackList
from ._loop import EventLoop
from ._failures import FailureConsole
from ._paused import paused_note
from ._warm_start import describe as describe_warm_start
from ._progress import RichProgress
from ._replay import replay
from ._session import ExperimentSession, describe_parameters
from ._state import RunState

if TYPE_CHECKING:
    from ..spec import ExperimentSpec


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
    max_initial_failures:
        When this many trials (default 5) have failed, all with the same error, and none
        has produced a value, the experiment stops (``stop_reason="initial_failures"``) with
        a ``RuntimeWarning`` carrying the error and its traceback. None: never.
    trial_timeout:
        Seconds a trial may run before it is killed and recorded as failed.
    backend:
        ``"process"`` (default: warm local worker processes), ``"inprocess"``, another
        registered name (``rung.backends.available_backends()``) or a Backend.
    ray_address:
        With ``backend="ray"``: the Ray cluster to join (default ``RAY_ADDRESS``, else a local
        Ray started for the run); refused with any other backend.
    resources_per_trial:
        What each trial needs, e.g. ``{"cpus": 2, "gpus": 0.5}``; the backend refuses what it
        cannot give before any trial runs.
    seed:
        Seed of the searcher built from a name or class.
    verbose:
        0: quiet; 1: live progress bar and a summary line.
    callbacks:
        :class:`rung.Callback` instances told of every trial start, report and end.
    experiment, workdir:
        Name of the experiment (default: a fresh ``exp-<date>-<time>-<hex>``; a name is one
        plain path component of at most 200 letters, digits and ``._-+@=,:``, not starting
        with a dot or dash) and directory for trial logs and checkpoints (default
        ``$RUNG_HOME/experiments/<experiment>``; an existing file is refused).
    storage:
        Where every event is recorded: a SQLAlchemy URL (``"sqlite:///path.db"``,
        ``"postgresql://..."``), a ``.db`` path, ``":memory:"`` (kept in this process only),
        a ``rung.storage.Storage``, or None for the default SQLite file ``$RUNG_HOME/rung.db``.
    resume:
        If the experiment already exists in the store, continue it: finished trials are kept,
        the searcher and scheduler are rebuilt by replaying the log, trials that were running
        are started again (from their checkpoints, if they keep any). Without ``resume`` an
        existing name is an error. The space, searcher and scheduler must be those the
        experiment was run with; ``force_resume=True`` continues with changed ones.
    warm_start:
        Names of earlier experiments in the same store whose finished trials the searcher
        learns from before the first suggestion. Trials whose configs do not fit this space
        are dropped and listed in ``result.warm_start``.
    dashboard:
        True: serve the live web dashboard of this experiment on 127.0.0.1 while it runs (a
        free port; the URL is printed; needs the ``dashboard`` extra). A dict sets its
        ``host``, ``port`` and ``token`` (see ``rung dashboard --help``).
    """

    def __init__(
        self,
        objective: Callable[[dict], Any],
        space: Space | Mapping[str, Any],
        *,
        metric: str,
        mode: str = "min",
        searcher: str | Searcher | type[Searcher] = "auto",
        scheduler: str | Scheduler | type[Scheduler] | None = None,
        n_workers: int | None = None,
        max_trials: int | None = None,
        max_wallclock: float | None = None,
        metric_threshold: float | None = None,
        max_failures: int | None = None,
        max_initial_failures: int | None = 5,
        trial_timeout: float | None = None,
        backend: str | Backend = "process",
        resources_per_trial: TrialResources | Mapping[str, float] | None = None,
        ray_address: str | None = None,
        seed: int | None = None,
        verbose: int = 1,
        callbacks: Iterable[Callback] = (),
        experiment: str | None = None,
        workdir: str | os.PathLike[str] | None = None,
        storage: "str | os.PathLike[str] | Storage | None" = None,
        resume: bool = False,
        force_resume: bool = False,
        warm_start: str | list[str] | None = None,
        dashboard: bool | Mapping[str, Any] = False,
    ) -> None:
        if not callable(objective):
            raise TypeError(f"objective must be callable, got {objective!r}")
        # The arguments that are only kept (not built into a part) are checked first, so a
        # wrong one is named here rather than failing opaquely inside a part or a trial.
        seed = check_seed(seed)
        verbose = check_flag("verbose", verbose, levels=True)
        resume, force_resume = check_flag("resume", resume), check_flag("force_resume", force_resume)
        if experiment is not None:
            # A stored experiment keeps its name even if today's rule refuses it; a new one
            # is held to the rule when it is created.
            experiment = check_experiment_name(experiment, existing=resume)
        warm_names = check_warm_start(warm_start)
        checked_workdir = check_workdir(workdir)
        if storage is False:  # an undocumented early spelling of ":memory:"
            warnings.warn("storage=False is deprecated; use storage=':memory:'", DeprecationWarning, stacklevel=2)
            storage = ":memory:"
        storage = check_storage(storage)
        callbacks = check_callbacks(callbacks)
        self.dashboard = check_dashboard(dashboard)
        self.objective = objective
        self.space = Space.coerce(space)
        _check_script_parameters(objective, self.space)
        check_objective_space(objective, self.space)  # the objective's own check (rung_check_space), before any trial
        self.target = Objective(metric, mode)
        self.metric, self.mode = self.target.metric, self.target.mode
        self.budgets = Budgets.checked(max_trials=max_trials, max_wallclock=max_wallclock,
                                       metric_threshold=metric_threshold, max_failures=max_failures,
                                       trial_timeout=trial_timeout, max_initial_failures=max_initial_failures)
        self.max_trials, self.max_wallclock = self.budgets.max_trials, self.budgets.max_wallclock
        self.metric_threshold, self.max_failures = self.budgets.metric_threshold, self.budgets.max_failures
        self.trial_timeout = self.budgets.trial_timeout
        self.seed = seed
        self.verbose = verbose
        if isinstance(searcher, Searcher):  # its space, metric and mode must be the tuner's
            bind_searcher_instance(searcher, self.space, self.metric, self.mode)
        self.searcher = make_searcher(searcher, self.space, self.metric, self.mode, seed)
        self.scheduler = make_scheduler(scheduler)
        _check_call_form(objective, self.space, self.scheduler)
        self.backend = make_backend(backend, **_backend_options(backend, ray_address))
        self.resources = TrialResources.coerce(resources_per_trial)
        if n_workers is None:
            n_workers = self.backend.default_workers()
        self.n_workers: int = positive("n_workers", n_workers, int, allow_none=False)
        if self.backend.max_workers is not None and self.n_workers > self.backend.max_workers:
            raise ValueError(
                f"backend {self.backend.name!r} runs at most {self.backend.max_workers} trial(s) at once, "
                f"got n_workers={self.n_workers}; use backend='process' for parallel trials"
            )
        self.backend.check_timeout(self.trial_timeout)  # in-process trials cannot be stopped mid-run
        self.budgets.require_an_end(self.searcher.is_finite)
        self.callbacks = CallbackList(callbacks)
        if experiment is None:
            experiment = datetime.now().strftime("exp-%Y%m%d-%H%M%S-") + secrets.token_hex(2)
        self.experiment: str = experiment
        self.workdir = checked_workdir or rung_home() / "experiments" / self.experiment
        self.storage = storage
        self.resume = resume
        self.force_resume = force_resume
        self.warm_start = warm_names
        #: The YAML spec this tuner was built from (stored with the experiment), if any.
        self.spec: dict[str, Any] | None = None
        self._settings = {
            "searcher": type(self.searcher).__name__, "searcher_params": describe_parameters(self.searcher),
            "scheduler": type(self.scheduler).__name__, "scheduler_params": describe_parameters(self.scheduler),
            "n_workers": self.n_workers, "warm_start": self.warm_start, **self.budgets.as_dict(),
        }
        # A GP-family searcher's imports (scipy, Sobol tables) started in the background when
        # it was built; they end here, so run()'s first suggestion pays none of them.
        _warmup.wait()

    @classmethod
    def from_spec(cls, spec: "ExperimentSpec | str | os.PathLike[str]", **overrides: Any) -> "Tuner":
        """The tuner a YAML experiment spec describes (a path or a loaded spec); ``overrides``
        are Tuner arguments that win over the spec's (``max_trials=``, ``resume=True``, ...)."""
        from ..spec import ExperimentSpec, load_spec

        loaded = spec if isinstance(spec, ExperimentSpec) else load_spec(spec)
        return loaded.build_tuner(**overrides)

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> TuningResult:
        """Run the experiment to its end and return every trial, report and the incumbent."""
        self.backend.check_resources(self.resources, self.n_workers)
        self.scheduler.setup(self.searcher, self.metric, self.mode)
        session = ExperimentSession(self.storage, self.experiment)
        try:
            self.workdir = session.open(
                objective=self.target, space=self.space, seed=self.seed, settings=self._settings,
                spec=self.spec, workdir=self.workdir, resume=self.resume, force_resume=self.force_resume,
                searcher=self.searcher, warm_start_from=self.warm_start,
            )
            loop, elapsed = self._prepare(session)
            board = self._open_dashboard(session)
        except BaseException:
            session.release_store()
            raise
        callbacks = self._callbacks()
        loop.callbacks = callbacks  # the progress display hears every trial event too
        progress = next((c for c in getattr(callbacks, "callbacks", ()) if isinstance(c, RichProgress)), None)
        if progress is not None:
            progress.announce(self._announcement(resumed=session.existing is not None))
            if session.warm_start_summary:
                progress.announce(describe_warm_start(session.warm_start_summary))
        try:
            self.backend.start(self.objective, loop, self.n_workers)
        except BaseException:
            if board is not None:
                board.stop()
            self._close(session, loop, "failed")
            raise
        loop.start_clock(elapsed)
        callbacks.on_experiment_start(loop.state)
        status = "finished"
        try:
            loop.run()
        except KeyboardInterrupt:
            status = "interrupted"
            loop.interrupt()
        except BaseException:
            status = "failed"
            raise
        finally:
            self.backend.shutdown()
            if board is not None:
                board.stop()
            result = self._close(session, loop, status)
            if status == "finished":  # a max_resource no trial reached: the top rung was never used
                warn_unreached(self.scheduler, loop.state.trials.values(), loop.state.reports)
            callbacks.on_experiment_end(loop.state, result)
        if loop.stop.reason == "initial_failures":  # the Python caller hears it, with the traceback
            warnings.warn(loop.failures.warning_text(loop.stop.detail), RuntimeWarning, stacklevel=2)
        return result

    def _open_dashboard(self, session: ExperimentSession) -> Any:
        """The live dashboard on a thread of this process, over the session's store (so an
        in-memory store works too), or None if not asked for."""
        if self.dashboard is None:
            return None
        try:
            from ..dashboard import start
        except ImportError as err:
            raise ImportError(f"dashboard=True: {err}") from None
        board = start(session.store, experiment=self.experiment, **self.dashboard)
        print(f"rung dashboard of {self.experiment!r}: {board.url}", file=sys.stderr, flush=True)
        return board

    def _prepare(self, session: ExperimentSession) -> tuple[EventLoop, float]:
        """The event loop over a fresh state, or over the state replayed from the store."""
        state = RunState(self.target)
        loop = EventLoop(state=state, scheduler=self.scheduler, backend=self.backend, budgets=self.budgets,
                         recorder=session.recorder, callbacks=self.callbacks, workdir=self.workdir,
                         resources=self.resources, stop_requested=session.stop_requested)
        if session.existing is None:
            return loop, 0.0
        replayed = replay(self.scheduler, self.target, session.read_log(), elapsed=session.existing.elapsed or 0.0)
        if replayed.mismatched:
            warnings.warn(
                f"resuming {self.experiment!r}: the searcher suggested other configs than the stored ones "
                f"for trials {replayed.mismatched[:5]}; is it deterministic under its seed? Later decisions "
                "may differ from an uninterrupted run",
                RuntimeWarning,
                stacklevel=4,
            )
        loop.state = replayed.state
        loop.objective = replayed.state.objective
        loop.relaunch = replayed.relaunch  # they were running (or about to) when the tuner died
        loop.abandon_pending = replayed.abandon_pending
        loop.decision_time = session.existing.decision_time or 0.0
        assert session.recorder is not None
        session.recorder.mark_known(replayed.state.trials)
        for trial in replayed.carried_out:
            loop.record_end(trial, replayed.elapsed)
        return loop, replayed.elapsed

    def _callbacks(self) -> Callback:
        if not self.verbose:
            return self.callbacks
        total = self.max_trials
        size = getattr(self.searcher, "size", None)
        if isinstance(size, int):
            total = size if total is None else min(total, size)
        progress = RichProgress(total, self.metric, summary=self._summary)
        failures = FailureConsole(progress.console)  # each distinct trial error, once, as it happens
        return CallbackList([progress, failures, *self.callbacks.callbacks])

    def _close(self, session: ExperimentSession, loop: EventLoop, status: str) -> TuningResult:
        """Release the experiment in the store and build the result."""
        session.close(status=status, stop_reason=loop.stop.reason or status, elapsed=loop.now(),
                      decision_time=loop.decision_time)
        state = loop.state
        return TuningResult(
            experiment=self.experiment, metric=self.metric, mode=self.mode,
            trial_records=list(state.trials.values()), report_records=list(state.reports),
            trajectory_points=list(state.trajectory), stop_reason=loop.stop.reason or "search_exhausted",
            wallclock=loop.now(), decision_time=loop.decision_time, parameter_names=list(self.space.names),
            workdir=str(self.workdir), status=status, warm_start=session.warm_start_summary,
            decision_rungs=set(state.decision_rungs), space=self.space.to_dict(),
        )

    def _announcement(self, resumed: bool) -> str:
        """The first line of a run, printed before any worker starts."""
        budget = "no trial limit" if self.max_trials is None else f"max_trials {self.max_trials} in total"
        return (
            f"{'resuming' if resumed else 'experiment'} {self.experiment}: {type(self.searcher).__name__} searcher, "
            f"{type(self.scheduler).__name__} scheduler, {self.n_workers} worker(s) ({self.backend.name}), "
            f"{budget}; starting..."
        )

    def _summary(self, result: TuningResult) -> str:
        best = result.best_trial
        counts = ", ".join(f"{result.count(s)} {s}" for s in ("completed", "stopped", "paused", "failed"))
        head = (
            f"[bold]{len(result.trial_records)} trials[/] in {result.wallclock:.1f} s "
            f"({counts}); stopped by {result.stop_reason}"
        )
        chosen = getattr(self.searcher, "chosen", None)
        picked = "" if chosen is None else f" (searcher auto: {chosen.name})"
        head += paused_note(result.trial_records, self.scheduler)
        if best is None:
            return head + "; no trial produced a value" + picked
        parent = (result.warm_start or {}).get("best_parent")
        if parent is not None:  # next to the new best, the best the parents had
            picked += f"; best warm-start parent {parent['value']:.6g} ({parent['experiment']} trial {parent['trial_id']})"
        return head + f"; best {self.metric}={best.metric_value:.6g} (trial {best.trial_id})" + picked


# -- argument checks (each error names the argument) ------------------------------------------
def check_seed(seed: Any) -> int | None:
    """None or a non-negative integer (numpy's generators refuse the rest, opaquely)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a non-negative integer or None, got seed={seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got seed={seed!r}")
    return int(seed)


def check_flag(name: str, value: Any, levels: bool = False) -> Any:
    """A bool (``levels``: also an int level such as ``verbose=2``); ``"no"`` is not False."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return int(value) if levels else bool(value)
    if levels and isinstance(value, numbers.Integral) and int(value) >= 0:
        return int(value)
    expected = "a non-negative integer" if levels else "True or False"
    raise TypeError(f"{name} must be {expected}, got {name}={value!r} ({type(value).__name__})")


def check_warm_start(warm_start: Any) -> list[str]:
    """``warm_start`` (a name or a list of names) as a list of valid experiment names."""
    if warm_start is None:
        return []
    if isinstance(warm_start, str):
        warm_start = [warm_start]
    elif not isinstance(warm_start, (list, tuple)):
        raise TypeError(
            f"warm_start must be an experiment name or a list of names, got warm_start={warm_start!r} "
            f"({type(warm_start).__name__})"
        )
    return [check_experiment_name(name, f"warm_start[{index}]") for index, name in enumerate(warm_start)]


def check_workdir(workdir: Any) -> Path | None:
    """None or a path that is a directory or does not exist yet (it is created later)."""
    if workdir is None:
        return None
    if not isinstance(workdir, (str, os.PathLike)):
        raise TypeError(f"workdir must be a path, got workdir={workdir!r} ({type(workdir).__name__})")
    if not os.fspath(workdir):
        raise ValueError("workdir must not be empty (omit it for the default directory)")
    path = Path(workdir)
    if path.exists() and not path.is_dir():
        raise ValueError(f"workdir {str(path)!r} exists and is not a directory")
    return path


def check_storage(storage: Any) -> Any:
    """What ``open_storage`` accepts: None, a URL or path, ``":memory:"`` or a Storage."""
    if storage is None or isinstance(storage, Storage):
        return storage
    if not isinstance(storage, (str, os.PathLike)):
        raise TypeError(
            "storage must be a URL, a .db path, ':memory:', a rung.storage.Storage or None, "
            f"got storage={storage!r} ({type(storage).__name__})"
        )
    if not os.fspath(storage):
        raise ValueError("storage must not be empty (omit it for the default store)")
    return storage


def check_dashboard(dashboard: Any) -> dict[str, Any] | None:
    """``dashboard``: a bool, or a dict of ``host``, ``port``, ``token`` (None: no dashboard)."""
    if isinstance(dashboard, bool):
        return {} if dashboard else None
    if not isinstance(dashboard, Mapping):
        raise TypeError(f"dashboard must be True, False or a dict of host, port and token, got dashboard={dashboard!r}")
    unknown = sorted(set(dashboard) - {"host", "port", "token"})
    if unknown:
        raise ValueError(f"dashboard: unknown option(s) {', '.join(map(str, unknown))}; options: host, port, token")
    port = dashboard.get("port", 0)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"dashboard: port must be an integer from 0 to 65535, got port={port!r}")
    host = dashboard.get("host", "127.0.0.1")
    if not isinstance(host, str) or not host:
        raise ValueError(f"dashboard: host must be an address, got host={host!r}")
    token = dashboard.get("token")
    if token is not None and not isinstance(token, str):
        raise TypeError(f"dashboard: token must be a string, got token={token!r}")
    return {"host": host, "port": port, "token": token}


def check_callbacks(callbacks: Any) -> list[Callback]:
    """A list of callbacks (a single one is accepted as itself)."""
    if isinstance(callbacks, Callback):
        return [callbacks]
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Iterable):
        raise TypeError(f"callbacks must be a list of rung.Callback instances, got callbacks={callbacks!r}")
    return list(callbacks)


def _check_call_form(objective: Any, space: Space, scheduler: Any) -> None:
    """A keyword-argument objective must accept the space's names (and the scheduler's
    ``max_resource_attr``): refused now, naming them, rather than failing every trial."""
    extra = [attr] if isinstance(attr := getattr(scheduler, "max_resource_attr", None), str) else []
    problem = signature_problem(objective, space.names, extra)
    if problem is not None:
        raise TypeError(problem.replace("with this config", "with this space's configs", 1))


def _check_script_parameters(objective: Any, space: Space) -> None:
    """A Script that gets its config as ``--name=value`` flags needs names that are flags;
    checked here so that a bad name fails before the first trial instead of in every trial."""
    import sys

    script = sys.modules.get("rung.script._script")  # only loaded if the user made a Script
    if script is None or not isinstance(objective, script.Script) or objective.args != "flags":
        return
    from ..script._arguments import check_flag_names

    check_flag_names(space.names)


def _backend_options(backend: Any, ray_address: str | None) -> dict[str, Any]:
    """Options the Tuner passes to a backend built by name (only ``ray_address`` today)."""
    if ray_address is None:
        return {}
    if not (isinstance(backend, str) and backend.strip().lower() == "ray"):
        raise ValueError(f"ray_address={ray_address!r} needs backend='ray', got backend={backend!r}")
    return {"address": ray_address}
