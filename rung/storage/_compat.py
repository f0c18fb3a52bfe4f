"""TEMPORARY shims for callers still written against the old single-class store.

TODO(lead): remove this module (and the bases/metaclasses naming it in ``_base.py``, and
``ExperimentRecord.__getitem__``/``get``) when the tuner uses ``append``/``save_trial``,
and ``rung/results/_load.py``, ``rung/tuner/_replay.py`` and the remaining tests use
``open_storage`` / ``SQLStorage`` and ``read_log``:

- ``Storage(url)`` on the ABC returns ``open_storage(url)``;
- ``Recorder(store, experiment_id, next_seq=0)`` on the ABC returns ``store.recorder(...)``;
- ``Storage.load_log(id)`` returns the old ``(trial dicts, report dicts, event dicts)``;
- ``Recorder.record_start/record_report/record_end`` and ``next_seq`` allocate sequence
  numbers and call ``append``/``save_trial``.
"""

from __future__ import annotations

import dataclasses
from abc import ABCMeta
from typing import Any

from ..trial._record import Trial
from ._records import EventRecord, ReportRecord


def _is_contract(cls: type, name: str) -> bool:
    return cls.__name__ == name and cls.__module__ == f"{__package__}._base"


class StorageMeta(ABCMeta):
    # TODO(lead): remove when nothing calls Storage(url).
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if _is_contract(cls, "Storage"):
            from ._open import open_storage

            return open_storage(*args, **kwargs)
        return super().__call__(*args, **kwargs)


class RecorderMeta(ABCMeta):
    # TODO(lead): remove when nothing calls Recorder(store, experiment_id).
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if _is_contract(cls, "Recorder"):
            return _make_recorder(*args, **kwargs)
        return super().__call__(*args, **kwargs)


def _make_recorder(storage: Any, experiment_id: int, next_seq: int = 0) -> Any:
    recorder = storage.recorder(experiment_id)
    recorder.next_seq = next_seq
    return recorder


class StorageShims:
    # TODO(lead): remove when the tuner, _load.py and _replay.py call read_log.
    def load_log(self, experiment_id: int) -> tuple[list[dict], list[dict], list[dict]]:
        """Old form of read_log: trial, report and event rows as dicts."""
        source: Any = self
        log = source.read_log(experiment_id)
        extra = {"experiment_id": experiment_id}
        return ([{**extra, **dataclasses.asdict(t)} for t in log.trials],
                [{**extra, **dataclasses.asdict(r)} for r in log.reports],
                [{**extra, **dataclasses.asdict(e)} for e in log.events])


class RecorderShims:
    # TODO(lead): remove when the tuner uses append/save_trial.
    @property
    def next_seq(self) -> int:
        return int(getattr(self, "_legacy_next_seq", 0))

    @next_seq.setter
    def next_seq(self, value: int) -> None:
        self._legacy_next_seq = value

    def _seq(self) -> int:
        seq = self.next_seq
        self.next_seq = seq + 1
        return seq

    def record_start(self, trial: Trial, kind: str, now: float, payload: dict[str, Any]) -> None:
        target: Any = self
        target.append(EventRecord(self._seq(), kind, trial.trial_id, now, payload))
        target.save_trial(trial)

    def record_report(self, trial_id: int, step: int, now: float, metrics: dict[str, Any],
                      action: str | None, reason: str | None, details: dict[str, Any] | None) -> None:
        target: Any = self
        target.append(ReportRecord(self._seq(), trial_id, step, now, metrics, action, reason or None, details or {}))

    def record_end(self, trial: Trial, now: float, abandoned: bool = False) -> None:
        payload: dict[str, Any] = {"status": trial.status.value}
        if abandoned:
            payload["abandoned"] = True
        target: Any = self
        target.append(EventRecord(self._seq(), "end", trial.trial_id, now, payload))
        target.save_trial(trial)
