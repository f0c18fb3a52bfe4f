"""Durable experiment records through SQLAlchemy: SQLite by default, PostgreSQL by URL."""

from ._recorder import Recorder
from ._schema import SCHEMA_VERSION
from ._storage import (
    ExperimentExists,
    ExperimentNotFound,
    SchemaVersionError,
    Storage,
    StorageError,
)
from ._urls import default_storage_url, normalize_url, rung_home

__all__ = [
    "ExperimentExists",
    "ExperimentNotFound",
    "Recorder",
    "SCHEMA_VERSION",
    "SchemaVersionError",
    "Storage",
    "StorageError",
    "default_storage_url",
    "normalize_url",
    "rung_home",
]
