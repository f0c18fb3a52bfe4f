"""One TPE suggestion from a good and a bad group: fit ``l`` and ``g``, draw, score, pick.

TPE and BOHB differ in how they form the groups (one history, or one per resource level,
with failed and lower-level configs in the bad group) but not in what follows, which lives
here: the bad group gets its extra rows (pending configs as constant liars, failures), the
two Parzen densities are fitted, ``n_candidates`` draws from ``l`` are scored by
``log l - log g`` and the best is returned. Multivariate: the best candidate as a whole;
univariate: each parameter its own best candidate value (Bergstra et al.'s original TPE).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

#: Extra batches of draws from ``l`` when every candidate of a batch is ``seen``.
REDRAWS = 3

from ._encoding import Encoding


def with_extra_bad(
    bad: np.ndarray, weights: np.ndarray, extra: Sequence[np.ndarray] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The bad group's centres and weights with the rows ``extra`` added at weight 1."""
    if not len(extra):
        return bad, weights
    return np.vstack([bad, np.asarray(extra)]), np.concatenate([weights, np.ones(len(extra))])


def best_candidate(
    encoding: Encoding,
    good: np.ndarray,
    good_weights: np.ndarray,
    bad: np.ndarray,
    bad_weights: np.ndarray,
    *,
    prior_weight: float,
    multivariate: bool,
    bandwidth: str,
    n_candidates: int,
    rng: np.random.Generator,
    seen: Callable[[np.ndarray], int] | None = None,
) -> np.ndarray:
    """The unit-cube point maximizing ``l(x) / g(x)`` among draws from ``l``.

    ``seen`` (multivariate only): a candidate for which it is true (a config already
    evaluated or pending) is passed over for the best one that is not; when a whole batch
    is seen, up to :data:`REDRAWS` more batches are drawn, then the best one of the lowest
    level ``seen`` gave is taken (a bool counts as level 1; TPE says 1 for a candidate on a
    plateau and 2 for an exact repeat, so a repeat comes last).
    Why: in a small discrete space ``l`` concentrates on the configs already evaluated, and
    the best ratio was often the incumbent itself: on Bayesmark's k-NN (25 x 4 integer
    values, 50 evaluations) 19 to 24 suggestions repeated an earlier config, and a
    deterministic objective repeated teaches nothing. Continuous coordinates practically
    never repeat, so there the suggestion (and the random stream) is unchanged.
    """
    from ._parzen import Parzen  # loads scipy: only once a model is needed

    l = Parzen(encoding, good, good_weights, prior_weight, multivariate, bandwidth)
    g = Parzen(encoding, bad, bad_weights, prior_weight, multivariate, bandwidth)
    x, bins = l.sample(rng, n_candidates)
    if multivariate:
        active = encoding.active(x)
        score = l.log_density(x, bins, active) - g.log_density(x, bins, active)
        first = x[int(np.argmax(score))]
        if seen is None:
            return first
        fallback, fallback_level = first, None
        for batch in range(REDRAWS + 1):
            if batch:
                x, bins = l.sample(rng, n_candidates)
                active = encoding.active(x)
                score = l.log_density(x, bins, active) - g.log_density(x, bins, active)
            for i in np.argsort(-score, kind="stable"):
                level = int(seen(x[i]))
                if not level:
                    return x[i]
                if fallback_level is None or level < fallback_level:
                    fallback, fallback_level = x[i], level
        return fallback
    score = l.log_density(x, bins) - g.log_density(x, bins)
    return x[np.argmax(score, axis=0), np.arange(encoding.d)]
