"""An experiment's session with the store: create or reopen, claim, check, warm start, finish.

A new name creates the experiment; an existing one is refused unless the run resumes, and a
resumed run must be the same experiment: same space, metric and mode always, and the same
searcher and scheduler (class and constructor parameters) unless ``force_resume`` says the
change is meant. The session owns the experiment while the run lasts and releases it at the
end with the run's status, elapsed time and decision time.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from .._names import check_experiment_name
from .._objective import Objective
from ..searchers import Searcher
from ..space import Space
from ..storage import ExperimentExists, ExperimentRecord, LogSlice, Recorder, Storage, StorageError, open_storage
from ._warm_start import warm_start

_SIMPLE = (int, float, str, bool, type(None))


def describe_parameters(component: object) -> dict[str, Any]:
    """The constructor parameters of a searcher or scheduler that are kept under their own
    name and have plain values (scikit-learn's ``get_params`` convention), for the settings
    check on resume."""
    described: dict[str, Any] = {}
    try:
        parameters = inspect.signature(type(component).__init__).parameters
    except (TypeError, ValueError):
        return described
    for name in parameters:
        if name == "self" or name not in vars(component):
            continue
        value = vars(component)[name]
        if isinstance(value, (list, tuple)) and all(isinstance(item, _SIMPLE) for item in value):
            value = list(value)
        elif not isinstance(value, _SIMPLE):
            continue
        described[name] = value
    return described


def settings_changes(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What differs between the stored and the current searcher and scheduler, in words."""
    changes = []
    for role in ("searcher", "scheduler"):
        if role not in stored:
            continue  # a store written before settings were compared
        if stored[role] != current[role]:
            changes.append(f"{role} {stored[role]} -> {current[role]}")
            continue
        before, after = stored.get(f"{role}_params"), current.get(f"{role}_params", {})
        if before is None:
            continue
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                changes.append(f"{role} {current[role]}.{name}: {before.get(name)!r} -> {after.get(name)!r}")
    return changes


class ExperimentSession:
    """One run's hold on its experiment in the store."""

    def __init__(self, storage: "str | os.PathLike[str] | Storage | None", name: str) -> None:
        # Also guards callers other than the Tuner; the strict rule applies when creating.
        self.name = check_experiment_name(name, existing=True)
        self._owns_store = not isinstance(storage, Storage)
        self.store = open_storage(storage)
        self.experiment_id: int | None = None
        self.existing: ExperimentRecord | None = None
        self.recorder: Recorder | None = None
        self.warm_start_summary: dict[str, Any] | None = None
        self._claimed = False

    def open(self, *, objective: Objective, space: Space, seed: int | None, settings: dict[str, Any],
             spec: dict[str, Any] | None, workdir: Path, resume: bool, force_resume: bool,
             searcher: Searcher, warm_start_from: Sequence[str]) -> Path:
        """Create or reopen the experiment, claim it, warm start; return its working directory."""
        existing = self.store.get_experiment(self.name)
        if existing is None:
            check_experiment_name(self.name)
            self.experiment_id = self.store.create_experiment(
                self.name, metric=objective.metric, mode=objective.mode, seed=seed, space=space.to_dict(),
                settings=settings, spec=spec, workdir=str(workdir),
            )
        elif not resume:
            raise ExperimentExists(
                f"experiment {self.name!r} already exists in {self.store.url}; pass resume=True "
                "(or run `rung resume NAME`) to continue it, or choose another name"
            )
        else:
            self._check_same_experiment(existing, objective, space, settings, force_resume)
            self.experiment_id = existing.id
            if existing.workdir:
                workdir = Path(existing.workdir)
        self.existing = existing
        self.store.claim(self.experiment_id)
        self._claimed = True
        if warm_start_from:
            self.warm_start_summary = warm_start(searcher, space, objective, self.store, list(warm_start_from))
        self.recorder = self.store.recorder(self.experiment_id)
        return workdir

    def _check_same_experiment(self, existing: ExperimentRecord, objective: Objective, space: Space,
                               settings: Mapping[str, Any], force_resume: bool) -> None:
        for name in ("metric", "mode"):
            if getattr(existing, name) != getattr(objective, name):
                raise StorageError(
                    f"experiment {self.name!r} optimizes {name}={getattr(existing, name)!r}, "
                    f"not {getattr(objective, name)!r}"
                )
        stored = Space.from_dict(existing.space)
        if stored != space and not force_resume:
            raise StorageError(
                f"experiment {self.name!r} was run with a different space; "
                f"stored: {stored!r}, given: {space!r} (pass force_resume=True to resume anyway)"
            )
        changes = settings_changes(existing.settings, settings)
        if changes and not force_resume:
            raise StorageError(
                f"experiment {self.name!r} was run with other settings: {'; '.join(changes)}. Resuming "
                "replays its log through the searcher and scheduler, so they must be the ones it was run "
                "with; pass the same ones (`rung resume NAME` rebuilds them from the stored spec), or "
                "force_resume=True to continue with the new ones"
            )

    def read_log(self) -> LogSlice:
        assert self.experiment_id is not None
        return self.store.read_log(self.experiment_id)

    def stop_requested(self) -> bool:
        return self.experiment_id is not None and self.store.stop_requested(self.experiment_id)

    def close(self, *, status: str, stop_reason: str, elapsed: float, decision_time: float) -> None:
        """Flush the last writes, release the experiment with its final status."""
        try:
            if self.recorder is not None:
                self.recorder.close()
            if self._claimed and self.experiment_id is not None:
                self.store.finish(self.experiment_id, status=status, stop_reason=stop_reason,
                                  elapsed=elapsed, decision_time=decision_time)
        finally:
            self.release_store()

    def release_store(self) -> None:
        """Close the store's connections if this session opened it (not a Storage passed in)."""
        if self._owns_store:
            self.store.dispose()
