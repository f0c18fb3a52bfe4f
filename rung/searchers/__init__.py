"""Searchers decide which config to evaluate next (ask/tell: ``suggest`` / ``observe``).

``random`` and ``grid`` do not learn; ``tpe`` and ``gp`` learn from final results; ``bohb``
(TPE densities per resource level) and ``mobster`` (one GP over config and resource) also
learn from the intermediate reports of multi-fidelity schedulers (ASHA, Hyperband,
successive halving, stopping policies), and fall back to final results under FIFO.
``auto`` (the tuner's default) picks one of them from the space and the scheduler, by what
won on rung's benchmark suite (see :func:`rung.searchers._auto.choose_searcher`).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..space import Space
from ._auto import Auto
from ._base import Searcher
from ._bohb import BOHB
from ._gp import GP
from ._grid import Grid
from ._mobster import MOBSTER
from ._random import Random
from ._tpe import TPE

__all__ = ["Auto", "BOHB", "GP", "Grid", "MOBSTER", "Random", "SEARCHERS", "Searcher", "TPE", "make_searcher"]

#: Every searcher by the name used in specs and on the command line.
SEARCHERS: dict[str, type[Searcher]] = {
    "auto": Auto, "random": Random, "grid": Grid, "tpe": TPE, "gp": GP, "bohb": BOHB, "mobster": MOBSTER,
}
_BY_NAME = SEARCHERS


def make_searcher(
    searcher: "str | Searcher | type[Searcher]",
    space: Space | Mapping[str, Any],
    metric: str,
    mode: str,
    seed: int | None,
) -> Searcher:
    """Resolve the tuner's ``searcher=`` argument into an instance bound to its objective."""
    if isinstance(searcher, Searcher):
        if searcher.metric is not None and searcher.metric != metric:
            raise ValueError(
                f"searcher optimizes metric={searcher.metric!r} but the tuner's metric is {metric!r}"
            )
        if searcher.mode != mode:
            raise ValueError(f"searcher has mode={searcher.mode!r} but the tuner's mode is {mode!r}")
        searcher.metric = metric
        return searcher
    if isinstance(searcher, str):
        try:
            cls = _BY_NAME[searcher.lower()]
        except KeyError:
            raise ValueError(
                f"searcher={searcher!r} is not known; choose one of {sorted(_BY_NAME)} "
                "or pass a rung.searchers.Searcher instance"
            ) from None
    elif isinstance(searcher, type) and issubclass(searcher, Searcher):
        cls = searcher
    else:
        raise TypeError(f"searcher must be a name, a Searcher class or instance, got {searcher!r}")
    return cls(space, metric=metric, mode=mode, seed=seed)
