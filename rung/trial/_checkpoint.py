"""Save and restore a trial's state so a paused (or restarted) trial continues where it was.

``rung.save_checkpoint({"epoch": 3, "weights": array})`` writes the state to the running
trial's checkpoint directory; ``rung.load_checkpoint()`` returns it (or None on the first
start). Plain values go to JSON and numpy arrays to an ``.npz`` beside it: nothing is
unpickled, so a checkpoint can never run code. Writes are atomic (write, then rename), so a
trial killed mid-save finds the previous checkpoint intact. Files are 0600 (a checkpoint may
hold what the trial must keep private), whatever the umask.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ._session import checkpoint_dir, open_private

_ARRAY = "__rung_array__"


def _split_arrays(value: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {_ARRAY: key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"checkpoint keys must be strings, got {key!r} at {path or 'the top level'}")
        return {key: _split_arrays(item, arrays, f"{path}.{key}" if path else key) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split_arrays(item, arrays, f"{path}[{i}]") for i, item in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"cannot checkpoint {type(value).__name__} at {path or 'the top level'}: use numbers, strings, "
        "lists, dicts and numpy arrays (for PyTorch models, rung.integrations.torch)"
    )


def _join_arrays(value: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(value, dict):
        if set(value) == {_ARRAY}:
            return arrays[value[_ARRAY]]
        return {key: _join_arrays(item, arrays) for key, item in value.items()}
    if isinstance(value, list):
        return [_join_arrays(item, arrays) for item in value]
    return value


def _atomic_write(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def save_checkpoint(state: Mapping[str, Any], name: str = "state", directory: str | os.PathLike | None = None) -> Path:
    """Write ``state`` (a dict of plain values and numpy arrays) as checkpoint ``name``."""
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    folder = Path(directory) if directory is not None else checkpoint_dir()
    arrays: dict[str, np.ndarray] = {}
    document = _split_arrays(state, arrays, "")
    if arrays:
        _atomic_write(folder / f"{name}.npz", lambda handle: np.savez(handle, **arrays))  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
    _atomic_write(folder / f"{name}.json", lambda handle: handle.write(json.dumps(document).encode()))
    return folder / f"{name}.json"


def load_checkpoint(name: str = "state", directory: str | os.PathLike | None = None) -> dict[str, Any] | None:
    """The state saved by :func:`save_checkpoint`, or None if this trial has not saved one."""
    folder = Path(directory) if directory is not None else checkpoint_dir()
    document_path = folder / f"{name}.json"
    if not document_path.exists():
        return None
    document = json.loads(document_path.read_text())
    arrays_path = folder / f"{name}.npz"
    if arrays_path.exists():
        with np.load(arrays_path, allow_pickle=False) as arrays:
            return _join_arrays(document, {key: arrays[key] for key in arrays.files})
    return _join_arrays(document, {})
