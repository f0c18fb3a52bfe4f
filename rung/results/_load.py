"""``rung.load``: the result of a stored experiment, as ``Tuner.run`` returned it.

The trials, reports and incumbent come from :meth:`rung.tuner.RunState.from_log`, the
same code that keeps the live run's state and rebuilds it on resume.

The store is read once, in one snapshot (:meth:`Storage.read_log_deferred`). The trials,
their reports and the decision levels are rebuilt at once from the trial rows and the
reports, which is all they depend on; the trial events (two or more per trial, most of a
large log) are decoded only when the incumbent's trajectory or the log entries are first
asked for, and then replayed with the reports through the same ``RunState``. With 100,000
trials that halves what ``rung.load`` decodes and replays.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Any, Iterator

from .._objective import Objective
from ..space import Space
from ..storage import DeferredLog, Storage, open_storage
from ._result import TrajectoryPoint, TuningResult

_PENDING: Any = object()  # a field not built yet


@contextmanager
def _without_gc_passes() -> Iterator[None]:
    """Hold the cyclic garbage collector off while a large log becomes records.

    Reading 100,000 trials makes a million containers (rows, dicts, records) that all live
    on; each few hundred new ones start a collection that walks the young ones again and,
    every so often, everything alive: about a quarter of ``rung.load``'s time, freeing
    nothing. Reference counting still frees everything at once; cycles wait for the next
    collection after the block. The collector's state is restored as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class StoredResult(TuningResult):
    """A :class:`TuningResult` read from a store, whose ``trajectory_points`` and
    ``log_entries`` are built from the stored events on first access.

    Everything else is as for any result; a copy or a pickle is a plain
    :class:`TuningResult` with everything built.
    """

    def __init__(self, *args: Any, deferred: DeferredLog | None = None, objective: Objective | None = None,
                 **fields: Any) -> None:
        self._deferred, self._objective = deferred, objective
        super().__init__(*args, **fields)

    _trajectory_points: list[TrajectoryPoint]
    _log_entries: list[Any] | None

    def _build_from_events(self) -> None:
        from ..tuner._state import RunState  # the tuner package imports this one

        assert self._deferred is not None and self._objective is not None
        with _without_gc_passes():
            whole = self._deferred.whole()
            state = RunState.from_log(self._objective, whole)
        self._trajectory_points, self._log_entries = state.trajectory, whole.entries
        self._deferred = None

    @property
    def trajectory_points(self) -> list[TrajectoryPoint]:
        if self._trajectory_points is _PENDING:
            self._build_from_events()
        return self._trajectory_points

    @trajectory_points.setter
    def trajectory_points(self, value: list[TrajectoryPoint]) -> None:
        self._trajectory_points = value

    @property
    def log_entries(self) -> list[Any] | None:
        if self._log_entries is _PENDING:
            self._build_from_events()
        return self._log_entries

    @log_entries.setter
    def log_entries(self, value: list[Any] | None) -> None:
        self._log_entries = value

    def __reduce__(self) -> tuple[Any, ...]:
        from dataclasses import fields

        return _plain, ({f.name: getattr(self, f.name) for f in fields(self)},)


def _plain(values: dict[str, Any]) -> TuningResult:
    return TuningResult(**values)


def load(name: str, storage: "str | os.PathLike[str] | Storage | None" = None) -> TuningResult:
    """The result of experiment ``name`` from the store, as :meth:`rung.Tuner.run` returns it."""
    from ..tuner._state import RunState  # the tuner package imports this one

    store = open_storage(storage)
    try:
        experiment = store.require_experiment(name)
        with _without_gc_passes():
            log = store.read_log_deferred(experiment.id)
    finally:
        if store is not storage:
            store.dispose()
    objective = Objective(experiment.metric, experiment.mode)
    # Trials, reports and decision levels depend on the rows and the reports only.
    with _without_gc_passes():
        state = RunState.from_log(objective, log.outcomes)
    status = experiment.status
    stop_reason = experiment.stop_reason or ("running" if status == "running" else status)
    return StoredResult(
        experiment=name,
        metric=experiment.metric,
        mode=experiment.mode,
        trial_records=list(state.trials.values()),
        report_records=state.reports,
        trajectory_points=_PENDING,
        stop_reason=stop_reason,
        wallclock=max(experiment.elapsed or 0.0, log.last_time),
        decision_time=experiment.decision_time or 0.0,
        parameter_names=list(Space.from_dict(experiment.space).names),
        workdir=experiment.workdir,
        status=status,
        decision_rungs=set(state.decision_rungs),
        log_entries=_PENDING,
        space=dict(experiment.space),
        deferred=log,
        objective=objective,
    )
