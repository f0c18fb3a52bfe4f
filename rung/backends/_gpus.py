"""GPU placement: which devices a trial may use, from its ``resources.gpus``.

Part of the backend contract rather than private to one backend, so that every backend
that runs trials on this machine places them the same way. Devices are found lazily: never
at import or construction, only when a placement first needs them (a trial asks for
``gpus > 0``, or a backend was told to share the GPUs among its workers), and then from
``CUDA_VISIBLE_DEVICES`` if it is set, else from ``nvidia-smi -L``.

Placement rules, for ``g = resources.gpus`` per trial:

* ``g == 0``: no device is reserved (the backend decides what the trial sees);
* ``0 < g < 1``: one device with at least ``g`` of its capacity free; several such trials
  share a device (first fit in device order), e.g. two trials with ``g=0.5`` per GPU;
* ``g >= 1``: ``g`` must be whole, and the trial gets ``g`` devices of its own.
"""

from __future__ import annotations

import math
import os
import subprocess
from typing import Sequence

_TOLERANCE = 1e-9


def detect_gpus() -> list[str]:
    """GPU ids visible to this process: ``CUDA_VISIBLE_DEVICES``, else ``nvidia-smi -L``."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [gpu.strip() for gpu in visible.split(",") if gpu.strip() and gpu.strip() != "-1"]
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(listing.splitlines()) if line.startswith("GPU ")]


def visible_gpus() -> list[str]:
    """The GPUs this process can see now (no caching: the environment may change)."""
    return detect_gpus()


class GpuPlacement:
    """Hands out device ids to trials by their ``gpus`` share; releases them when trials end.

    ``devices``: the ids to place on, or None to find the visible ones when first needed.
    """

    def __init__(self, devices: Sequence[str | int] | None = None) -> None:
        self._devices: list[str] | None = None if devices is None else [str(d) for d in devices]
        self._used: dict[str, float] = {}
        self._held: dict[int, list[tuple[str, float]]] = {}

    @property
    def devices(self) -> list[str]:
        """The device ids placed on (found on first use when not given)."""
        if self._devices is None:
            self._devices = visible_gpus()
        return list(self._devices)

    def capacity(self, gpus: float) -> float:
        """How many trials asking for ``gpus`` each fit at once (inf for ``gpus == 0``)."""
        check_share(gpus)
        n = len(self.devices)
        if gpus <= 0:
            return math.inf
        if gpus < 1:
            return n * math.floor((1 + _TOLERANCE) / gpus)
        return n // int(gpus)

    def check(self, gpus: float, n_workers: int) -> None:
        """Raise a ValueError unless ``n_workers`` trials asking for ``gpus`` each fit at once."""
        check_share(gpus)
        if gpus <= 0:
            return
        devices = self.devices
        if not devices:
            raise ValueError(
                f"resources: each trial asks for gpus={gpus:g} but no GPU is available "
                "(CUDA_VISIBLE_DEVICES is empty, nvidia-smi lists none, or the backend was given gpus=None)"
            )
        if gpus > len(devices):
            raise ValueError(f"resources: each trial asks for gpus={gpus:g} but {len(devices)} are available")
        fit = int(self.capacity(gpus))
        if n_workers > fit:
            raise ValueError(
                f"resources: {n_workers} trials at once with gpus={gpus:g} each do not fit on "
                f"{len(devices)} GPU(s) ({', '.join(devices)}); at most {fit} fit, so use n_workers={fit}"
            )

    def acquire(self, trial_id: int, gpus: float) -> list[str]:
        """Reserve devices for ``trial_id``; its device ids (empty for ``gpus == 0``)."""
        check_share(gpus)
        if trial_id in self._held:
            raise RuntimeError(f"trial {trial_id} already holds GPUs {self.held(trial_id)}")
        if gpus <= 0:
            return []
        devices = self.devices
        if gpus < 1:
            chosen = next((d for d in devices if self._used.get(d, 0.0) + gpus <= 1 + _TOLERANCE), None)
            if chosen is None:
                raise RuntimeError(f"no GPU has {gpus:g} of its capacity free for trial {trial_id}")
            shares = [(chosen, gpus)]
        else:
            free = [d for d in devices if self._used.get(d, 0.0) <= _TOLERANCE]
            if len(free) < int(gpus):
                raise RuntimeError(f"trial {trial_id} needs {int(gpus)} free GPU(s), {len(free)} are free")
            shares = [(d, 1.0) for d in free[: int(gpus)]]
        for device, share in shares:
            self._used[device] = self._used.get(device, 0.0) + share
        self._held[trial_id] = shares
        return [device for device, _ in shares]

    def held(self, trial_id: int) -> list[str]:
        """Device ids trial ``trial_id`` holds now."""
        return [device for device, _ in self._held.get(trial_id, [])]

    def release(self, trial_id: int) -> None:
        """Give back what ``trial_id`` holds (nothing happens if it holds nothing)."""
        for device, share in self._held.pop(trial_id, []):
            left = self._used.get(device, 0.0) - share
            self._used[device] = left if left > _TOLERANCE else 0.0


def check_share(gpus: float) -> None:
    """GPUs per trial must be a fraction below 1 or a whole number."""
    if gpus >= 1 and not float(gpus).is_integer():
        raise ValueError(
            f"resources: gpus={gpus:g} per trial must be a fraction below 1 (devices shared) or a "
            "whole number (devices of its own)"
        )
