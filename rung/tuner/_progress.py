"""Live progress of a tuning run in the terminal (rich): a callback like any other."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ._callbacks import Callback

if TYPE_CHECKING:
    from ..results import TuningResult
    from ..trial import Trial
    from ._state import RunState


class RichProgress(Callback):
    """A progress bar with done / running / failed counts and the best value so far.

    Updates are throttled (a rich refresh costs far more than a tuner decision) so that
    thousands of tiny trials per second are not slowed down by their own display. At the
    end it prints ``summary(result)``.
    """

    def __init__(self, total: int | None, metric: str, summary: Callable[["TuningResult"], str],
                 console: Console | None = None, min_interval: float = 0.1) -> None:
        self.console = console or Console(stderr=True)
        self.metric = metric
        self.total = total
        self.summary = summary
        self.min_interval = min_interval
        self._last = 0.0
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]trials"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("running [cyan]{task.fields[running]}[/]"),
            TextColumn("failed [red]{task.fields[failed]}[/]"),
            TextColumn("best {task.fields[metric]} [green]{task.fields[best]}[/]"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._task = self._progress.add_task("trials", total=total, running=0, failed=0, best="-", metric=metric)

    def on_experiment_start(self, state: "RunState") -> None:
        self._progress.start()
        self._update(state, force=True)

    def on_trial_start(self, state: "RunState", trial: "Trial", kind: str) -> None:
        self._update(state)

    def on_trial_end(self, state: "RunState", trial: "Trial") -> None:
        self._update(state)

    def on_experiment_end(self, state: "RunState", result: "TuningResult") -> None:
        self._update(state, force=True)
        self._progress.stop()
        self.console.print(self.summary(result))

    def _update(self, state: "RunState", force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        best = state.best_value
        self._progress.update(
            self._task,
            completed=state.n_finished,
            running=state.n_running,
            failed=state.n_failed,
            best="-" if best is None else f"{best:.6g}",
        )
