"""Warm start: teach a searcher the trials of earlier experiments, and try their best first.

Every parent trial with a value is fed to the searcher as the live run fed it: its reports
(``observe_partial``, which multi-fidelity searchers read per rung level) and then its last
result (``observe_prior``), whether it completed or was stopped or paused by a scheduler; failed
ones go to ``on_failed``. Parameters the new space no longer has are removed (and listed).
A parameter the parents did not have (one added to the space) does not drop them: a
constant is filled in, a tunable one is imputed at the middle of its domain (the searchers
have no "unknown" input) and the summary says so. A config the new space refuses (a value
out of range) is dropped with the reason. Nothing is silently mixed in.

Why warm-started searchers avoided the known-good region. Fed only the parents, a
model-based searcher measured improvement against the parents' incumbent, and where the
parents were dense its model took their values as exact: no variance left there, nothing
to improve (the GP even drops such candidates as uninformative), while the unexplored rest
of the space, whose prior is the mean of what it saw (all good), looked as promising. So
every suggestion left the good region: warm-started from 14 good parents, the GP's own best
was 0.30 against 0.0003 cold (6 of 6 seeds).

Two changes. The parents' results reach the searcher through ``observe_prior``: the GP
fits them with extra observation noise (``PRIOR_NOISE``: they are another experiment's
measurements), so the region they found keeps some uncertainty worth exploiting. And the
new experiment first re-measures the best parent config (the objective may have changed
since), so its own incumbent starts where the parents ended. Numbers:
``python -m benchmarks.warm_start`` (benchmarks/RESULTS.md, issue 13). A space-filling
design of the part of the space the parents left out was tried as well and made things
worse (3 of 6 and 1 of 6 seeds at least as good as cold, against 6 and 5 without it).
"""

from __future__ import annotations

import collections
import math
from typing import Any, Sequence

from .._objective import Objective
from ..searchers import Searcher
from ..space import Constant, Space, SpaceError
from ..storage import Storage, StorageError
from ..trial._record import TrialStatus
from ._state import RunState


def warm_start(searcher: Searcher, space: Space, objective: Objective, store: Storage,
               names: Sequence[str]) -> dict[str, Any]:
    """Feed the trials of experiments ``names`` to ``searcher`` and queue the best config.

    Returns ``{"used": n, "by_status": {status: n}, "dropped": [{experiment, trial_id,
    reason}], "removed_parameters": {experiment: [names]}, "imputed_parameters":
    {experiment: {name: value}}, "best_parent": {experiment, trial_id, value, config} or
    None}``.
    """
    used = 0
    by_status: collections.Counter[str] = collections.Counter()
    dropped: list[dict[str, Any]] = []
    removed: dict[str, list[str]] = {}
    imputed: dict[str, dict[str, Any]] = {}
    best: dict[str, Any] | None = None
    for name in names:
        other = store.require_experiment(name)
        if other.metric != objective.metric:
            raise StorageError(f"warm_start experiment {name!r} optimizes {other.metric!r}, not {objective.metric!r}")
        state = RunState.from_log(Objective(other.metric, other.mode), store.read_log(other.id))
        trials = list(state.trials.values())
        gone = sorted({key for t in trials for key in t.config} - set(space.names))
        if gone:
            removed[name] = gone
        missing = _added_parameters(space, trials)
        if missing:
            imputed[name] = missing
        reports = collections.defaultdict(list)
        for report in state.reports:
            reports[report.trial_id].append(report.metrics)
        for trial in trials:
            if trial.status is TrialStatus.RUNNING or (trial.metric_value is None and trial.status is not TrialStatus.FAILED):
                dropped.append({"experiment": name, "trial_id": trial.trial_id,
                                "reason": f"{trial.status.value} without a value"})
                continue
            config = {k: v for k, v in trial.config.items() if k in space.names}
            config.update({k: v for k, v in missing.items() if k not in config})
            try:
                config = space.validate(config)
            except SpaceError as err:
                dropped.append({"experiment": name, "trial_id": trial.trial_id, "reason": str(err)})
                continue
            if trial.status is TrialStatus.FAILED:
                searcher.on_failed(config)
            else:
                for metrics in reports.get(trial.trial_id, ()):  # as the live scheduler passed them on
                    if objective.metric in metrics:
                        searcher.observe_partial(config, metrics)
                searcher.observe_prior(config, trial.last_metrics)
                value = trial.metric_value
                if value is not None and math.isfinite(value) and (best is None or objective.better(value, best["value"])):
                    best = {"experiment": name, "trial_id": trial.trial_id, "value": value, "config": config}
            used += 1
            by_status[trial.status.value] += 1
    if best is not None:
        _try_first(searcher, [best["config"]])
    return {"used": used, "by_status": dict(by_status), "dropped": dropped, "removed_parameters": removed,
            "imputed_parameters": imputed, "best_parent": best}


def _added_parameters(space: Space, trials: list[Any]) -> dict[str, Any]:
    """Values for the space's parameters that no parent trial has: constants as they are,
    tunable ones at the middle of their domain. Conditional parameters are left to
    validation (inactive ones need no value)."""
    seen = {key for t in trials for key in t.config}
    if not trials:
        return {}
    values: dict[str, Any] = {}
    for name in space.names:
        if name in seen:
            continue
        domain = space[name]
        if getattr(domain, "conditions", ()):
            continue
        values[name] = domain.value if isinstance(domain, Constant) else domain.from_unit(0.5)
    return values


def _try_first(searcher: Searcher, configs: list[dict[str, Any]]) -> None:
    """Make ``configs`` the searcher's next suggestions (searchers without starting points,
    such as Grid, keep their own order)."""
    prepend = getattr(searcher, "prepend_starting_points", None)
    if callable(prepend):
        prepend(configs)


def describe(summary: dict[str, Any] | None) -> str:
    """One console line: how many parent trials were used, and why any were dropped."""
    if not summary:
        return ""
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(summary.get("by_status", {}).items()))
    text = f"warm start: {summary['used']} parent trial(s) used" + (f" ({statuses})" if statuses else "")
    dropped = summary.get("dropped", [])
    if dropped:
        reasons = collections.Counter(item["reason"] for item in dropped)
        top = "; ".join(f"{n} x {reason}" for reason, n in reasons.most_common(3))
        text += f"; {len(dropped)} dropped: {top}"
    for experiment, values in summary.get("imputed_parameters", {}).items():
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
        text += f"; {experiment} had no {', '.join(values)} (taken as {shown})"
    for experiment, gone in summary.get("removed_parameters", {}).items():
        text += f"; {experiment}'s {', '.join(gone)} not in this space (ignored)"
    best = summary.get("best_parent")
    if best is not None:
        text += f"; best parent: {best['value']:.6g} ({best['experiment']} trial {best['trial_id']}), tried first"
    return text
