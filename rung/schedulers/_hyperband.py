"""Hyperband: successive halving hedged over several starting levels (brackets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from . import _rungs
from ._asha import ASHA
from ._base import Decision, Scheduler, Suggestion
from ._successive_halving import SuccessiveHalving

if TYPE_CHECKING:
    from ..trial._record import Trial
    from ..searchers import Searcher

TYPES = ("synchronous", "stopping", "promotion")


class _SynchronousHyperband(SuccessiveHalving):
    """Successive halving whose consecutive brackets cycle through s = s_max .. 0."""

    def __init__(self, sizes: list[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sizes = sizes

    def _shape(self, index: int) -> tuple[int, int]:
        first = index % len(self.sizes)  # bracket s = s_max - first starts at level index `first`
        return first, self.sizes[first]


class Hyperband(Scheduler):
    """Hyperband over rung levels ``r_min * eta**k`` and ``r_max`` (K + 1 levels).

    Bracket s, for s = s_max .. 0 with s_max = K, starts its trials at level
    ``levels[s_max - s]`` and has ``n_s = ceil((s_max + 1) / (s + 1) * eta**s)`` trials;
    r_min=1, r_max=27, eta=3 gives n = 27, 12, 6, 4 starting at 1, 3, 9, 27.

    ``type="synchronous"``: brackets run one after the other in that order, cycling, each
    by the rules of :class:`SuccessiveHalving` (a bracket's first rung is filled before the
    next bracket starts; promotions come first; stragglers do not leave workers idle).

    ``type="stopping"`` / ``"promotion"`` (asynchronous Hyperband): each new trial draws its
    bracket at random with probabilities proportional to ``n_s`` (generator seeded with
    ``seed``, default the searcher's seed) and follows the ASHA rules of that variant within
    its bracket's levels; see :class:`ASHA`.

    In every type the first report at ``r_max`` ends the trial as completed, and
    ``max_resource_attr`` names the config key a trial reads its resource limit from.
    """

    def __init__(
        self,
        resource_attr: str = "epoch",
        *,
        min_resource: float = 1,
        max_resource: float | None = None,
        reduction_factor: float = 3,
        type: str = "synchronous",
        seed: int | None = None,
        max_resource_attr: str | None = None,
    ) -> None:
        if type not in TYPES:
            raise ValueError(f"type must be one of 'synchronous', 'stopping', 'promotion', got type={type!r}")
        min_resource, max_resource = _rungs.check_resources(min_resource, max_resource, "Hyperband")
        reduction_factor = _rungs.check_reduction_factor(reduction_factor)
        self.type = type
        self.seed = seed
        self.levels = _rungs.rung_levels(min_resource, max_resource, reduction_factor)
        self.bracket_sizes = _rungs.hyperband_sizes(len(self.levels), reduction_factor)
        self.bracket_levels = list(self.levels)  # bracket s = s_max - i starts at levels[i]
        common: dict[str, Any] = dict(resource_attr=resource_attr, min_resource=min_resource, max_resource=max_resource,
                      reduction_factor=reduction_factor, max_resource_attr=max_resource_attr)
        self._impl: SuccessiveHalving | ASHA
        if type == "synchronous":
            self._impl = _SynchronousHyperband(self.bracket_sizes, **common)
        else:
            self._impl = ASHA(**common, type=type, brackets=len(self.levels), seed=seed)
        self.resource_attr = self._impl.resource_attr
        self.max_resource_attr = self._impl.max_resource_attr
        self.min_resource, self.max_resource = min_resource, max_resource
        self.reduction_factor = reduction_factor

    def take_abandoned(self) -> list[tuple[int, str]]:
        return self._impl.take_abandoned()

    @property
    def notes(self) -> dict[int, str]:
        """Why trials were left paused (synchronous type); empty for the asynchronous ones."""
        return getattr(self._impl, "notes", {})

    def bracket_of(self, trial_id: int) -> int | None:
        """Index into :attr:`bracket_sizes` of the bracket trial ``trial_id`` belongs to."""
        index = self._impl.bracket_of(trial_id)
        if index is None or self.type != "synchronous":
            return index
        return index % len(self.bracket_sizes)

    def setup(self, searcher: "Searcher", metric: str, mode: str) -> None:
        super().setup(searcher, metric, mode)
        self._impl.setup(searcher, metric, mode)

    def suggest(self, allow_new: bool = True) -> Suggestion | None:
        return self._impl.suggest(allow_new)

    def on_start(self, trial: "Trial") -> None:
        self._impl.on_start(trial)

    def on_report(self, trial: "Trial", metrics: Mapping[str, Any]) -> Decision:
        return self._impl.on_report(trial, metrics)

    def on_complete(self, trial: "Trial", metrics: Mapping[str, Any]) -> None:
        self._impl.on_complete(trial, metrics)

    def on_stop(self, trial: "Trial") -> None:
        self._impl.on_stop(trial)

    def on_pause(self, trial: "Trial") -> None:
        self._impl.on_pause(trial)

    def on_fail(self, trial: "Trial") -> None:
        self._impl.on_fail(trial)

    def __repr__(self) -> str:
        return (
            f"Hyperband(resource_attr={self.resource_attr!r}, min_resource={self.min_resource!r}, "
            f"max_resource={self.max_resource!r}, reduction_factor={self.reduction_factor!r}, "
            f"type={self.type!r}, seed={self.seed!r}"
            + ("" if self.max_resource_attr is None else f", max_resource_attr={self.max_resource_attr!r}") + ")"
        )
