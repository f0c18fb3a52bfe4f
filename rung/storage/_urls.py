"""Where the store lives: the default SQLite file, or any SQLAlchemy URL."""

from __future__ import annotations

import os
from pathlib import Path


def rung_home() -> Path:
    """Where rung keeps its files unless told otherwise: ``$RUNG_HOME`` or ``~/.rung``."""
    return Path(os.environ.get("RUNG_HOME", "~/.rung")).expanduser()


def default_storage_url() -> str:
    """``$RUNG_STORAGE`` if set, else the SQLite file ``$RUNG_HOME/rung.db``."""
    url = os.environ.get("RUNG_STORAGE")
    if url:
        return url
    return f"sqlite:///{rung_home() / 'rung.db'}"


def normalize_url(url: str | os.PathLike | None) -> str:
    """Accept a SQLAlchemy URL, a path to a ``.db`` file, ``":memory:"`` or None (default)."""
    if url is None:
        return default_storage_url()
    if not isinstance(url, (str, os.PathLike)):
        raise TypeError(f"storage must be a Storage, a database URL or a path to a .db file (or None), "
                        f"got {url!r} ({type(url).__name__})")
    url = os.fspath(url)
    if not isinstance(url, str):
        raise TypeError(f"storage: a path must be text, got {url!r} ({type(url).__name__})")
    if not url.strip():
        raise ValueError("storage must not be empty: give a database URL or a path to a .db file "
                         "(or None for the default store)")
    if url == ":memory:":
        return "sqlite://"
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def shown_url(url: str) -> str:
    """``url`` as messages show it: with its password, if any, replaced by ``***``."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: nothing to hide
        return url
