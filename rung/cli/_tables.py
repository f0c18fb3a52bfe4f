"""Rich renderings of stored experiments: the experiment list, a summary, the trials table."""

from __future__ import annotations

import json
from typing import Any, Collection

from rich.table import Table
from rich.text import Text

from ..results._columns import END_FIELDS, end_fields, short_reason
from ..results._view import ExperimentView
from ..storage import ExperimentRecord, ExperimentSummary
from ..trial._record import TrialStatus
from ._common import fmt_seconds, fmt_timestamp, fmt_value, json_default

STATUS_STYLES = {"completed": "green", "failed": "red", "stopped": "yellow", "paused": "cyan", "running": "blue"}


def experiments_table(experiments: list[ExperimentSummary], unreadable: Collection[str] = ()) -> Table:
    """One row per experiment: name, status, trials, metric, best value, created; the
    experiments named in ``unreadable`` (a corrupt row) have the status "unreadable"."""
    table = Table(title="experiments", title_justify="left")
    for column, justify in (("name", "left"), ("status", "left"), ("trials", "right"), ("metric", "left"),
                            ("best", "right"), ("created", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for experiment in experiments:
        failed = experiment.trial_counts.get(TrialStatus.FAILED.value, 0)
        trials = f"{experiment.n_trials}" + (f" ({failed} failed)" if failed else "")
        status = experiment.status
        if experiment.stop_reason and status != "running" and experiment.stop_reason != status:
            status += f" ({experiment.stop_reason})"
        if experiment.name in unreadable:
            status = "unreadable (corrupt row)"
        table.add_row(
            experiment.name, status, trials, f"{experiment.metric} ({experiment.mode})",
            fmt_value(experiment.best_value), fmt_timestamp(experiment.created_at),
        )
    return table


def summary_table(experiment: ExperimentRecord, view: ExperimentView) -> Table:
    """Name, status, metric/mode, trial counts by status, best value and config, timings."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    by_status = ", ".join(f"{n} {status}" for status, n in view.counts.items() if n)
    best = view.best_trial
    grid.add_row("experiment", experiment.name)
    grid.add_row("status", experiment.status)
    running = experiment.status == "running"  # a stop reason left from an earlier run means nothing now
    grid.add_row("stop reason", "-" if running else experiment.stop_reason or "-")
    grid.add_row("metric", f"{view.metric} ({view.mode})")
    grid.add_row("trials", f"{view.n_trials}" + (f": {by_status}" if by_status else ""))
    if best is None:
        grid.add_row("best", "- (no trial produced a value yet)")
    else:
        grid.add_row("best", f"{fmt_value(best.metric_value)} (trial {best.trial_id})")
        grid.add_row("best config", Text(json.dumps(dict(best.config), default=json_default)))
    grid.add_row("wall-clock", f"{fmt_seconds(view.wallclock)} (decision time {fmt_seconds(view.decision_time)})")
    grid.add_row("created", fmt_timestamp(experiment.created_at))
    if experiment.workdir:
        grid.add_row("trial files", experiment.workdir)
    return grid


def trials_table(view: ExperimentView, width: int | None = None) -> Table:
    """The view's trials (all in id order, or the best first), with their config, value
    and why they ended.

    Made to fit ``width`` columns (the terminal): one line per trial, nothing wraps, and a
    scheduler's decision is in three short columns (the rung, the trial's value there, the
    threshold it was held to) before the first line of the reason, which gets the room
    left. When even that does not fit, parameters are left out from the last one (the
    title says how many; ``rung trials NAME`` has them all), then the reports and run time.
    """
    trials = view.trials
    best = view.best_trial
    structured = [end_fields(trial) for trial in trials]
    shown = [column for column, _ in END_FIELDS if any(row[column] is not None for row in structured)]

    def column(header: str, cells: list[str]) -> tuple[str, list[str], int]:
        return header, cells, max([len(header)] + [len(c) for c in cells])

    head = [column("trial", [str(t.trial_id) for t in trials]), column("status", [t.status.value for t in trials]),
            column(view.metric, [fmt_value(t.metric_value) for t in trials])]
    extra = [column("reports", [str(t.n_reports) for t in trials]), column("run time", [fmt_seconds(t.run_time) for t in trials])]
    params = [column(name, [fmt_value(t.config.get(name))[:16] for t in trials]) for name in view.parameter_names]
    ends = [column(c.removeprefix("end_"), [fmt_short(row[c]) for row in structured]) for c in shown]
    note_room = 16

    def needed(columns: list[tuple[str, list[str], int]]) -> int:
        return sum(w + 3 for _, _, w in columns) + 1 + note_room

    hidden = 0
    if width is not None:
        while params and needed(head + extra + params + ends) > width:
            params.pop()
            hidden += 1
        if needed(head + extra + params + ends) > width:
            extra = []
    columns = head + extra + params + ends
    title = f"best {len(trials)} trials" if view.ranked else "trials"
    if hidden:
        title += f" ({hidden} parameter(s) not shown for the width: `rung trials NAME` has them all)"
    table = Table(title=title, title_justify="left")
    for i, (header, _, w) in enumerate(columns):
        table.add_column(header, justify="left" if header == "status" and i == 1 else "right", no_wrap=True,
                         min_width=w)
    room = 60 if width is None else max(note_room, min(60, width - needed(columns) + note_room - 3))
    table.add_column("note", no_wrap=True, overflow="ellipsis", max_width=room)  # takes what is left
    for r, trial in enumerate(trials):
        cells: list[Any] = [cells_[r] for _, cells_, _ in columns]
        cells[1] = Text(cells[1], style=STATUS_STYLES.get(cells[1], ""))
        table.add_row(*cells, short_reason(trial),
                      style="bold" if best is not None and trial.trial_id == best.trial_id else None)
    return table


def fmt_short(value: Any) -> str:
    """A value for a narrow column: 4 significant digits for floats."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return fmt_value(value)
