"""Rebuild trials, reports and the incumbent trajectory from a stored experiment log.

Used by ``rung.load`` (read-only results) and by a resuming tuner (which also replays the
log through its searcher and scheduler).
"""

from __future__ import annotations

import math
import os
from typing import Any

from ._result import TrajectoryPoint, TuningResult
from ..trial._record import Report, Trial, TrialStatus
from ..space import Space
from ..storage import Storage


def trials_from_rows(trial_rows: list[dict], report_rows: list[dict], metric: str) -> tuple[dict[int, Trial], list[Report]]:
    """Trial records as stored, with report-derived fields recomputed from the reports.

    The reports are the authority: a trial that was running when its tuner died has its
    accepted reports in the store even though its row was last written at its start.
    """
    trials: dict[int, Trial] = {}
    for row in trial_rows:
        trials[row["trial_id"]] = Trial(
            trial_id=row["trial_id"],
            config=row["config"],
            status=TrialStatus(row["status"]),
            created_at=row["created_at"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
            run_time=row["run_time"] or 0.0,
            n_starts=row["n_starts"] or 0,
            resource=row["resource"],
            end_reason=row["end_reason"],
            error=row["error"],
            traceback=row["traceback"],
        )
    reports = []
    for row in report_rows:
        trial = trials.get(row["trial_id"])
        if trial is None:
            continue
        reports.append(Report(row["trial_id"], row["step"], row["time"], row["metrics"]))
        trial.n_reports = row["step"]
        trial.last_metrics = row["metrics"]
        value = row["metrics"].get(metric)
        trial.metric_value = None if value is None else float(value)
    return trials, reports


def trajectory_from(trials: dict[int, Trial], events: list[dict], mode: str) -> list[TrajectoryPoint]:
    """The incumbent each time a trial ended for good, in log order."""
    points: list[TrajectoryPoint] = []
    best: float | None = None
    for event in events:
        if event["kind"] != "end" or event["payload"].get("status") in ("paused", "failed"):
            continue
        trial = trials.get(event["trial_id"])
        if trial is None or trial.metric_value is None or not math.isfinite(trial.metric_value):
            continue
        value = trial.metric_value
        if best is None or (value < best if mode == "min" else value > best):
            best = value
            points.append(TrajectoryPoint(event["time"], value, trial.trial_id))
    return points


def load(name: str, storage: "str | os.PathLike | Storage | None" = None) -> TuningResult:
    """The result of experiment ``name`` from the store, as :meth:`rung.Tuner.run` returns it."""
    store = storage if isinstance(storage, Storage) else Storage(storage)
    experiment = store.require_experiment(name)
    trial_rows, report_rows, events = store.load_log(experiment["id"])
    trials, reports = trials_from_rows(trial_rows, report_rows, experiment["metric"])
    last_time = max([e["time"] for e in events] + [r.time for r in reports] + [0.0])
    status = experiment["status"]
    stop_reason = experiment["stop_reason"] or ("running" if status == "running" else status)
    return TuningResult(
        experiment=name,
        metric=experiment["metric"],
        mode=experiment["mode"],
        trial_records=list(trials.values()),
        report_records=reports,
        trajectory_points=trajectory_from(trials, events, experiment["mode"]),
        stop_reason=stop_reason,
        wallclock=max(experiment["elapsed"] or 0.0, last_time),
        decision_time=experiment["decision_time"] or 0.0,
        parameter_names=list(Space.from_dict(experiment["space"]).names),
        workdir=experiment["workdir"],
        status=status,
        decision_rungs={float(r["details"]["rung"]) for r in report_rows
                        if r["details"] and isinstance(r["details"].get("rung"), (int, float))},
    )


def config_key(config: dict[str, Any]) -> str:
    """A canonical form of a config for comparing a replayed suggestion with the stored one."""
    import json

    return json.dumps(config, sort_keys=True, default=repr)
