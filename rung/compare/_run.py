"""``rung.compare(...)``: run each method over seeds on the user's problem, in parallel.

Every (method, seed) is one :class:`rung.Tuner` run, stored as the experiment
``<name>.<method>.s<seed>``; runs go to worker processes (forked, so the objective does not
have to pickle; one per core by default), each writing to the same store. A simulated
objective (one with ``steps``, see :mod:`rung.backends`) runs on the simulator backend,
so hours of simulated training take seconds and time is simulated seconds; any other
objective runs in-process in its worker, on the wall clock. Running the same comparison
again skips the runs already finished and resumes the others.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._names import check_experiment_name
from .._objective import check_metric, check_mode
from ..space import Space
from ._comparison import SETTINGS_KEY, Comparison, RunSummary, run_name, summarize_run
from ._methods import Fidelity, build_scheduler, needs_fidelity, parse_method

if TYPE_CHECKING:
    from ..spec import ExperimentSpec
    from ..storage import Storage

DEFAULT_METHODS = ("random", "tpe", "asha")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class _Job:
    """One run to do, in a form a forked worker reads from memory."""

    method: str
    seed: int
    experiment: str
    resume: bool


@dataclass(frozen=True)
class _Plan:
    objective: Callable[[dict], Any]
    space: Space
    metric: str
    mode: str
    n_workers: int
    max_trials: int | None
    max_wallclock: float | None
    backend: str
    fidelity: Fidelity | None
    storage: "str | Storage"


# Set before the pool forks; read by the workers (nothing is pickled but an index).
_PLAN: _Plan | None = None
_JOBS: list[_Job] = []


def compare(
    objective: "Callable[[dict], Any] | str | os.PathLike[str] | ExperimentSpec",
    space: "Space | dict[str, Any] | None" = None,
    *,
    metric: str | None = None,
    mode: str | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    seeds: "int | Sequence[int]" = 10,
    max_trials: int | None = None,
    max_wallclock: float | None = None,
    n_workers: int | None = None,
    backend: str | None = None,
    resource_attr: str | None = None,
    max_resource: float | None = None,
    min_resource: float | None = None,
    reduction_factor: float | None = None,
    target: float | None = None,
    name: str | None = None,
    storage: "str | os.PathLike[str] | Storage | None" = None,
    jobs: int | None = None,
    on_run: Callable[[RunSummary], None] | None = None,
) -> Comparison:
    """Run every method in ``methods`` with every seed on one problem; return the comparison.

    ``objective`` is a function (with ``space`` and ``metric``, as for :class:`rung.Tuner`),
    or a YAML spec (a path or a loaded spec) whose trial, space, metric, mode, budget,
    workers, storage and multi-fidelity scheduler (its ``resource_attr`` and rung levels)
    are used; arguments given here win. ``methods``: names from
    :data:`rung.compare.METHODS` or ``<searcher>+<scheduler>``; the multi-fidelity ones need
    ``resource_attr`` and ``max_resource``. ``seeds``: a count (seeds 0..n-1) or the seeds.
    Each run has the budget ``max_trials`` / ``max_wallclock`` and ``n_workers`` workers.
    ``target``: the value "time to target" measures (default: random search's median final
    value, see :meth:`Comparison.default_target`). ``name``: the comparison's name in the
    store (default ``compare-<date>-<time>``). ``jobs``: runs at once (default: one per core;
    1 with an in-memory store or a Storage object, which other processes cannot reach).
    ``on_run(summary)`` is called as each run ends. Every argument is checked before any run.
    """
    spec = _spec(objective)
    if spec is not None:
        objective = spec.objective
        space = spec.space if space is None else space
        metric = metric or spec.metric
        mode = mode or spec.mode
        if max_trials is None and max_wallclock is None:
            max_trials, max_wallclock = spec.budget.max_trials, spec.budget.max_wallclock
        n_workers = n_workers or spec.budget.max_concurrent
        storage = spec.storage if storage is None else storage
        options = spec.scheduler.options
        resource_attr = resource_attr or options.get("resource_attr")
        max_resource = max_resource if max_resource is not None else options.get("max_resource")
        min_resource = min_resource if min_resource is not None else options.get("min_resource")
        reduction_factor = reduction_factor if reduction_factor is not None else options.get("reduction_factor")
        if backend is None and spec.backend not in ("process", "inprocess"):
            backend = spec.backend
    if not callable(objective):
        raise TypeError(f"objective must be a function or a YAML spec path, got {objective!r}")
    if space is None:
        raise ValueError("space is required (or pass a YAML spec)")
    if metric is None:
        raise ValueError("metric is required (or pass a YAML spec)")
    plan_space = space if isinstance(space, Space) else Space(space)
    checked_metric = check_metric(metric, required=True)
    assert checked_metric is not None
    metric, mode = checked_metric, str(check_mode(mode or "min"))
    method_list = _check_methods(methods)
    seed_list = _check_seeds(seeds)
    if max_trials is None and max_wallclock is None:
        raise ValueError("each run needs a budget: pass max_trials= or max_wallclock= (or a spec with a budget)")
    fidelity = _fidelity(method_list, resource_attr, max_resource, min_resource, reduction_factor)
    simulated = hasattr(objective, "steps")
    chosen_backend = backend or ("simulator" if simulated else "inprocess")
    name = check_experiment_name(name if name is not None else time.strftime("compare-%Y%m%d-%H%M%S"), "name")
    jobs = _check_jobs(jobs)
    for method in method_list:  # fail on a bad setting now, not in a worker
        for seed in seed_list[:1]:
            build_scheduler(parse_method(method)[1], fidelity, seed)
            check_experiment_name(run_name(name, method, seed), "name")

    from ..storage import MemoryStorage, Storage, normalize_url, open_storage

    shared = isinstance(storage, Storage) or (isinstance(storage, str) and storage == ":memory:")
    store = open_storage(storage)
    target_storage: str | Storage = store if shared else normalize_url(storage)  # type: ignore[arg-type]
    if shared and jobs not in (None, 1):
        warnings.warn(f"jobs={jobs} ignored: runs share an in-process store ({type(store).__name__}), so they "
                      "run one after another; pass a database URL to run them in parallel", stacklevel=2)
    if shared or isinstance(store, MemoryStorage):
        jobs = 1
    clock = "simulated seconds" if chosen_backend == "simulator" else "wall-clock (s)"
    comparison = Comparison(name=name, metric=metric, mode=mode, methods=method_list, seeds=seed_list,
                            target=target, clock=clock)
    plan = _Plan(objective=objective, space=plan_space, metric=metric, mode=mode, n_workers=n_workers or 1,
                 max_trials=max_trials, max_wallclock=max_wallclock, backend=chosen_backend, fidelity=fidelity,
                 storage=target_storage)
    try:
        record_id, todo, done = _open_record(store, comparison, plan_space, method_list, seed_list)
    finally:
        if not shared:
            store.dispose()  # the workers open their own connections
    started = time.perf_counter()
    status, reason = "interrupted", "interrupted"
    try:
        summaries, failures = _run_jobs(plan, todo, jobs, on_run)
        status, reason = ("finished", "comparison") if not failures else ("failed", f"{len(failures)} run(s) failed")
    finally:  # the record says how it ended, also after Ctrl-C or an error
        store = open_storage(storage) if not shared else store
        try:
            store.finish(record_id, status=status, stop_reason=reason, elapsed=time.perf_counter() - started,
                         decision_time=0.0)
        finally:
            if not shared:
                store.dispose()
    summaries.extend(done)
    order = {(m, s): i for i, (m, s) in enumerate((m, s) for m in method_list for s in seed_list)}
    comparison.run_records = sorted(summaries, key=lambda r: order[(r.method, r.seed)])
    for (method, seed), error in failures.items():
        warnings.warn(f"comparison {name!r}: run {method} seed {seed} failed: {error.strip().splitlines()[-1]}",
                      RuntimeWarning, stacklevel=2)
    if failures and not summaries:
        first = next(iter(failures.values()))
        raise RuntimeError(f"every run of comparison {name!r} failed; the first:\n{first}")
    return comparison


# -- checks ------------------------------------------------------------------------------
def _spec(objective: Any) -> "ExperimentSpec | None":
    from ..spec import ExperimentSpec, load_spec

    if isinstance(objective, ExperimentSpec):
        return objective
    if isinstance(objective, (str, os.PathLike)):
        return load_spec(objective)
    return None


def _check_methods(methods: Any) -> list[str]:
    if isinstance(methods, str) or not isinstance(methods, Sequence) or not methods:
        raise ValueError(f"methods must be a non-empty list of method names, got {methods!r}")
    out = list(methods)
    for method in out:
        parse_method(method)
    duplicates = sorted({m for m in out if out.count(m) > 1})
    if duplicates:
        raise ValueError(f"methods lists {duplicates} more than once")
    return out


def _check_seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, bool):
        raise ValueError(f"seeds must be a positive count or a list of seeds, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive count or a list of seeds, got seeds={seeds}")
        return list(range(seeds))
    if isinstance(seeds, Sequence) and seeds and all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds lists a seed more than once: {list(seeds)}")
        return list(seeds)
    raise ValueError(f"seeds must be a positive count or a list of non-negative integers, got {seeds!r}")


def _check_jobs(jobs: Any) -> int | None:
    if jobs is None:
        return None
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer or None, got jobs={jobs!r}")
    return jobs


def _fidelity(methods: list[str], resource_attr: Any, max_resource: Any, min_resource: Any,
              reduction_factor: Any) -> Fidelity | None:
    wanted = [m for m in methods if needs_fidelity(m)]
    if not wanted:
        return None
    if not resource_attr or max_resource is None:
        raise ValueError(f"methods {wanted} stop trials early: pass resource_attr= (what trials report, e.g. "
                         "'epoch') and max_resource= (or a spec whose scheduler names them)")
    return Fidelity(str(resource_attr), float(max_resource), float(min_resource if min_resource is not None else 1),
                    float(reduction_factor if reduction_factor is not None else 3))


# -- the store -------------------------------------------------------------------------------
def _open_record(store: "Storage", comparison: Comparison, space: Space, methods: list[str],
                 seeds: list[int]) -> tuple[int, list[_Job], list[RunSummary]]:
    """Create the comparison's record, or find it again; which runs are still to do."""
    from ..results import load

    plan = {SETTINGS_KEY: {"methods": methods, "seeds": seeds, "target": comparison.target,
                           "clock": comparison.clock,
                           "runs": [{"method": m, "seed": s, "experiment": run_name(comparison.name, m, s)}
                                    for m in methods for s in seeds]}}
    existing = store.get_experiment(comparison.name)
    if existing is None:
        record_id = store.create_experiment(comparison.name, metric=comparison.metric, mode=comparison.mode,
                                            seed=None, space=space.to_dict(), settings=plan)
    else:
        stored = (existing.settings or {}).get(SETTINGS_KEY)
        if not isinstance(stored, dict):
            raise ValueError(f"name {comparison.name!r} is taken by an experiment that is not a comparison "
                             f"in {store.url}; choose another name")
        if stored.get("methods") != methods or stored.get("seeds") != seeds or existing.metric != comparison.metric:
            raise ValueError(f"comparison {comparison.name!r} in {store.url} has methods {stored.get('methods')} "
                             f"and seeds {stored.get('seeds')} on {existing.metric!r}; give another name to "
                             f"compare {methods} with seeds {seeds}")
        record_id = existing.id
    store.claim(record_id)  # "running" while the runs go, owned by this process
    todo, done = [], []
    for method in methods:
        for seed in seeds:
            experiment = run_name(comparison.name, method, seed)
            record = store.get_experiment(experiment)
            if record is not None and record.status == "finished":
                done.append(summarize_run(method, seed, load(experiment, store), comparison.mode))
            else:
                todo.append(_Job(method, seed, experiment, resume=record is not None))
    return record_id, todo, done


# -- running ---------------------------------------------------------------------------------
def _run_one(index: int) -> tuple[str, Any]:
    """Run job ``index`` of :data:`_JOBS` (in a worker or here): ``("ok", summary dict)`` or
    ``("failed", traceback)``."""
    from ..tuner import Tuner

    assert _PLAN is not None
    plan, job = _PLAN, _JOBS[index]
    try:
        searcher, scheduler = parse_method(job.method)
        tuner = Tuner(plan.objective, plan.space, metric=plan.metric, mode=plan.mode, searcher=searcher,
                      scheduler=build_scheduler(scheduler, plan.fidelity, job.seed), n_workers=plan.n_workers,
                      max_trials=plan.max_trials, max_wallclock=plan.max_wallclock, backend=plan.backend,
                      seed=job.seed, verbose=0, experiment=job.experiment, storage=plan.storage,
                      resume=job.resume, force_resume=job.resume)
        result = tuner.run()
        return "ok", summarize_run(job.method, job.seed, result, plan.mode).to_dict()
    except Exception:
        return "failed", traceback.format_exc()


#: Threads of rung's own that end by themselves: waited for before forking. The model
#: searchers import scipy on a "rung-imports" thread; a fork while it holds an import
#: lock leaves that lock held forever in the children.
FINITE_THREADS = ("rung-imports",)


def _fork_safe(timeout: float = 60.0) -> bool:
    """True when this is the only thread left (after waiting for :data:`FINITE_THREADS`)."""
    me = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not me and thread.name in FINITE_THREADS:
            thread.join(timeout)
    return all(thread is me or not thread.is_alive() for thread in threading.enumerate())


def _worker_init() -> None:
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")


def _run_jobs(plan: _Plan, todo: list[_Job], jobs: int | None,
              on_run: Callable[[RunSummary], None] | None) -> tuple[list[RunSummary], dict[tuple[str, int], str]]:
    global _PLAN, _JOBS
    _PLAN, _JOBS = plan, list(todo)
    summaries: list[RunSummary] = []
    failures: dict[tuple[str, int], str] = {}

    def take(index: int, status: str, payload: Any) -> None:
        job = _JOBS[index]
        if status == "ok":
            summary = RunSummary.from_dict(payload)
            summaries.append(summary)
            if on_run is not None:
                on_run(summary)
        else:
            failures[(job.method, job.seed)] = payload

    try:
        workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
        forking = "fork" in multiprocessing.get_all_start_methods()
        if workers > 1 and forking and not _fork_safe():
            others = sorted(t.name for t in threading.enumerate() if t is not threading.current_thread())
            warnings.warn(f"runs go one after another: threads {others} are running in this process, and a "
                          "fork while another thread imports a module would hang the workers", stacklevel=3)
            workers = 1
        if workers == 1 or not forking:
            for index in range(len(todo)):
                take(index, *_run_one(index))
        else:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init) as pool:
                futures = {pool.submit(_run_one, index): index for index in range(len(todo))}
                for future in as_completed(futures):
                    try:
                        status, payload = future.result()
                    except Exception:  # the worker died
                        status, payload = "failed", traceback.format_exc()
                    take(futures[future], status, payload)
    finally:
        _PLAN, _JOBS = None, []
    return summaries, failures

