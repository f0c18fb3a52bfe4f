"""What one trial may use: CPUs, GPUs (fractions allowed) and named custom resources."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping


def _check_amount(name: str, value: Any) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))
    if not ok or value < 0:
        raise ValueError(f"resources: {name} must be a finite number >= 0, got {name}={value!r}")
    return float(value)


@dataclass(frozen=True)
class TrialResources:
    """Resources each trial gets from its backend.

    ``cpus`` and ``gpus`` are non-negative finite numbers; fractional GPUs (e.g. 0.5) let
    a backend pack several trials on one device. ``custom`` names any other resource a
    backend knows (a cluster's licences, accelerators, ...). Invalid values raise a
    ValueError naming the field.

    >>> TrialResources.coerce({"cpus": 2, "gpus": 0.5, "licence": 1})
    TrialResources(cpus=2.0, gpus=0.5, custom={'licence': 1.0})
    """

    cpus: float = 1.0
    gpus: float = 0.0
    custom: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cpus", _check_amount("cpus", self.cpus))
        object.__setattr__(self, "gpus", _check_amount("gpus", self.gpus))
        if not isinstance(self.custom, Mapping):
            raise ValueError(f"resources: custom must be a mapping of names to amounts, got {self.custom!r}")
        custom: dict[str, float] = {}
        for name, amount in self.custom.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"resources: custom resource names must be non-empty strings, got {name!r}")
            if name in ("cpus", "gpus"):
                raise ValueError(f"resources: {name!r} is not a custom resource; set it as {name}=...")
            custom[name] = _check_amount(name, amount)
        object.__setattr__(self, "custom", custom)  # a copy: the caller's dict may change later

    @classmethod
    def coerce(cls, value: "TrialResources | Mapping[str, Any] | None") -> "TrialResources":
        """None (the defaults), a TrialResources, or a mapping such as ``{"cpus": 2, "gpus": 0.5}``.

        Keys other than ``cpus``, ``gpus`` and ``custom`` become custom resources.
        """
        if value is None:
            return cls()
        if isinstance(value, TrialResources):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(
                "resources must be None, a TrialResources or a mapping like {'cpus': 2, 'gpus': 0.5}, "
                f"got {value!r}"
            )
        data = dict(value)
        custom = dict(data.pop("custom", None) or {})
        for key in [k for k in data if k not in ("cpus", "gpus")]:
            custom[key] = data.pop(key)
        return cls(cpus=data.get("cpus", 1.0), gpus=data.get("gpus", 0.0), custom=custom)

    def __repr__(self) -> str:
        return f"TrialResources(cpus={self.cpus!r}, gpus={self.gpus!r}, custom={dict(self.custom)!r})"

    def __hash__(self) -> int:
        return hash((self.cpus, self.gpus, tuple(sorted(self.custom.items()))))
