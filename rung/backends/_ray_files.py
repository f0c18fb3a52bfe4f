"""Where the trials of a Ray run keep their files (logs, ``config.json``, ``checkpoint/``).

A paused trial may resume on any node, and a trial whose node died is retried on another
one, so its checkpoint must be somewhere every node can read. :class:`TrialFiles` is that
place, as an interface with two sides:

* on the driver, :meth:`TrialFiles.trial_dir` names each trial's directory (the path the
  trial sees as ``rung.trial_dir()``);
* on the node, :meth:`TrialFiles.before_run` runs before a trial starts and
  :meth:`TrialFiles.after_run` after it left (ended, paused or crashed), in the node's
  worker process.

:class:`SharedDirectory` is the implementation rung ships: a directory that every node
mounts at the same path (NFS, a Kubernetes ReadWriteMany volume, ...); both node hooks do
nothing because the trial writes straight into it. An object store would be a second
implementation: ``trial_dir`` a local scratch path, ``before_run`` downloading the trial's
prefix into it and ``after_run`` uploading it back. Implementations travel to the nodes as
plain data (:meth:`TrialFiles.to_dict`, rebuilt by :func:`files_from_dict`), never pickled.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable


class TrialFiles(ABC):
    """The place trial directories live for a cluster backend (see the module docstring)."""

    kind: str = "files"

    @abstractmethod
    def trial_dir(self, experiment_dir: Path, trial_id: int) -> Path:
        """The directory trial ``trial_id`` of the experiment in ``experiment_dir`` uses."""

    def before_run(self, trial_dir: Path) -> None:
        """On the node, before a trial (new, resumed or retried) starts in ``trial_dir``."""

    def after_run(self, trial_dir: Path) -> None:
        """On the node, after the trial left ``trial_dir`` (however it ended)."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """Plain data that :func:`files_from_dict` turns back into an equal object."""

    def shared(self) -> bool:
        """Whether every node of the cluster reads the same files (so any node may resume)."""
        return True


class DriverDirectory(TrialFiles):
    """The default: the experiment's own directory on the driver's machine.

    Right when every node runs on the driver's machine (a local Ray, or a test cluster) or
    when the experiment's ``workdir`` is itself on storage every node mounts; otherwise
    the backend warns, since a trial resumed or retried on another node would not find its
    checkpoint.
    """

    kind = "driver"

    def trial_dir(self, experiment_dir: Path, trial_id: int) -> Path:
        return Path(experiment_dir) / f"trial_{trial_id}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}

    def shared(self) -> bool:
        return False


class SharedDirectory(TrialFiles):
    """Trial directories under ``path``, a directory every node mounts at the same place.

    Trial ``i`` of experiment ``name`` uses ``path / name / f"trial_{i}"``. ``path`` must be
    absolute (a relative path would mean a different place on each node's working
    directory).
    """

    kind = "directory"

    def __init__(self, path: "str | os.PathLike[str]") -> None:
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            raise ValueError(f"storage_path must be a directory path every node mounts, got storage_path={path!r}")
        resolved = Path(path).expanduser()
        if not resolved.is_absolute():
            raise ValueError(
                f"storage_path must be absolute (every node resolves it alike), got storage_path={str(path)!r}"
            )
        if resolved.exists() and not resolved.is_dir():
            raise ValueError(f"storage_path={str(path)!r} exists and is not a directory")
        self.path = resolved

    def trial_dir(self, experiment_dir: Path, trial_id: int) -> Path:
        return self.path / Path(experiment_dir).name / f"trial_{trial_id}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": str(self.path)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SharedDirectory) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    def __repr__(self) -> str:
        return f"SharedDirectory({str(self.path)!r})"


_KINDS: dict[str, Callable[[dict[str, Any]], TrialFiles]] = {
    DriverDirectory.kind: lambda data: DriverDirectory(),
    SharedDirectory.kind: lambda data: SharedDirectory(data["path"]),
}


def register_trial_files(kind: str, build: Callable[[dict[str, Any]], TrialFiles]) -> None:
    """Let nodes rebuild another :class:`TrialFiles` implementation from its ``to_dict()``.

    The module registering it must be imported on the nodes too (e.g. through the
    backend's ``preload=``).
    """
    _KINDS[kind] = build


def files_from_dict(data: dict[str, Any]) -> TrialFiles:
    """The :class:`TrialFiles` that ``data`` (from :meth:`TrialFiles.to_dict`) describes."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in _KINDS:
        raise ValueError(f"unknown trial files kind {kind!r}; known: {sorted(_KINDS)}")
    return _KINDS[kind](data)


def coerce_trial_files(value: "TrialFiles | str | os.PathLike[str] | None") -> TrialFiles:
    """The backend's ``storage_path=``: None (the driver's directory), a path, or a TrialFiles."""
    if value is None:
        return DriverDirectory()
    if isinstance(value, TrialFiles):
        return value
    return SharedDirectory(value)
