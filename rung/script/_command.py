"""Checking a Script's arguments at construction, so mistakes surface before any trial runs."""

from __future__ import annotations

import math
import numbers
import os
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

ARG_MODES = ("flags", "json")

# An argument ending like this names a program file, so a missing one is a typo, not an
# output path the script will create.
SCRIPT_SUFFIXES = (".py", ".sh", ".bash", ".zsh", ".r", ".jl", ".js", ".mjs", ".ts", ".rb", ".pl", ".lua", ".jar")


def check_base_dir(base_dir: str | os.PathLike | None) -> Path:
    path = Path(os.getcwd() if base_dir is None else os.fspath(base_dir)).absolute()
    if not path.is_dir():
        raise ValueError(f"base_dir: no such directory {str(path)!r}")
    return path


def check_command(command: Any, base_dir: Path, path_variable: str | None) -> list[str]:
    """Return ``command`` as strings, with relative paths to existing files made absolute.

    The program runs in a fresh ``work/`` directory per trial, so ``["python", "train.py"]``
    only keeps working if ``train.py`` is resolved against ``base_dir`` now. Only whole
    elements are resolved (not ``--data=x.csv``); ``command[0]`` only when it contains a
    ``/``, since a bare name is a program looked up on ``PATH``.
    """
    if isinstance(command, (str, bytes)) or not isinstance(command, Sequence):
        raise TypeError(
            f"command must be a list of strings such as ['python', 'train.py'], got {command!r}"
        )
    if not command:
        raise ValueError("command is empty; give the program and its arguments, e.g. ['python', 'train.py']")
    resolved = []
    for index, element in enumerate(command):
        if isinstance(element, os.PathLike):
            element = os.fspath(element)
        if not isinstance(element, str):
            raise TypeError(f"command[{index}] must be a string, got {element!r} ({type(element).__name__})")
        if not element:
            raise ValueError(f"command[{index}] is an empty string")
        resolved.append(_resolve(index, element, base_dir))
    if os.sep not in resolved[0] and shutil.which(resolved[0], path=path_variable) is None:
        raise ValueError(f"command[0]: program {resolved[0]!r} not found on PATH")
    return resolved


def _resolve(index: int, element: str, base_dir: Path) -> str:
    if element.startswith("-") or (index == 0 and os.sep not in element):
        return element
    path = Path(element)
    candidate = path if path.is_absolute() else base_dir / path
    try:
        exists = candidate.exists()
    except OSError:  # e.g. a long argument that cannot be a path ("File name too long")
        exists = False
    if exists:
        return str(candidate)
    if index == 0 or path.suffix.lower() in SCRIPT_SUFFIXES:
        where = "" if path.is_absolute() else f" (looked in {base_dir})"
        raise ValueError(f"command[{index}]: no such file {element!r}{where}")
    return element


def check_args(args: Any) -> str:
    if args not in ARG_MODES:
        raise ValueError(f"args must be one of {ARG_MODES}, got args={args!r}")
    return args


def check_grace_period(grace_period: Any) -> float:
    if (
        isinstance(grace_period, bool)
        or not isinstance(grace_period, numbers.Real)
        or not math.isfinite(grace_period)
        or grace_period <= 0
    ):
        raise ValueError(f"grace_period must be a positive number of seconds, got grace_period={grace_period!r}")
    return float(grace_period)


def check_env(env: Mapping[str, str] | None) -> dict[str, str]:
    if env is None:
        return {}
    if not isinstance(env, Mapping):
        raise TypeError(f"env must be a dict of str to str, got {env!r}")
    for key, value in env.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"env must map strings to strings, got env[{key!r}]={value!r}")
    return dict(env)
