"""rung domains where scikit-learn expects scipy.stats distributions (``rvs``).

scikit-learn's ``ParameterSampler`` draws a value from anything with
``rvs(random_state=...)``; a rung domain samples from a numpy ``Generator``. The adapter
seeds a Generator from the sampler's ``RandomState``, so a fixed ``random_state`` gives the
same candidates every time.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from rung.space import Domain


class DomainDistribution:
    """A rung domain with scipy's ``rvs`` interface (one value per call)."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain

    def rvs(self, random_state: Any = None, size: Any = None) -> Any:
        if size is not None:
            raise ValueError("a rung domain draws one value at a time (size must be None)")
        state = random_state if isinstance(random_state, np.random.RandomState) else np.random.RandomState(random_state)
        rng = np.random.default_rng(int(state.randint(0, 2**31 - 1)))
        value = self.domain.sample(rng)
        return value.item() if isinstance(value, np.generic) else value

    def __repr__(self) -> str:
        return f"DomainDistribution({self.domain!r})"


def as_distributions(param_distributions: Any) -> Any:
    """``param_distributions`` (a dict or a list of dicts) with each rung domain wrapped."""
    if isinstance(param_distributions, Mapping):
        return {k: DomainDistribution(v) if isinstance(v, Domain) else v for k, v in param_distributions.items()}
    if isinstance(param_distributions, (list, tuple)):
        return [as_distributions(d) for d in param_distributions]
    return param_distributions
