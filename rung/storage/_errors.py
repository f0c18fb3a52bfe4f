"""What can go wrong with a store, as exceptions every implementation raises the same way."""

from __future__ import annotations


class StorageError(RuntimeError):
    """Something about the store itself is wrong (version, missing experiment, ownership)."""


class SchemaVersionError(StorageError):
    """The store's schema is newer than this rung reads (or cannot be migrated)."""


class ExperimentNotFound(StorageError, KeyError):
    """No experiment of that name; also a KeyError, since a name is looked up like a key."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ExperimentExists(StorageError):
    """An experiment of that name is already in the store."""


class CorruptRecord(StorageError):
    """A stored row cannot be decoded (e.g. a JSON column holds something that is not JSON).

    The message names the table, the row and the column; readers of other experiments are
    unaffected, and ``list_experiments`` marks the experiment as unreadable instead of failing.
    """
