"""Warm start: teach a searcher the finished trials of earlier experiments.

Only configs that the new space accepts are used. Parameters the new space no longer has
are removed (and listed); a config that the new space refuses (a value out of range, a
missing parameter) is dropped with the reason. Nothing is silently mixed in.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..searchers import Searcher
from ..space import Space, SpaceError
from ..storage import ReportRecord, Storage, StorageError
from ..trial._record import TrialStatus


def warm_start(searcher: Searcher, space: Space, metric: str, store: Storage, names: Sequence[str]) -> dict[str, Any]:
    """Feed the completed trials of experiments ``names`` to ``searcher.observe``.

    A trial's metrics are those of its last stored report (the reports are the authority;
    a trial without reports has no value and is skipped). Returns ``{"used": n, "dropped":
    [{experiment, trial_id, reason}], "removed_parameters": {experiment: [names]}}``.
    """
    used = 0
    dropped: list[dict[str, Any]] = []
    removed: dict[str, list[str]] = {}
    for name in names:
        other = store.require_experiment(name)
        if other.metric != metric:
            raise StorageError(f"warm_start experiment {name!r} optimizes {other.metric!r}, not {metric!r}")
        log = store.read_log(other.id)
        last_report: dict[int, ReportRecord] = {}
        for entry in log.reports:  # seq order: the last one per trial wins
            last_report[entry.trial_id] = entry
        gone = sorted({key for t in log.trials for key in t.config} - set(space.names))
        if gone:
            removed[name] = gone
        for trial in log.trials:
            report = last_report.get(trial.trial_id)
            if trial.status != TrialStatus.COMPLETED.value or report is None or report.metrics.get(other.metric) is None:
                continue
            config = {k: v for k, v in trial.config.items() if k in space.names}
            try:
                config = space.validate(config)
            except SpaceError as err:
                dropped.append({"experiment": name, "trial_id": trial.trial_id, "reason": str(err)})
                continue
            searcher.observe(config, report.metrics)
            used += 1
    return {"used": used, "dropped": dropped, "removed_parameters": removed}
