"""Live progress of a tuning run on the console: a callback like any other.

On a terminal it is a rich progress bar: trials ended of the total, then the counts by
status (completed, stopped, paused, failed, running) and the best value so far; its last
frame is drawn from the final state, so it never shows a trial still running after the
end. Anywhere else (a log file, CI, a pipe) it prints plain lines instead, one when the
run starts, one every ``plain_interval`` seconds while trials end, and one at the end, each
on one line (never wrapped mid-phrase). :meth:`RichProgress.announce` prints a line at once,
before worker processes have started, so the first seconds of a run are not silent.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..trial._record import TrialStatus
from ._callbacks import Callback

if TYPE_CHECKING:
    from ..results import TuningResult
    from ..trial import Trial
    from ._state import RunState

#: The statuses shown, in this order, with their colours on a terminal.
_SHOWN = (
    (TrialStatus.COMPLETED, "green"),
    (TrialStatus.STOPPED, "yellow"),
    (TrialStatus.PAUSED, "blue"),
    (TrialStatus.FAILED, "red"),
    (TrialStatus.RUNNING, "cyan"),
)


def status_counts(state: "RunState") -> dict[TrialStatus, int]:
    """How many trials of ``state`` are in each status (running ones from the running set)."""
    counts = Counter(trial.status for trial in state.trials.values())
    counts[TrialStatus.RUNNING] = state.n_running
    return {status: counts.get(status, 0) for status, _ in _SHOWN}


def counts_text(counts: dict[TrialStatus, int], markup: bool) -> str:
    """``"3 completed, 1 stopped, 0 paused, 0 failed, 2 running"``; with ``markup`` (the
    terminal bar, which must fit a narrow window) coloured and only the non-zero counts."""
    parts = []
    for status, colour in _SHOWN:
        n = counts.get(status, 0)
        if not markup:
            parts.append(f"{n} {status.value}")
        elif n:
            parts.append(f"[{colour}]{n} {status.value}[/]")
    return ", ".join(parts) if not markup else " ".join(parts) or "starting"


def _format_best(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


class RichProgress(Callback):
    """The progress of one run (see the module docstring).

    Updates are throttled (a rich refresh costs far more than a tuner decision) so that
    thousands of tiny trials per second are not slowed down by their own display. At the
    end it prints ``summary(result)``.
    """

    def __init__(self, total: int | None, metric: str, summary: Callable[["TuningResult"], str],
                 console: Console | None = None, min_interval: float = 0.1,
                 plain_interval: float = 10.0) -> None:
        self.console = console or Console(stderr=True)
        self.metric = metric
        self.total = total
        self.summary = summary
        self.min_interval = min_interval
        self.plain_interval = plain_interval
        #: Whether the console is a terminal or a notebook (a live bar) or not (plain lines).
        self.live = (bool(self.console.is_terminal) and not self.console.is_dumb_terminal) or self.console.is_jupyter
        self._last = 0.0
        self._started = time.monotonic()
        self._progress: Progress | None = None
        if self.live:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]trials"),
                BarColumn(bar_width=16),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TextColumn("best [green]{task.fields[best]}[/]"),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._task = self._progress.add_task(
                "trials", total=total, counts=counts_text({}, True), best="-", metric=metric
            )

    # -- output -------------------------------------------------------------------------------
    def _line(self, text: str) -> None:
        """One plain line, never wrapped (a log keeps it whole)."""
        self.console.print(text, soft_wrap=True, markup=False, highlight=False)

    def announce(self, text: str) -> None:
        """Print ``text`` now (e.g. before the workers have started)."""
        if self.live:
            self.console.print(text, soft_wrap=True, highlight=False)
        else:
            self._line(text)

    def _plain_status(self, state: "RunState", prefix: str = "") -> str:
        total = "" if self.total is None else f"/{self.total}"
        elapsed = time.monotonic() - self._started
        return (
            f"{prefix}trials {state.n_finished}{total} ended: {counts_text(status_counts(state), False)}; "
            f"best {self.metric} {_format_best(state.best_value)}; {elapsed:.1f} s"
        )

    # -- callbacks ------------------------------------------------------------------------------
    def on_experiment_start(self, state: "RunState") -> None:
        self._started = time.monotonic()
        if self._progress is not None:
            self._progress.start()
        else:
            self._line(self._plain_status(state, "started: "))
        self._last = time.monotonic()
        self._update(state, force=self.live)

    def on_trial_start(self, state: "RunState", trial: "Trial", kind: str) -> None:
        self._update(state)

    def on_trial_end(self, state: "RunState", trial: "Trial") -> None:
        self._update(state)

    def on_experiment_end(self, state: "RunState", result: "TuningResult") -> None:
        if self._progress is not None:
            self._update(state, force=True)  # the last frame is the final state
            self._progress.refresh()
            self._progress.stop()
            self.console.print(self.summary(result), soft_wrap=True)
        else:
            self._line(self._plain_status(state, "finished: "))
            self.console.print(self.summary(result), soft_wrap=True, highlight=False)

    def _update(self, state: "RunState", force: bool = False) -> None:
        now = time.monotonic()
        interval = self.min_interval if self.live else self.plain_interval
        if not force and now - self._last < interval:
            return
        self._last = now
        if self._progress is None:
            self._line(self._plain_status(state))
            return
        self._progress.update(
            self._task,
            completed=state.n_finished,
            counts=counts_text(status_counts(state), True),
            best=_format_best(state.best_value),
        )
