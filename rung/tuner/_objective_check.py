"""An objective's own check of the search space, run when the tuner is built.

The tuner can check a space's structure (names, domains, conditions), but only the
objective knows what its entries mean: that ``optimizer`` must name an optimizer it can
build, that an entry it does not read is a typo. An objective may therefore define

    def rung_check_space(self, space: rung.space.Space) -> None

and raise (a ValueError or TypeError naming the entry and the value) when the space holds a
config it could not run. The tuner calls it once, from ``Tuner.__init__``, before any
worker starts or any trial runs, so a misspelt name fails in a second instead of failing
every trial. Objectives without the method are not checked; the method is called with the
space only, never with a config, and must not train anything. Like ``rung_warm_up`` (the
workers' hook), the name has a ``rung_`` prefix so it cannot collide with a method the
objective has for its own reasons.
"""

from __future__ import annotations

from typing import Any

from ..space import Space

#: The name of the optional objective method the tuner calls with the space.
HOOK = "rung_check_space"


def check_objective_space(objective: Any, space: Space) -> None:
    """Call ``objective.rung_check_space(space)`` if the objective has one; its errors propagate."""
    hook = getattr(objective, HOOK, None)
    if hook is None:
        return
    if not callable(hook):
        raise TypeError(f"objective.{HOOK} must be a method taking the space, got {type(hook).__name__}")
    hook(space)
