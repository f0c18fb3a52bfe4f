"""``rung.load``: the result of a stored experiment, as ``Tuner.run`` returned it.

The trials, reports and incumbent come from :meth:`rung.tuner.RunState.from_log`, the
same code that keeps the live run's state and rebuilds it on resume.
"""

from __future__ import annotations

import os

from .._objective import Objective
from ..space import Space
from ..storage import Storage, open_storage
from ._result import TuningResult


def load(name: str, storage: "str | os.PathLike[str] | Storage | None" = None) -> TuningResult:
    """The result of experiment ``name`` from the store, as :meth:`rung.Tuner.run` returns it."""
    from ..tuner._state import RunState  # the tuner package imports this one

    store = open_storage(storage)
    try:
        experiment = store.require_experiment(name)
        log = store.read_log(experiment.id)
        state = RunState.from_log(Objective(experiment.metric, experiment.mode), log)
    finally:
        if store is not storage:
            store.dispose()
    status = experiment.status
    stop_reason = experiment.stop_reason or ("running" if status == "running" else status)
    return TuningResult(
        experiment=name,
        metric=experiment.metric,
        mode=experiment.mode,
        trial_records=list(state.trials.values()),
        report_records=state.reports,
        trajectory_points=state.trajectory,
        stop_reason=stop_reason,
        wallclock=max(experiment.elapsed or 0.0, state.last_time),
        decision_time=experiment.decision_time or 0.0,
        parameter_names=list(Space.from_dict(experiment.space).names),
        workdir=experiment.workdir,
        status=status,
        decision_rungs=set(state.decision_rungs),
        log_entries=log.entries,
        space=dict(experiment.space),
    )
