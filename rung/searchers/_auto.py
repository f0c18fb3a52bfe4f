"""``searcher="auto"``: the searcher that won on problems like this one in rung's benchmarks.

The rule reads only what is known before the first trial: the space, and whether a
multi-fidelity scheduler is in charge (it calls :meth:`Searcher.set_fidelity` during its
setup). The choice, and the benchmark evidence behind each branch, are in
:func:`choose_searcher`; ``benchmarks/RESULTS.md`` has the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ..space import Choice as ChoiceDomain
from ..space import Space
from ._base import Searcher

#: Above this many tunable parameters the GP's model of the whole space gets too little data
#: from a typical budget; TPE's per-group densities degrade more gracefully.
GP_MAX_DIMENSIONS = 16


@dataclass(frozen=True)
class Choice:
    """The searcher ``auto`` picked (a name in ``rung.searchers.SEARCHERS``) and why."""

    name: str
    reason: str


def choose_searcher(space: Space, multi_fidelity: bool, available: Iterable[str]) -> Choice:
    """Pick a searcher for ``space`` from the names in ``available``.

    - Multi-fidelity scheduler: the BOHB-style searcher (TPE densities per rung level),
      which beat TPE learning from final results only under ASHA on rung's multi-fidelity
      suite; plain TPE when BOHB is not available.
    - Conditional parameters, or more than :data:`GP_MAX_DIMENSIONS` tunable parameters, or
      only categorical ones: TPE, whose densities are defined only where a parameter exists
      and cost the same at any dimension.
    - Otherwise the GP, the best single-fidelity method at small budgets on rung's suite.
    """
    names = set(available)
    tunable = space.tunable_names
    if multi_fidelity and "bohb" in names:
        return Choice("bohb", "a multi-fidelity scheduler reports intermediate results: "
                              "density models per rung level (BOHB-style)")
    if multi_fidelity:
        return Choice("tpe", "a multi-fidelity scheduler is in charge; TPE learns from finished trials")
    conditional = [name for name in space.names if space[name].conditions]
    if conditional:
        return Choice("tpe", f"conditional parameters ({', '.join(conditional)}): TPE models them where they exist")
    if len(tunable) > GP_MAX_DIMENSIONS:
        return Choice("tpe", f"{len(tunable)} tunable parameters (more than {GP_MAX_DIMENSIONS}): TPE scales better")
    if tunable and all(isinstance(space[name], ChoiceDomain) for name in tunable):
        return Choice("tpe", "only categorical parameters: TPE's categorical densities fit them directly")
    if "gp" in names:
        return Choice("gp", "a small continuous or mixed space: Gaussian-process BO")
    return Choice("tpe", "the GP searcher is not available")


class Auto(Searcher):
    """Delegates to the searcher :func:`choose_searcher` picks; rung's default searcher.

    The pick is made at the first ``suggest`` / ``observe`` call, once the scheduler's
    setup has said whether it is multi-fidelity, and is then fixed: ``chosen`` holds the
    :class:`Choice` and ``delegate`` the searcher. Same seed, same pick, same configs, so
    resumed experiments replay exactly.
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        *,
        metric: str | None = None,
        mode: str = "min",
        seed: int | None = None,
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(space, metric=metric, mode=mode, seed=seed)
        self._set_starting_points(points_to_evaluate)
        self._fidelity: tuple[str, list[float] | None, float | None] | None = None
        self.chosen: Choice | None = None
        self.delegate: Searcher | None = None

    def set_fidelity(
        self,
        resource_attr: str,
        levels: Sequence[float] | None = None,
        max_resource: float | None = None,
    ) -> None:
        self._fidelity = (resource_attr, None if levels is None else list(levels), max_resource)
        if self.delegate is not None:
            self.delegate.set_fidelity(resource_attr, levels=levels, max_resource=max_resource)

    def _resolved(self) -> Searcher:
        if self.delegate is None:
            from . import SEARCHERS

            available = [name for name in SEARCHERS if name != "auto"]
            self.chosen = choose_searcher(self.space, self._fidelity is not None, available)
            cls: Any = SEARCHERS[self.chosen.name]  # every built-in takes points_to_evaluate but Grid
            points = self._starting_points or None
            self.delegate = cls(self.space, metric=self.metric, mode=self.mode, seed=self.seed,
                                points_to_evaluate=points)
            if self._fidelity is not None:
                resource_attr, levels, max_resource = self._fidelity
                self.delegate.set_fidelity(resource_attr, levels=levels, max_resource=max_resource)
        return self.delegate

    def suggest(self) -> dict[str, Any] | None:
        return self._resolved().suggest()

    def observe(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        self._resolved().observe(config, metrics)

    def observe_partial(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        self._resolved().observe_partial(config, metrics)

    def on_failed(self, config: Mapping[str, Any]) -> None:
        self._resolved().on_failed(config)

    def __repr__(self) -> str:
        picked = "undecided" if self.chosen is None else self.chosen.name
        return f"Auto(metric={self.metric!r}, mode={self.mode!r}, seed={self.seed!r}, chosen={picked})"
