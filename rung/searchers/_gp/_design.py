"""The GP family's quasi-random points: the initial design and the candidate blocks.

Both the GP and MOBSTER start with a scrambled Sobol design (one sequence, seeded once at
construction, skipping points already taken) and score freshly scrambled Sobol blocks of
the unit cube as acquisition candidates. scipy is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._encoding import Encoding

# Sobol points tried before the design gives up avoiding taken points.
_DESIGN_TRIES = 16


class SobolDesign:
    """The initial design: the next scrambled Sobol point that is not taken yet."""

    def __init__(self, encoding: Encoding, rng: np.random.Generator) -> None:
        self.encoding = encoding
        self.n_params = len(encoding.space.tunable_names)
        # Drawn now so the design does not depend on when it is first used.
        self._seed = int(rng.integers(2**63))
        self._engine: Any = None

    def next(self, taken: Callable[[np.ndarray], bool]) -> dict[str, Any]:
        """The config at the next design point whose GP input is not ``taken`` (after a
        few tries, the last point tried)."""
        if self._engine is None:
            from scipy.stats import qmc

            self._engine = qmc.Sobol(self.n_params, scramble=True, rng=np.random.default_rng(self._seed))
        for _ in range(_DESIGN_TRIES):
            x = self.encoding.from_unit_rows(self._engine.random(1))[0]
            if not taken(x):
                break
        return self.encoding.decode(x)


def sobol_block(n_params: int, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` points of the unit cube from a Sobol sequence freshly scrambled with ``rng``."""
    from scipy.stats import qmc

    return qmc.Sobol(n_params, scramble=True, rng=rng).random(n)
