"""Warm start: teach a searcher the finished trials of earlier experiments.

Only configs that the new space accepts are used. Parameters the new space no longer has
are removed (and listed); a config that the new space refuses (a value out of range, a
missing parameter) is dropped with the reason. Nothing is silently mixed in.
"""

from __future__ import annotations

from typing import Any, Sequence

from .._objective import Objective
from ..searchers import Searcher
from ..space import Space, SpaceError
from ..storage import Storage, StorageError
from ..trial._record import TrialStatus
from ._state import RunState


def warm_start(searcher: Searcher, space: Space, metric: str, store: Storage, names: Sequence[str]) -> dict[str, Any]:
    """Feed the completed trials of experiments ``names`` to ``searcher.observe``.

    The trials are those :class:`RunState` rebuilds from each stored log (their metrics are
    those of their last report). Returns ``{"used": n, "dropped": [{experiment, trial_id,
    reason}], "removed_parameters": {experiment: [names]}}``.
    """
    used = 0
    dropped: list[dict[str, Any]] = []
    removed: dict[str, list[str]] = {}
    for name in names:
        other = store.require_experiment(name)
        if other.metric != metric:
            raise StorageError(f"warm_start experiment {name!r} optimizes {other.metric!r}, not {metric!r}")
        state = RunState.from_log(Objective(other.metric, other.mode), store.read_log(other.id))
        trials = list(state.trials.values())
        gone = sorted({key for t in trials for key in t.config} - set(space.names))
        if gone:
            removed[name] = gone
        for trial in trials:
            if trial.status is not TrialStatus.COMPLETED or trial.metric_value is None:
                continue
            config = {k: v for k, v in trial.config.items() if k in space.names}
            try:
                config = space.validate(config)
            except SpaceError as err:
                dropped.append({"experiment": name, "trial_id": trial.trial_id, "reason": str(err)})
                continue
            searcher.observe(config, trial.last_metrics)
            used += 1
    return {"used": used, "dropped": dropped, "removed_parameters": removed}
