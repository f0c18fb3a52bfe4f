"""Durable experiment records behind one interface (:class:`Storage`, :class:`Recorder`).

``SQLStorage`` (SQLite by default, PostgreSQL by URL) and ``MemoryStorage`` implement it;
:func:`open_storage` picks one from what a user passes as ``storage=``. Reads return typed
records (``_records.py``); ``read_log(experiment_id, after_seq)`` reads a log incrementally.
``rung.testing.storages`` checks any implementation against the contract.
"""

from ._base import Recorder, Storage
from ._engine import make_private_dirs
from ._errors import CorruptRecord, ExperimentExists, ExperimentNotFound, SchemaVersionError, StorageError
from ._memory import MemoryRecorder, MemoryStorage
from ._migrations import MIGRATIONS
from ._open import open_storage
from ._records import (
    BestTrials,
    DeferredLog,
    EventRecord,
    ExperimentRecord,
    ExperimentSummary,
    LogEntry,
    LogSlice,
    ReportRecord,
    TrialRecord,
)
from ._recorder import SQLRecorder
from ._schema import SCHEMA_VERSION
from ._sql import SQLStorage
from ._urls import default_storage_url, normalize_url, rung_home, shown_url

__all__ = [
    "BestTrials",
    "DeferredLog",
    "CorruptRecord",
    "EventRecord",
    "ExperimentExists",
    "ExperimentNotFound",
    "ExperimentRecord",
    "ExperimentSummary",
    "LogEntry",
    "LogSlice",
    "MIGRATIONS",
    "MemoryRecorder",
    "MemoryStorage",
    "Recorder",
    "ReportRecord",
    "SCHEMA_VERSION",
    "SQLRecorder",
    "SQLStorage",
    "SchemaVersionError",
    "Storage",
    "StorageError",
    "TrialRecord",
    "default_storage_url",
    "make_private_dirs",
    "normalize_url",
    "open_storage",
    "rung_home",
    "shown_url",
]
