"""``open_storage``: from what a user passes as ``storage=`` to a :class:`Storage`."""

from __future__ import annotations

import os

from ._base import Storage
from ._memory import MemoryStorage
from ._sql import SQLStorage

MEMORY = ":memory:"


def open_storage(storage: Storage | str | os.PathLike[str] | None = None) -> Storage:
    """The store that ``storage`` names.

    - a :class:`Storage` instance: returned as is;
    - ``":memory:"``: a new :class:`MemoryStorage` (this process only, gone when it ends);
    - None: the default, ``$RUNG_STORAGE`` if set, else the SQLite file ``$RUNG_HOME/rung.db``;
    - a SQLAlchemy URL (``sqlite:///path.db``, ``postgresql+psycopg://...``) or a path to a
      SQLite file: a :class:`SQLStorage`.
    """
    if isinstance(storage, Storage):
        return storage
    if isinstance(storage, str) and storage == MEMORY:
        return MemoryStorage()
    return SQLStorage(storage)
