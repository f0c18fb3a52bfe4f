"""Live progress of a tuning run in the terminal (rich), or nothing in quiet mode."""

from __future__ import annotations

import time
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class ProgressView(Protocol):
    def start(self) -> None: ...
    def update(self, done: int, running: int, failed: int, best: float | None, force: bool = False) -> None: ...
    def stop(self, summary: str) -> None: ...


class QuietProgress:
    """Shows nothing (``verbose=0``)."""

    def start(self) -> None:
        pass

    def update(self, done: int, running: int, failed: int, best: float | None, force: bool = False) -> None:
        pass

    def stop(self, summary: str) -> None:
        pass


class RichProgress:
    """A progress bar with done / running / failed counts and the best value so far.

    Updates are throttled (a rich refresh costs far more than a tuner decision) so that
    thousands of tiny trials per second are not slowed down by their own display.
    """

    def __init__(self, total: int | None, metric: str, console: Console | None = None, min_interval: float = 0.1):
        self.console = console or Console(stderr=True)
        self.metric = metric
        self.total = total
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

    def start(self) -> None:
        self._progress.start()

    def update(self, done: int, running: int, failed: int, best: float | None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        self._progress.update(
            self._task,
            completed=done,
            running=running,
            failed=failed,
            best="-" if best is None else f"{best:.6g}",
        )

    def stop(self, summary: str) -> None:
        self._progress.stop()
        self.console.print(summary)
