"""Run methods x problems x seeds in parallel, store each result, skip what is done.

Each cell (method, problem, seed, budget) runs in a worker process of a
``ProcessPoolExecutor`` (one per core by default; ``jobs=1`` runs cells in this process).
Workers only compute: the parent writes every result to the store (``ResultStore``) as it
arrives, so a crash or Ctrl-C loses only the cells that were running, and the next run of
the same suite starts with the cells not yet finished. A cell whose method raises is stored
as failed, with its traceback, and tried again on the next run; the others go on.

Methods travel to the workers by pickle; one that does not pickle is sent by name and
rebuilt there from ``benchmarks.methods`` / ``benchmarks.peers``. Worker processes get one
BLAS / OpenMP / torch thread each (unless the environment says otherwise), since the pool
already uses every core. Before a cell on a real problem, the worker runs one untimed step
of the problem's default config (:func:`warm_up`), so that no method pays for imports and
data loading.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._method import Budget, Method, RunResult
from ._store import Key, ResultStore

if TYPE_CHECKING:
    from benchmarks.problems import Problem

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class Cell:
    """One run to do: a method on a problem with a seed, within a budget."""

    method: Method
    problem: Problem
    seed: int
    budget: Budget

    @property
    def key(self) -> Key:
        return (self.method.name, self.problem.name, self.seed)


@dataclass
class SuiteOutcome:
    """What :func:`run_suite` did: cells run, skipped (already done) and failed."""

    suite: str
    ran: list[Key] = field(default_factory=list)
    skipped: list[Key] = field(default_factory=list)
    failed: dict[Key, str] = field(default_factory=dict)
    real_time: float = 0.0


def _worker_init() -> None:
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _portable(method: Method) -> Method | str:
    """The method itself if it pickles, else its name (rebuilt in the worker)."""
    try:
        pickle.dumps(method)
        return method
    except Exception:
        return method.name


def run_cell(method: Method | str, problem: Problem, seed: int, budget: Budget) -> tuple[str, Any, float]:
    """Run one cell; ``("finished", result dict, s)`` or ``("failed", traceback, s)``."""
    started = time.perf_counter()
    try:
        if isinstance(method, str):
            from ._selection import find_method

            method = find_method(problem, method)
        if problem.kind == "real":
            warm_up(problem)
        result = method.run(problem, seed, budget)
        if not isinstance(result, RunResult):
            raise TypeError(f"{method.name}.run returned {type(result).__name__}, not a RunResult")
        if result.key != (method.name, problem.name, seed):
            raise ValueError(f"{method.name} returned a result for {result.key}, not for "
                             f"{(method.name, problem.name, seed)}")
        return "finished", result.to_dict(), time.perf_counter() - started
    except Exception:
        return "failed", traceback.format_exc(), time.perf_counter() - started


def warm_up(problem: Problem) -> None:
    """One untimed first step of the default config of a real problem.

    Imports (scikit-learn, torch), data loading and per-process caches then happen here, not
    inside the first timed evaluation of whichever method a worker process runs first.
    """
    steps = iter(problem.steps(problem.default_config(), 0))
    try:
        next(steps, None)
    finally:
        close = getattr(steps, "close", None)
        if close is not None:
            close()


def _pool(jobs: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    # fork: workers start in milliseconds and inherit the loaded modules; the pool is
    # created before any progress thread exists.
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init)


def run_suite(
    cells: Sequence[Cell],
    store: ResultStore,
    suite: str,
    jobs: int | None = None,
    progress: bool = True,
    on_result: Callable[[Key, str], None] | None = None,
) -> SuiteOutcome:
    """Run the cells of ``suite`` not yet finished in ``store``; store each as it ends.

    ``jobs``: worker processes (default: one per core; 1 runs in this process).
    ``progress``: a rich progress bar on stderr. ``on_result(key, status)`` is called after
    each cell is stored.
    """
    started = time.perf_counter()
    outcome = SuiteOutcome(suite)
    keys = [cell.key for cell in cells]
    if len(set(keys)) != len(keys):
        raise ValueError("the same (method, problem, seed) appears twice in the suite")
    budgets: dict[str, Budget] = {}
    for cell in cells:
        if budgets.setdefault(cell.problem.name, cell.budget) != cell.budget:
            raise ValueError(f"problem {cell.problem.name} has two budgets in one suite")
    store.check_budgets(suite, budgets)
    done = store.done(suite)
    todo = [cell for cell in cells if cell.key not in done]
    outcome.skipped = [cell.key for cell in cells if cell.key in done]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))

    def record(cell: Cell, status: str, payload: Any, seconds: float) -> None:
        if status == "finished":
            store.save(suite, RunResult.from_dict(payload), cell.budget)
            outcome.ran.append(cell.key)
        else:
            store.save_failure(suite, cell.key, cell.budget, payload, seconds)
            outcome.failed[cell.key] = payload
        if on_result is not None:
            on_result(cell.key, status)

    with _Progress(len(cells), len(outcome.skipped), enabled=progress and bool(todo)) as bar:
        if jobs == 1:
            for cell in todo:
                bar.running(cell)
                record(cell, *run_cell(cell.method, cell.problem, cell.seed, cell.budget))
                bar.advance(cell)
        else:
            _run_parallel(todo, jobs, record, bar)
    outcome.real_time = time.perf_counter() - started
    return outcome


def _run_parallel(todo: Iterable[Cell], jobs: int, record: Callable[..., None], bar: _Progress) -> None:
    executor = _pool(jobs)
    try:
        futures: dict[Future, Cell] = {
            executor.submit(run_cell, _portable(cell.method), cell.problem, cell.seed, cell.budget): cell
            for cell in todo
        }
        bar.start()
        for future in as_completed(futures):
            cell = futures[future]
            try:
                status, payload, seconds = future.result()
            except Exception:  # the worker died (killed, out of memory)
                status, payload, seconds = "failed", traceback.format_exc(), 0.0
            record(cell, status, payload, seconds)
            bar.advance(cell)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


class _Progress:
    """A rich progress bar over the cells (on stderr), or nothing."""

    def __init__(self, total: int, completed: int, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None
        self._total, self._completed = total, completed
        self._started = False

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self._bar = Progress(
                TextColumn("[bold]benchmark[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.description}"),
                console=Console(stderr=True), transient=False,
            )
            self._task = self._bar.add_task("", total=self._total, completed=self._completed)
        return self

    def start(self) -> None:
        """Show the bar (after the pool's workers have been forked: rich runs a thread)."""
        if self._bar is not None and not self._started:
            self._bar.start()
            self._started = True

    def running(self, cell: Cell) -> None:
        self.start()
        if self._bar is not None:
            self._bar.update(self._task, description=f"{cell.method.name} {cell.problem.name} seed {cell.seed}")

    def advance(self, cell: Cell) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1,
                             description=f"done: {cell.method.name} {cell.problem.name} seed {cell.seed}")

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None and self._started:
            self._bar.stop()
