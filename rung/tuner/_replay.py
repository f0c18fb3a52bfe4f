"""Resume: rebuild a tuner's state from an experiment's stored log.

The decision layer is deterministic given its seed, so feeding a fresh searcher and
scheduler the same calls in the same order rebuilds their state exactly (random streams
included) without pickling anything: each stored start asks ``scheduler.suggest()`` again
(and checks the same config comes back), each accepted report goes to ``on_report``, each
end to the matching hook.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

from ..results import _load as _history
from ..results._result import TrajectoryPoint
from ..trial._record import Report, Trial, TrialStatus
from ..schedulers import Scheduler, StartTrial


@dataclass
class ReplayedState:
    """What a resuming tuner takes over from the log."""

    trials: dict[int, Trial]
    reports: list[Report]
    trajectory: list[TrajectoryPoint]
    relaunch: list[Trial]
    abandon_pending: dict[int, str]
    decision_rungs: set[float]
    next_seq: int
    elapsed: float
    mismatched: list[int] = field(default_factory=list)
    carried_out: list[Trial] = field(default_factory=list)

    @property
    def n_failed(self) -> int:
        return sum(1 for trial in self.trials.values() if trial.status is TrialStatus.FAILED)

    @property
    def n_finished(self) -> int:
        return sum(1 for trial in self.trials.values() if trial.status.is_finished)


def replay(scheduler: Scheduler, metric: str, mode: str, trial_rows: list[dict], report_rows: list[dict],
           events: list[dict], elapsed: float = 0.0) -> ReplayedState:
    """Drive ``scheduler`` (bound to a fresh searcher) through the log; return the state."""
    stored, reports = _history.trials_from_rows(trial_rows, report_rows, metric)
    live: dict[int, Trial] = {}
    mismatched: list[int] = []
    decision_rungs: set[float] = set()
    log = sorted([(e["seq"], "event", e) for e in events] + [(r["seq"], "report", r) for r in report_rows],
                 key=lambda item: item[0])
    last_action: dict[int, tuple[str, str | None]] = {}
    for _, kind, item in log:
        if kind == "report":
            _replay_report(scheduler, metric, live, item, decision_rungs)
            if item["action"] is not None:
                last_action[item["trial_id"]] = (item["action"], item["reason"])
            continue
        trial_id, payload = item["trial_id"], item["payload"]
        last_action.pop(trial_id, None)
        if item["kind"] == "start":
            suggestion = scheduler.suggest(True)
            config = stored[trial_id].config
            if not isinstance(suggestion, StartTrial) or (
                _history.config_key(suggestion.config) != _history.config_key(config)
            ):
                mismatched.append(trial_id)
            trial = Trial(trial_id=trial_id, config=config, status=TrialStatus.RUNNING, resource=payload.get("resource"))
            live[trial_id] = trial
            scheduler.on_start(trial)
        elif item["kind"] in ("resume", "restart"):
            trial = live[trial_id]
            if item["kind"] == "resume":
                scheduler.suggest(payload.get("allow_new", True))
            trial.status = TrialStatus.RUNNING
            trial.resource = payload.get("resource")
            scheduler.on_start(trial)
        elif item["kind"] == "end":
            _replay_end(scheduler, live[trial_id], payload)
    carried_out = _carry_out_last_decisions(scheduler, stored, live, last_action)
    abandon_pending = {
        trial_id: reason
        for trial_id, reason in scheduler.take_abandoned()
        if trial_id in stored and stored[trial_id].status is TrialStatus.PAUSED  # decided, not yet recorded
    }
    relaunch = [t for t in stored.values() if not t.status.is_finished and t.status is not TrialStatus.PAUSED]
    trajectory = _history.trajectory_from(stored, events, mode)
    last_seq = max([e["seq"] for e in events] + [r["seq"] for r in report_rows] + [-1])
    elapsed = max([elapsed] + [e["time"] for e in events] + [r.time for r in reports])
    return ReplayedState(stored, reports, trajectory, relaunch, abandon_pending, decision_rungs,
                         last_seq + 1, elapsed, mismatched, carried_out)


def _carry_out_last_decisions(scheduler: Scheduler, stored: dict[int, Trial], live: dict[int, Trial],
                              last_action: dict[int, tuple[str, str | None]]) -> list[Trial]:
    """Pauses and stops that were committed but not carried out before the crash.

    A decision is stored before the trial hears it; if the tuner died in between, the
    decision still stands: the trial is paused (or stopped) now instead of being restarted.
    """
    carried_out = []
    for trial_id, (action, reason) in last_action.items():
        if action not in ("pause", "stop") or stored[trial_id].status.is_finished:
            continue
        status = TrialStatus.PAUSED if action == "pause" else TrialStatus.STOPPED
        for trial in (stored[trial_id], live[trial_id]):
            trial.status = status
            trial.end_reason = reason or f"{action} decided before the tuner stopped"
        if status is TrialStatus.PAUSED:
            scheduler.on_pause(live[trial_id])
        else:
            scheduler.on_stop(live[trial_id])
        carried_out.append(stored[trial_id])
    return carried_out


def _replay_report(scheduler: Scheduler, metric: str, live: dict[int, Trial], row: dict[str, Any],
                   decision_rungs: set[float]) -> None:
    trial = live.get(row["trial_id"])
    if trial is None:
        return
    trial.n_reports = row["step"]
    trial.last_metrics = row["metrics"]
    trial.metric_value = float(row["metrics"][metric])
    if row["action"] is None:
        return  # a returned final value: the scheduler never decided on it
    scheduler.on_report(trial, row["metrics"])
    level = (row["details"] or {}).get("rung")
    if isinstance(level, numbers.Real):
        decision_rungs.add(float(level))


def _replay_end(scheduler: Scheduler, trial: Trial, payload: dict[str, Any]) -> None:
    trial.status = TrialStatus(payload["status"])
    if payload.get("abandoned"):
        return  # the scheduler abandons it again by itself during the replay
    if trial.status is TrialStatus.PAUSED:
        scheduler.on_pause(trial)
    elif trial.status is TrialStatus.COMPLETED:
        scheduler.on_complete(trial, trial.last_metrics)
    elif trial.status is TrialStatus.STOPPED:
        scheduler.on_stop(trial)
    else:
        scheduler.on_fail(trial)
