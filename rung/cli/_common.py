"""What every command shares: errors with exit codes, the store, consoles and number formats."""

from __future__ import annotations

import argparse
import difflib
import math
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from ..storage import (
    ExperimentRecord,
    Storage,
    StorageError,
    default_storage_url,
    normalize_url,
    open_storage,
    shown_url,
)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class CliError(Exception):
    """A problem to report as one line on stderr, ending the command with ``code``."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


# -- arguments -------------------------------------------------------------------------------
def storage_parent() -> argparse.ArgumentParser:
    """The ``--storage`` option every subcommand takes."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--storage", metavar="URL", default=None,
        help="the store: a SQLAlchemy URL (sqlite:///path.db, postgresql://...) or a .db path "
             f"(default: $RUNG_STORAGE, else $RUNG_HOME/rung.db; now {shown_url(default_storage_url())})",
    )
    return parent


def positive_int(text: str) -> int:
    """argparse type: an integer > 0 (anything else is a usage error, exit code 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


# -- the store -------------------------------------------------------------------------------
def open_store(url: str | None, create: bool = False) -> Storage | None:
    """The store at ``url`` (default store if None); None if it is a SQLite file that does not
    exist and ``create`` is false, so that reading commands never leave empty files behind."""
    try:
        url = normalize_url(url)
    except ValueError as err:  # e.g. --storage ""
        raise CliError(f"--storage: {err}") from None
    if not create and url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):].split("?", 1)[0])
        if not path.exists():
            return None
    try:
        return open_storage(url)
    except StorageError as err:
        raise CliError(str(err)) from None


def require_experiment(store: Storage | None, name: str, url: str | None) -> ExperimentRecord:
    """The experiment's record, or a usage error (exit code 2) saying where we looked."""
    try:
        experiment = None if store is None else store.get_experiment(name)
    except StorageError as err:  # a corrupt row: one line naming the experiment, table and column
        raise CliError(str(err)) from None
    if experiment is None:
        where = store.url if store is not None else shown_url(normalize_url(url))
        hint = "" if where == shown_url(normalize_url(None)) else f" --storage {where}"
        raise CliError(f"no experiment named {name!r} in {where}{close_names(store, name)} "
                       f"(`rung list{hint}` shows the experiments)")
    return experiment


def close_names(store: Storage | None, name: str) -> str:
    """``"; did you mean 'mlp-2'?"`` for the stored names closest to ``name`` (up to three,
    names containing it first), or '' if none is close."""
    if store is None:
        return ""
    try:
        names = [e.name for e in store.list_experiments()]
    except StorageError:
        return ""
    close = [n for n in names if name and name in n]
    close += [n for n in difflib.get_close_matches(name, names, n=3, cutoff=0.6) if n not in close]
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(n) for n in close[:3]) + "?"


def storage_hint(store: Storage) -> str:
    """`` --storage URL`` when the store is not the default one, for commands we suggest."""
    return "" if store.url == shown_url(normalize_url(None)) else f" --storage {store.url}"


# -- output ----------------------------------------------------------------------------------
def stdout_console() -> Console:
    """Rich output for stdout; wide enough when piped that tables are not squeezed to 80."""
    console = Console(soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=160)
    return console


def say(message: str) -> None:
    """A line for the user on stderr (stdout is kept for the command's output)."""
    print(message, file=sys.stderr)


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback for numpy scalars and arrays that configs may hold."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{value!r} ({type(value).__name__}) cannot be written as JSON")


def fmt_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fmt_timestamp(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")
