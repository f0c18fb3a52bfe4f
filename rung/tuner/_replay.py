"""Resume: rebuild a run from an experiment's stored log.

The run state (trials, reports, incumbent) comes from :meth:`RunState.from_log`, the same
code ``rung.load`` uses. The decision layer is rebuilt by replay: it is deterministic given
its seed, so feeding a fresh searcher and scheduler the same calls in the same order
rebuilds their state exactly (random streams included) without pickling anything. Each
stored start asks ``scheduler.suggest()`` again (and checks the same config comes back),
each accepted report goes to ``on_report``, each end to the matching hook.

A trial that the experiment's own stop cut short (``rung stop``, Ctrl-C, ``max_wallclock``:
its end event says ``interrupted``) was not judged: the replay skips that end, so the
scheduler sees it as still running, and the resumed run relaunches it (a "restart", from
its checkpoint), as HyperDrive's ``resume_child_runs`` continues interrupted child runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .._objective import Objective
from ..schedulers import Scheduler, StartTrial
from ..searchers import _prefetch
from ..storage import LogSlice, ReportRecord
from ..trial._record import Trial, TrialStatus
from ._state import RunState


@dataclass
class ReplayedState:
    """What a resuming tuner takes over from the log."""

    state: RunState
    relaunch: list[Trial]
    abandon_pending: dict[int, str]
    elapsed: float
    mismatched: list[int] = field(default_factory=list)
    carried_out: list[Trial] = field(default_factory=list)


def config_key(config: dict[str, Any]) -> str:
    """A canonical form of a config for comparing a replayed suggestion with the stored one."""
    return json.dumps(config, sort_keys=True, default=repr)


def replay(scheduler: Scheduler, objective: Objective, log: LogSlice, elapsed: float = 0.0) -> ReplayedState:
    """Drive ``scheduler`` (bound to a fresh searcher) through the log; return the state."""
    state = RunState.from_log(objective, log)
    stored = state.trials
    live: dict[int, Trial] = {}  # the trials as the scheduler saw them at each point of the log
    mismatched: list[int] = []
    last_action: dict[int, tuple[str, str | None, dict[str, Any]]] = {}
    interrupted: set[int] = set()  # cut short by a stop of the experiment, not relaunched since
    for entry in log.entries:
        if isinstance(entry, ReportRecord):
            _replay_report(scheduler, objective.metric, live, entry)
            if entry.action is not None:
                last_action[entry.trial_id] = (entry.action, entry.reason, entry.details)
            continue
        trial_id, payload = entry.trial_id, entry.payload
        last_action.pop(trial_id, None)
        if entry.kind == "start":
            _prefetch.replay_decisions(scheduler, payload)  # computed-ahead decisions, as logged
            suggestion = scheduler.suggest(True)
            config = stored[trial_id].config
            if not isinstance(suggestion, StartTrial) or config_key(suggestion.config) != config_key(config):
                mismatched.append(trial_id)
            trial = Trial(trial_id=trial_id, config=config, status=TrialStatus.RUNNING, resource=payload.get("resource"))
            live[trial_id] = trial
            scheduler.on_start(trial)
        elif entry.kind in ("resume", "restart"):
            interrupted.discard(trial_id)
            trial = live[trial_id]
            if entry.kind == "resume":
                _prefetch.replay_decisions(scheduler, payload)
                scheduler.suggest(payload.get("allow_new", True))
            trial.status = TrialStatus.RUNNING
            trial.resource = payload.get("resource")
            scheduler.on_start(trial)
        elif entry.kind == "end" and payload.get("interrupted"):
            interrupted.add(trial_id)  # not judged: it goes on when the experiment does
        elif entry.kind == "end":
            _replay_end(scheduler, live[trial_id], payload)
    elapsed = max(elapsed, state.last_time)
    carried_out = _carry_out_last_decisions(scheduler, state, live, last_action, elapsed)
    abandon_pending = {
        trial_id: reason
        for trial_id, reason in scheduler.take_abandoned()
        if trial_id in stored and stored[trial_id].status is TrialStatus.PAUSED  # decided, not yet recorded
    }
    for trial_id in interrupted:
        state.reopen(stored[trial_id])
    relaunch = [t for t in stored.values()
                if (not t.status.is_finished and t.status is not TrialStatus.PAUSED) or t.trial_id in interrupted]
    for trial in relaunch:
        state.running_ids.discard(trial.trial_id)  # not on a worker until relaunched
    return ReplayedState(state, relaunch, abandon_pending, elapsed, mismatched, carried_out)


def _carry_out_last_decisions(scheduler: Scheduler, state: RunState, live: dict[int, Trial],
                              last_action: dict[int, tuple[str, str | None, dict[str, Any]]],
                              elapsed: float) -> list[Trial]:
    """Pauses and stops that were committed but not carried out before the crash.

    A decision is stored before the trial hears it; if the tuner died in between, the
    decision still stands: the trial is paused (or stopped) now instead of being restarted.
    A STOP marked as reaching ``max_resource`` (:meth:`Decision.complete`) completes the
    trial, as it would have without the crash.
    """
    carried_out = []
    for trial_id, (action, reason, details) in last_action.items():
        stored = state.trials[trial_id]
        if action not in ("pause", "stop") or stored.status.is_finished:
            continue
        if action == "pause":
            status = TrialStatus.PAUSED
        else:
            status = TrialStatus.COMPLETED if details.get("completed") else TrialStatus.STOPPED
        for trial in (stored, live[trial_id]):
            trial.status = status
            trial.end_reason = reason or f"{action} decided before the tuner stopped"
        state.running_ids.discard(trial_id)
        if status is TrialStatus.PAUSED:
            scheduler.on_pause(live[trial_id])
        elif status is TrialStatus.COMPLETED:
            scheduler.on_complete(live[trial_id], live[trial_id].last_metrics)
            state.close_trial(stored, elapsed)
        else:
            scheduler.on_stop(live[trial_id])
            state.close_trial(stored, elapsed)
        carried_out.append(stored)
    return carried_out


def _replay_report(scheduler: Scheduler, metric: str, live: dict[int, Trial], row: ReportRecord) -> None:
    trial = live.get(row.trial_id)
    if trial is None:
        return
    trial.n_reports = row.step
    trial.last_metrics = row.metrics
    trial.metric_value = float(row.metrics[metric])
    if row.action is None:
        return  # a returned final value: the scheduler never decided on it
    scheduler.on_report(trial, row.metrics)


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
