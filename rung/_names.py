"""Experiment names: the one check every way a name enters rung goes through.

A name becomes a directory (``$RUNG_HOME/experiments/<name>``), a row key in the store and
an argument of ``rung resume`` / ``rung delete``. A name such as ``"../.."`` or ``"/home"``
would put trial files outside rung's home and let ``rung delete`` remove them, so names are
refused unless they are a single, ordinary path component: letters, digits and ``._-+@=,:``
(ASCII only, so no look-alike or invisible characters), not starting with a dot or a dash
(hidden files, options), no ``..``, at most :data:`MAX_LENGTH` characters.
"""

from __future__ import annotations

import re
from typing import Any

MAX_LENGTH = 200
ALLOWED = "letters, digits and . _ - + @ = , :"
_NAME = re.compile(r"[A-Za-z0-9_+@=,:][A-Za-z0-9._\-+@=,:]*")


def name_problem(name: Any) -> str | None:
    """Why ``name`` cannot name an experiment, or None if it can."""
    if not isinstance(name, str):
        return f"must be a string, got {name!r} ({type(name).__name__})"
    if not name:
        return "must not be empty"
    if len(name) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters, got {len(name)}"
    if "/" in name or "\\" in name:
        return f"must not contain path separators, got {name!r}"
    if ".." in name:
        return f"must not contain '..', got {name!r}"
    if name[0] in ".-":
        return f"must not start with {name[0]!r}, got {name!r}"
    if not _NAME.fullmatch(name):
        bad = next(char for char in name if not _NAME.fullmatch("a" + char))
        return f"may hold only {ALLOWED}; got {name!r} (with {bad!r})"
    return None


def stored_name_problem(name: Any) -> str | None:
    """Why ``name`` cannot even look up an experiment already in a store, or None if it can.

    Stores written before :func:`name_problem`'s rule may hold names it refuses (a space,
    a non-ASCII letter). Such an experiment can still be shown, resumed, stopped and deleted
    (never created) as long as its name is one harmless path component: a non-empty string
    without path separators, control characters, or the components ``.`` and ``..``.
    """
    if not isinstance(name, str):
        return f"must be a string, got {name!r} ({type(name).__name__})"
    if not name:
        return "must not be empty"
    if len(name) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters, got {len(name)}"
    if "/" in name or "\\" in name:
        return f"must not contain path separators, got {name!r}"
    if name in (".", ".."):
        return f"must not be {name!r}"
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return f"must not contain control characters, got {name!r}"
    return None


def check_experiment_name(name: Any, field: str = "experiment", *, existing: bool = False) -> str:
    """``name`` if it is a valid experiment name; else a ValueError (TypeError for a
    non-string) whose message starts with ``field``, e.g. ``experiment must not be empty``.

    ``existing=True`` is for a name that must already be in the store (resuming): it is held
    to :func:`stored_name_problem`'s looser rule, so experiments stored under names from
    before the rule stay reachable; the caller must then refuse to create one.
    """
    problem = stored_name_problem(name) if existing else name_problem(name)
    if problem is None:
        return name
    error = TypeError if not isinstance(name, str) else ValueError
    raise error(f"{field} {problem}")
