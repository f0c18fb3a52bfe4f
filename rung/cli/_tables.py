"""Rich renderings of stored experiments: the experiment list, a summary, the trials table."""

from __future__ import annotations

import json
from typing import Any, Collection

from rich.table import Table
from rich.text import Text

from .._objective import Objective, check_mode
from ..results._result import TuningResult
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
        if experiment.stop_reason and status != "running":
            status += f" ({experiment.stop_reason})"
        if experiment.name in unreadable:
            status = "unreadable (corrupt row)"
        table.add_row(
            experiment.name, status, trials, f"{experiment.metric} ({experiment.mode})",
            fmt_value(experiment.best_value), fmt_timestamp(experiment.created_at),
        )
    return table


def summary_table(experiment: ExperimentRecord, result: TuningResult) -> Table:
    """Name, status, metric/mode, trial counts by status, best value and config, timings."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    counts = {status.value: result.count(status) for status in TrialStatus}
    by_status = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    best = result.best_trial
    grid.add_row("experiment", experiment.name)
    grid.add_row("status", experiment.status)
    running = experiment.status == "running"  # a stop reason left from an earlier run means nothing now
    grid.add_row("stop reason", "-" if running else experiment.stop_reason or "-")
    grid.add_row("metric", f"{result.metric} ({result.mode})")
    grid.add_row("trials", f"{len(result.trial_records)}" + (f": {by_status}" if by_status else ""))
    if best is None:
        grid.add_row("best", "- (no trial produced a value yet)")
    else:
        grid.add_row("best", f"{fmt_value(best.metric_value)} (trial {best.trial_id})")
        grid.add_row("best config", Text(json.dumps(result.best_config, default=json_default)))
    grid.add_row("wall-clock", f"{fmt_seconds(result.wallclock)} (decision time {fmt_seconds(result.decision_time)})")
    grid.add_row("created", fmt_timestamp(experiment.created_at))
    if experiment.workdir:
        grid.add_row("trial files", experiment.workdir)
    return grid


def trials_table(result: TuningResult, top: int | None = None) -> Table:
    """Trials in id order (or the ``top`` best), with their config, value and why they ended."""
    trials = list(result.trial_records)
    if top is not None:
        valued = [t for t in trials if t.metric_value is not None and t.status is not TrialStatus.FAILED]
        objective = Objective(result.metric, check_mode(result.mode))
        trials = objective.ranked(valued, lambda t: t.metric_value)[:top]
    best = result.best_trial
    table = Table(title="trials" if top is None else f"best {len(trials)} trials", title_justify="left")
    table.add_column("trial", justify="right")
    table.add_column("status")
    table.add_column(result.metric, justify="right")
    table.add_column("reports", justify="right")
    table.add_column("run time", justify="right")
    for name in result.parameter_names:
        table.add_column(name, justify="right")
    table.add_column("note", overflow="ellipsis", max_width=60)
    for trial in trials:
        status = trial.status.value
        note = trial.error or trial.end_reason or ""
        table.add_row(
            str(trial.trial_id),
            Text(status, style=STATUS_STYLES.get(status, "")),
            fmt_value(trial.metric_value),
            str(trial.n_reports),
            fmt_seconds(trial.run_time),
            *[fmt_value(trial.config.get(name)) for name in result.parameter_names],
            note.splitlines()[0] if note else "",
            style="bold" if best is not None and trial.trial_id == best.trial_id else None,
        )
    return table
