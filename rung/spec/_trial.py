"""Turning a spec's ``trial:`` section into the tuner's objective.

A ``function:`` trial is ``module:function``, imported at load time with the spec file's
directory first on ``sys.path`` (left there, so worker processes, which receive the tuner's
``sys.path``, import the same module). A ``command:`` trial becomes a ``rung.script.Script``
whose relative paths resolve against the spec file's directory.
"""

from __future__ import annotations

import importlib
import shlex
import sys
from pathlib import Path
from typing import Any, Callable

from ._checks import Checker, closest, describe
from ._source import FieldPath

TRIAL_FIELDS = ("function", "command", "args", "env", "grace_period")
ARG_MODES = ("flags", "json")


def build_objective(trial: Any, base_dir: Path, check: Checker) -> Callable[[dict], Any]:
    """The objective described by the ``trial`` mapping (validated here)."""
    path: FieldPath = ("trial",)
    trial = check.mapping(trial, path, TRIAL_FIELDS)
    has_function = trial.get("function") is not None
    has_command = trial.get("command") is not None
    if has_function == has_command:
        which = "both" if has_function else "neither"
        raise check.error(path, f"give exactly one of trial.function and trial.command, got {which}")
    if has_function:
        for key in ("args", "env", "grace_period"):
            if key in trial:
                raise check.error((*path, key), "only applies to command trials (trial.command)")
        return import_function(trial["function"], base_dir, check, (*path, "function"))
    return build_script(trial, base_dir, check)


def import_function(target: Any, base_dir: Path, check: Checker, path: FieldPath) -> Callable[[dict], Any]:
    """Import ``"package.module:function"`` (the function may be a dotted attribute path)."""
    target = check.string(target, path)
    module_name, _, attr = target.partition(":")
    module_name, attr = module_name.strip(), attr.strip()
    if not module_name or not attr or ":" in attr:
        raise check.error(path, f"must be 'module:function', e.g. 'train:objective'; got {target!r}")
    add_to_sys_path(base_dir)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and (module_name == err.name or module_name.startswith(err.name + ".")):
            raise check.error(
                path, f"cannot import module {module_name!r}: not found in {str(base_dir)!r} or on sys.path"
            ) from None
        raise check.error(path, f"importing module {module_name!r} failed: {type(err).__name__}: {err}") from None
    except (Exception, SystemExit) as err:
        raise check.error(path, f"importing module {module_name!r} failed: {type(err).__name__}: {err}") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = [name for name in vars(module) if not name.startswith("_") and callable(getattr(module, name))]
            hint = closest(attr, names) if names else ""
            raise check.error(path, f"module {module_name!r} has no attribute {attr!r}{hint}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise check.error(path, f"{target!r} is not callable: {describe(obj)}")
    return obj


def add_to_sys_path(directory: Path) -> None:
    """Put ``directory`` first on ``sys.path`` so modules next to the spec file import."""
    entry = str(directory)
    if entry not in sys.path:
        sys.path.insert(0, entry)
    importlib.invalidate_caches()  # the module may have been written a moment ago


def build_script(trial: dict[str, Any], base_dir: Path, check: Checker) -> Callable[[dict], Any]:
    """A ``rung.script.Script`` for ``trial.command`` (a list, or a string split like a shell)."""
    path: FieldPath = ("trial",)
    command = trial["command"]
    if isinstance(command, str):
        try:
            command = shlex.split(command)
        except ValueError as err:
            raise check.error((*path, "command"), f"cannot split the command: {err}") from None
    if not isinstance(command, list) or not command:
        raise check.error((*path, "command"), f"must be a non-empty list of strings, got {describe(command)}")
    for index, part in enumerate(command):
        if not isinstance(part, (str, int, float)) or isinstance(part, bool):
            raise check.error((*path, "command", index), f"must be a string, got {describe(part)}")
    command = [str(part) for part in command]
    kwargs: dict[str, Any] = {"args": check.string(trial.get("args", "flags"), (*path, "args"), ARG_MODES)}
    if trial.get("env") is not None:
        env = trial["env"]
        if not isinstance(env, dict):
            raise check.error((*path, "env"), f"must be a mapping of variable names to values, got {describe(env)}")
        kwargs["env"] = {str(key): _env_value(value, (*path, "env", key), check) for key, value in env.items()}
    if trial.get("grace_period") is not None:
        kwargs["grace_period"] = check.number(trial["grace_period"], (*path, "grace_period"), positive=True)
    try:
        from ..script import Script  # written alongside; imported only when a spec needs it
    except ImportError as err:
        raise check.error((*path, "command"), f"script trials are not available: {err}") from None
    try:
        return Script(command, base_dir=base_dir, **kwargs)
    except (TypeError, ValueError) as err:
        field, message = _script_field(str(err))
        raise check.error(field, message) from None


def _script_field(message: str) -> tuple[FieldPath, str]:
    """The spec field a ``Script`` construction error is about, and the message without it."""
    if message.startswith("command["):
        index, _, rest = message[len("command["):].partition("]")
        if index.isdigit():
            return ("trial", "command", int(index)), rest.lstrip(": ") or message
    for name in ("env", "grace_period", "args"):
        if message.startswith(name):
            return ("trial", name), message
    return ("trial", "command"), message


def _env_value(value: Any, path: FieldPath, check: Checker) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise check.error(path, f"environment values must be strings, got {describe(value)}")
    return str(value)
