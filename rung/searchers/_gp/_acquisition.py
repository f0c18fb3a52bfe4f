"""Log expected improvement and its optimization over a mixed, conditional encoding.

Expected improvement (for minimization, below the incumbent ``best``) is
``sigma * h(z)`` with ``z = (best - mean) / sigma`` and ``h(z) = z Phi(z) + phi(z)``. Far from
the incumbent ``h`` underflows to 0 in floating point long before the optimizer has found
its way, so we work with ``log h``, computed stably in three regimes (following Ament et
al., "Unexpected Improvements to Expected Improvement", NeurIPS 2023):

* ``z > -1``: directly, ``log(z Phi(z) + phi(z))``;
* ``-1/sqrt(eps) < z <= -1``: ``h = phi(z) (1 - |z| erfcx(|z|/sqrt 2) sqrt(pi/2))``, whose
  bracket is evaluated as ``log1mexp`` of a log that erfcx keeps finite;
* smaller ``z``: the asymptote ``log phi(z) - 2 log|z|``.

Its derivative is ``Phi(z) / h(z) = exp(log_ndtr(z) - log h(z))``, also stable.

The optimizer: score a few thousand canonical candidates (a scrambled Sobol sample of the
space plus perturbations of the best observed points), run one batched L-BFGS-B from the best
few over the numeric coordinates (integers relaxed, categoricals and inactive coordinates
held), snap the results back to representable points, then improve the best by a local
search over the discrete coordinates (every value of each categorical, the neighbouring values
of each integer), re-scoring exactly at every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import optimize, special

from ._encoding import Encoding
from ._model import Posterior

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_SQRT_PI_2 = 0.5 * math.log(0.5 * math.pi)
_ASYMPTOTE = -1.0 / math.sqrt(np.finfo(float).eps)


def _log1mexp(a: np.ndarray) -> np.ndarray:
    """``log(1 - exp(a))`` for ``a < 0``, accurate near 0 and for very negative ``a``."""
    return np.where(a > -math.log(2.0), np.log(-np.expm1(a)), np.log1p(-np.exp(a)))


def log_h(z: np.ndarray) -> np.ndarray:
    """``log(z Phi(z) + phi(z))``, finite for every finite ``z``."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    upper = z > -1.0
    zu = z[upper]
    out[upper] = np.log(zu * special.ndtr(zu) + np.exp(-0.5 * zu * zu - _LOG_SQRT_2PI))
    middle = (~upper) & (z > _ASYMPTOTE)
    zm = z[middle]
    a = np.log(special.erfcx(-zm / math.sqrt(2.0)) * -zm) + _LOG_SQRT_PI_2
    out[middle] = -0.5 * zm * zm - _LOG_SQRT_2PI + _log1mexp(a)
    far = ~(upper | middle)
    zf = z[far]
    out[far] = -0.5 * zf * zf - _LOG_SQRT_2PI - 2.0 * np.log(-zf)
    return out


def log_ei(
    posterior: Posterior, X: np.ndarray, best: float
) -> np.ndarray:
    """Log expected improvement below ``best`` at the rows of ``X``."""
    mean, var = posterior.predict(X)
    sd = np.sqrt(var)
    return log_h((best - mean) / sd) + np.log(sd)


def log_ei_with_gradient(
    posterior: Posterior, X: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray]:
    """Log expected improvement at the rows of ``X`` and its gradient for each row."""
    mean, var, dmean, dvar = posterior.predict_with_gradient(X)
    sd = np.sqrt(var)
    z = (best - mean) / sd
    lh = log_h(z)
    dlh = np.exp(special.log_ndtr(z) - lh)  # d log h / dz
    dsd = dvar / (2.0 * sd[:, None])
    dz = (-dmean - z[:, None] * dsd) / sd[:, None]
    grad = dlh[:, None] * dz + dsd / sd[:, None]
    return lh + np.log(sd), grad


class AcquisitionOptimizer:
    """Maximizes log EI over canonical points of an :class:`Encoding`.

    ``n_candidates`` Sobol points and ``n_local`` perturbations of the incumbents are
    scored; ``n_starts`` of the best seed one batched L-BFGS-B run of at most ``maxiter``
    iterations; the best ``n_polish`` results get the discrete local search.
    """

    def __init__(
        self,
        encoding: Encoding,
        n_candidates: int = 512,
        n_local: int = 256,
        n_starts: int = 5,
        maxiter: int = 60,
        n_polish: int = 2,
    ) -> None:
        self.encoding = encoding
        self.n_candidates = n_candidates
        self.n_local = n_local
        self.n_starts = n_starts
        self.maxiter = maxiter
        self.n_polish = n_polish

    # -- candidates -----------------------------------------------------------------------

    def candidates(
        self,
        rng: np.random.Generator,
        sobol: Callable[[int], np.ndarray],
        incumbents: np.ndarray,
        lengthscales: np.ndarray,
    ) -> np.ndarray:
        """Canonical starting candidates: space-filling points and local perturbations."""
        enc = self.encoding
        parts = [enc.from_unit_rows(sobol(self.n_candidates))]
        if len(incumbents) and self.n_local:
            picks = incumbents[rng.integers(len(incumbents), size=self.n_local)]
            # Steps of a few percent of the cube, capped by the fitted lengthscales so that
            # irrelevant directions are not explored at random.
            scale = np.minimum(rng.choice([0.01, 0.04, 0.12], size=(self.n_local, 1)), lengthscales)
            local = picks + scale * rng.standard_normal(picks.shape) * enc.continuous
            # Occasionally switch a categorical value (the argmax of a jittered block).
            flip = rng.random(picks.shape) < 0.5 / max(1, int((~enc.continuous).sum()))
            local = local + (flip & ~enc.continuous) * rng.random(picks.shape) * 2.0
            parts.append(enc.canonical(local))
        return np.vstack(parts)

    def propose(
        self,
        rng: np.random.Generator,
        sobol: Callable[[int], np.ndarray],
        incumbents: np.ndarray,
        posterior: Posterior,
        best: float,
        known: Callable[[np.ndarray], np.ndarray],
    ) -> np.ndarray:
        """Candidates around ``incumbents`` and across the cube, then :meth:`maximize`."""
        candidates = self.candidates(rng, sobol, incumbents, posterior.lengthscales)
        return self.maximize(posterior, best, candidates, known)

    # -- optimization ---------------------------------------------------------------------

    def maximize(
        self,
        posterior: Posterior,
        best: float,
        candidates: np.ndarray,
        known: Callable[[np.ndarray], np.ndarray],
    ) -> np.ndarray:
        """The best canonical point found, avoiding rows that ``known`` (a mask over a block
        of rows) marks as already known (observed, pending, ...) when anything else is
        available."""
        enc = self.encoding
        scores = log_ei(posterior, candidates, best)
        order = np.argsort(-scores, kind="stable")
        starts = _distinct_rows(candidates[order], self.n_starts)
        pool = [candidates[order[: 4 * self.n_starts]], scores[order[: 4 * self.n_starts]]]

        free = enc.continuous[None, :] & enc.active_columns(starts)
        if free.any():
            refined = self._gradient_ascent(posterior, best, starts, free)
            refined = enc.canonical(refined)
            pool = [np.vstack([pool[0], refined]), np.concatenate([pool[1], log_ei(posterior, refined, best)])]

        X, s = pool
        order = np.argsort(-s, kind="stable")
        X, s = X[order], s[order]
        polished = [self._local_search(posterior, best, x, v) for x, v in zip(X[: self.n_polish], s[: self.n_polish])]
        if polished:
            X = np.vstack([np.array([p[0] for p in polished]), X])
            s = np.concatenate([[p[1] for p in polished], s])
            order = np.argsort(-s, kind="stable")
            X, s = X[order], s[order]
        found = _first_unknown(X, known)
        if found is None:  # everything near the optimum is known: the best other candidate
            found = _first_unknown(candidates[np.argsort(-scores, kind="stable")], known)
        return X[0] if found is None else found

    def _gradient_ascent(
        self, posterior: Posterior, best: float, starts: np.ndarray, free: np.ndarray
    ) -> np.ndarray:
        """One L-BFGS-B run on the sum of log EI over all starts (independent blocks)."""
        base = starts.copy()
        mask = free.ravel()

        def objective(v: np.ndarray) -> tuple[float, np.ndarray]:
            X = base.copy().ravel()
            X[mask] = v
            X = X.reshape(base.shape)
            values, grad = log_ei_with_gradient(posterior, X, best)
            return -float(values.sum()), -grad.ravel()[mask]

        x0 = base.ravel()[mask]
        result = optimize.minimize(
            objective, x0, jac=True, method="L-BFGS-B",
            bounds=[(0.0, 1.0)] * len(x0), options={"maxiter": self.maxiter, "ftol": 1e-6},
        )
        out = base.ravel().copy()
        out[mask] = result.x
        return out.reshape(base.shape)

    def _local_search(
        self, posterior: Posterior, best: float, x: np.ndarray, value: float, passes: int = 3
    ) -> tuple[np.ndarray, float]:
        """Greedy moves over discrete coordinates while log EI improves."""
        for _ in range(passes):
            near = self.encoding.neighbours(x)
            if not len(near):
                break
            scores = log_ei(posterior, near, best)
            i = int(np.argmax(scores))
            if scores[i] <= value:
                break
            x, value = near[i], float(scores[i])
        return x, value


def _first_unknown(rows: np.ndarray, known: Callable[[np.ndarray], np.ndarray]) -> np.ndarray | None:
    """The first row that ``known`` does not mark, asking in growing blocks (the first row
    is usually free; when it is not, one batched call beats hundreds of single ones)."""
    start, size = 0, 8
    while start < len(rows):
        block = rows[start:start + size]
        free = np.flatnonzero(~np.asarray(known(block), dtype=bool))
        if len(free):
            return np.asarray(block[free[0]])
        start, size = start + size, size * 4
    return None


def _distinct_rows(X: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` distinct rows of ``X``, in order."""
    seen, rows = set(), []
    for x in X:
        key = np.round(x, 9).tobytes()
        if key not in seen:
            seen.add(key)
            rows.append(x)
            if len(rows) == k:
                break
    return np.array(rows)

