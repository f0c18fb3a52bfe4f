"""Parzen (kernel density) estimators over the unit cube, as TPE uses them.

One :class:`Parzen` is fitted per group (good or bad observations). It is a mixture of one
kernel per observation plus a prior component (the uniform distribution on the unit cube,
which is each domain's own prior), weighted by ``prior_weight``. Kernels by column kind:

* continuous: Gaussian truncated to [0, 1];
* ordinal: the same Gaussian, discretized: a value's probability is the mass on its bin;
* categorical: Aitchison-Aitken: the centre's category has probability ``1 - beta``,
  each other category ``beta / (K - 1)``.

Bandwidths of numeric columns, by one of two rules (``bandwidth``):

* ``"neighbour"`` (TPE's multivariate default, :func:`neighbour_bandwidths`): per centre
  and column, the larger of the gaps to the neighbouring centres (Bergstra et al.'s rule,
  Optuna's too), clipped to ``[1 / min(100, n + 2), 1]`` and, for ordinal columns, to at
  least half an average bin; in :class:`Parzen`, also to at least
  :data:`NEIGHBOUR_FLOOR` (0.3) times Scott's width below. Why the floor: gaps between
  neighbours shrink like ``1 / n`` in each column, while a product kernel over ``d``
  columns needs widths shrinking like ``n^(-1 / (d + 4))``; without it, in 16 dimensions
  with ~150 observations (counting-ones under ASHA) ``g`` became a set of spikes and
  the search did worse than with Scott's widths alone (mean best -13.8 vs -14.8 of -16,
  8 seeds; -14.3 with the floor), while on the low-dimensional test functions the floor
  changes little (it removed the worst seeds);
* ``"scott"`` (:func:`bandwidths`), one width per column and group:
  ``h = 1.06 sigma n^(-1 / (p + 4))`` with ``p = 1`` (univariate) or ``p = d``
  (multivariate), where ``sigma`` is the group's standard deviation blended with the
  prior's (``1 / sqrt(12)``, counted as ``prior_weight`` observations: few points do not
  give a zero width) and ``n`` the effective number of centres (Kish's, for weighted
  centres). ``h`` is clipped to ``[1 / min(100, n + 1), 1]`` (Bergstra et al.'s "magic
  clip": narrow kernels over-exploit) and, for ordinal columns, to at least half an
  average bin, so a kernel gives its neighbours some mass.

Categorical columns, either rule: ``beta = (K - 1) / K * (n + 1)^(-1/3)``: uniform-ish
with one observation, sharper as the group grows. (The exponent 1/3 did better than 1/2,
which locks onto an early category, and 1/5 on three test functions, 12 seeds each.)

Two modes. Multivariate: a kernel is a product over columns, so one centre describes a
whole config and correlations between parameters are kept. Univariate: each column has its
own mixture over the centres where that parameter was active.

Conditional parameters: a centre where a parameter was inactive says nothing about it, so
for that column it falls back to the prior; a candidate where a parameter is inactive
simply has no factor for it (the densities are over the tree of active parameters, and
still normalized, because whether a child exists is decided by its parents' values).
"""

from __future__ import annotations

from typing import Any

import math

import numpy as np
from scipy.special import ndtr, ndtri

from ._encoding import CAT, CONT, ORD, Encoding

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_PRIOR_VARIANCE = 1.0 / 12.0  # variance of U(0, 1)
_TINY = 1e-300
#: Neighbour widths are at least this share of Scott's width for the group (see the
#: module docstring).
NEIGHBOUR_FLOOR = 0.3


def _bin_log_mass(
    edges: np.ndarray, bins: np.ndarray, mu: np.ndarray, h: float | np.ndarray
) -> np.ndarray:
    """Log mass of each Gaussian kernel (centres ``mu``, ``(m,)``, widths ``h``, a number
    or ``(m,)``) on each bin
    ``[edges[b], edges[b + 1]]`` of ``bins`` (``(n,)``): ``(n, m)``.

    The CDF is evaluated once per distinct edge and centre, in its tail form
    ``Phi(-|z|)``, so that bins far out in a kernel's tail keep a precise (tiny) mass
    instead of a difference of two numbers that round to 1.
    """
    # The distinct edges used, and where each bin's two edges sit among them: a mark per
    # edge and a running count (edges are few; cheaper than sorting in ``np.unique``).
    used = np.zeros(len(edges), dtype=bool)
    used[bins] = True
    used[bins + 1] = True
    needed = np.flatnonzero(used)
    rank = np.cumsum(used) - 1
    where = np.concatenate([rank[bins], rank[bins + 1]])
    z = (edges[needed][None, :] - mu[:, None]) / np.reshape(h, (-1, 1))  # (m, e)
    tail = ndtr(-np.abs(z))
    n = len(bins)
    za, zb = z[:, where[:n]], z[:, where[n:]]
    ta, tb = tail[:, where[:n]], tail[:, where[n:]]
    mass = np.where(za >= 0, ta - tb, np.where(zb <= 0, tb - ta, 1.0 - ta - tb))
    with np.errstate(divide="ignore"):
        return np.log(mass.T)


def _logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    """``log(sum(exp(values)))`` along ``axis``; ``-inf`` where every term is ``-inf``."""
    top = values.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(values - top).sum(axis=axis, keepdims=True)) + top
    return np.squeeze(out, axis=axis)


def bandwidths(
    encoding: Encoding,
    centres: np.ndarray,
    weights: np.ndarray,
    prior_weight: float,
    multivariate: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Kernel widths for a group: ``h`` per column (numeric columns) and ``beta`` per
    categorical column, by the rules in the module docstring."""
    enc = encoding
    active = ~np.isnan(centres)
    mu = np.where(active, centres, 0.0)
    w = weights[:, None] * active
    total = w.sum(axis=0)
    n_eff = total**2 / np.maximum((w * w).sum(axis=0), _TINY)
    mean = (w * mu).sum(axis=0) / np.maximum(total, _TINY)
    variance = (w * (mu - mean) ** 2).sum(axis=0) / np.maximum(total, _TINY)
    variance = (n_eff * variance + prior_weight * _PRIOR_VARIANCE) / (n_eff + prior_weight)
    p = enc.d if multivariate else 1
    h = 1.06 * np.sqrt(variance) * np.maximum(n_eff, 1.0) ** (-1.0 / (p + 4))
    h_min = 1.0 / np.minimum(100.0, n_eff + 1.0)
    h_min[enc.ord] = np.maximum(h_min[enc.ord], 0.5 / enc.sizes[enc.ord])
    sizes = enc.sizes[enc.cat]
    beta = (sizes - 1.0) / sizes * (n_eff[enc.cat] + 1.0) ** (-1.0 / 3.0)
    return np.clip(h, h_min, 1.0), beta


def neighbour_bandwidths(
    encoding: Encoding, centres: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Per-centre kernel widths ``(m, d)`` by the distance to the neighbours (Bergstra et
    al.'s rule, also Optuna's): in each numeric column, a centre's width is the larger of
    its gaps to the next centre below and above, the cube's ends counting as neighbours
    except beside the outermost centres (whose width is their one inner gap).

    Why: where good configs crowd (near an optimum) kernels are narrow and the search
    refines; an isolated centre gets a wide kernel and keeps exploring around it. A single
    width per column (Scott's rule) is set by the spread of the whole group, so with good
    configs in two basins it is wide everywhere, and with all in one it is narrow
    everywhere. Clipped like :func:`bandwidths`: at least ``1 / min(100, n + 2)`` (the
    "magic clip", ``n`` the group's total weight) and half an average bin for ordinal
    columns, at most 1. Categorical columns and inactive entries get 1 (unused).
    """
    enc = encoding
    m, d = centres.shape
    widths = np.ones((m, d))
    active = ~np.isnan(centres)
    total = (weights[:, None] * active).sum(axis=0)
    low = 1.0 / np.minimum(100.0, total + 2.0)
    low[enc.ord] = np.maximum(low[enc.ord], 0.5 / enc.sizes[enc.ord])
    num = np.concatenate([enc.cont, enc.ord])
    complete = active[:, num].all(axis=0)
    full = num[complete]
    if m and len(full):  # all columns at once where every centre is active
        order = np.argsort(centres[:, full], axis=0, kind="stable")
        values = centres[order, full]
        widths[order, full] = np.clip(_gap_widths(values), low[full], 1.0)
    for j in num[~complete]:  # columns of conditional parameters
        rows = np.flatnonzero(active[:, j])
        if len(rows):
            order = rows[np.argsort(centres[rows, j], kind="stable")]
            widths[order, j] = np.clip(_gap_widths(centres[order, j, None])[:, 0], low[j], 1.0)
    return widths


def _gap_widths(values: np.ndarray) -> np.ndarray:
    """Neighbour widths of sorted columns ``values`` (``(k, c)``, ascending, ``k >= 1``):
    the larger gap to the next value below and above, 0 and 1 counting as values, except
    that the first and last use their inner gap when there are at least two."""
    k, c = values.shape
    padded = np.vstack([np.zeros((1, c)), values, np.ones((1, c))])
    gaps = np.diff(padded, axis=0)
    width = np.maximum(gaps[:-1], gaps[1:])
    if k >= 2:
        width[0], width[-1] = gaps[1], gaps[-2]
    return width


def _pick(per_centre: np.ndarray, prior_value: float, component: np.ndarray) -> np.ndarray:
    """``per_centre[component[i, k], k]``, where component ``m`` (the prior) gives
    ``prior_value``."""
    extra = np.full((1, per_centre.shape[1]), prior_value, dtype=per_centre.dtype)
    return np.take_along_axis(np.vstack([per_centre, extra]), component, axis=0)


class Parzen:
    """The density of one group of observations (plus the prior) in TPE's unit cube.

    ``centres`` is ``(m, d)`` with NaN where a parameter was inactive; ``weights`` is
    ``(m,)`` (1 per observation, more for centres standing for a subsample, or weights
    by merit). ``bandwidth`` picks the width rule (module docstring); ``widths`` holds the
    resulting ``(m, d)`` kernel widths (``h`` stays Scott's per-column widths).
    """

    def __init__(
        self,
        encoding: Encoding,
        centres: np.ndarray,
        weights: np.ndarray,
        prior_weight: float,
        multivariate: bool,
        bandwidth: str = "scott",
    ) -> None:
        enc = self.encoding = encoding
        self.multivariate = multivariate
        self.m = m = centres.shape[0]
        self.active = active = ~np.isnan(centres)
        self.all_active = bool(active.all())
        mu = self.mu = np.where(active, centres, 0.5)
        w = weights[:, None] * active  # (m, d): weight of each centre in each column
        total = w.sum(axis=0)
        self.h, self.beta = bandwidths(encoding, centres, weights, prior_weight, multivariate)
        if bandwidth == "scott":
            self.widths = np.broadcast_to(self.h, (m, enc.d))
        elif bandwidth == "neighbour":
            widths = neighbour_bandwidths(encoding, centres, weights)
            self.widths = np.maximum(widths, NEIGHBOUR_FLOOR * self.h)
        else:
            raise ValueError(f"bandwidth must be 'scott' or 'neighbour', got {bandwidth!r}")

        # Truncation of each numeric kernel to [0, 1]: CDF at both ends, log of the mass.
        num = self.num = np.concatenate([enc.cont, enc.ord])
        hn = self.widths[:, num]
        self.cdf_lo = ndtr(-mu[:, num] / hn)
        self.cdf_hi = ndtr((1.0 - mu[:, num]) / hn)
        self.log_z = np.log(np.maximum(self.cdf_hi - self.cdf_lo, _TINY))
        self._n_cont = len(enc.cont)

        # Aitchison-Aitken kernels.
        sizes = enc.sizes[enc.cat]
        with np.errstate(divide="ignore", invalid="ignore"):
            self.log_keep = np.log1p(-self.beta)
            log_move = np.log(self.beta / np.maximum(sizes - 1, 1))
            self.log_move = np.where(sizes > 1, log_move, -np.inf)
        self.centre_cat = enc.category(mu) if len(enc.cat) else np.empty((m, 0), dtype=np.int64)

        # Mixture weights (the prior is component ``m``).
        with np.errstate(divide="ignore"):
            if multivariate:
                norm = weights.sum() + prior_weight
                self.log_w = np.log(weights / norm)
                self.log_prior: Any = math.log(prior_weight / norm)
            else:
                norm = total + prior_weight  # per column
                self.log_w = np.log(w / norm)  # (m, d), -inf where inactive
                self.log_prior = np.log(prior_weight / norm)  # (d,)
        self._weights, self._prior_weight = weights, prior_weight

        # Per-column views, contiguous, for the candidate-by-centre loops.
        self._mu_t = np.ascontiguousarray(mu.T)
        self._active_t = np.ascontiguousarray(active.T)
        self._partial = ~active.all(axis=0)
        self._where = {}
        for kind, columns in ((CONT, enc.cont), (ORD, enc.ord), (CAT, enc.cat)):
            for k, j in enumerate(columns):
                self._where[int(j)] = (kind, k)
        nc = self._n_cont
        self._cont_const = np.ascontiguousarray(
            (-(np.log(self.widths[:, enc.cont]) + _LOG_SQRT_2PI) - self.log_z[:, :nc]).T
        )
        self._widths_t = np.ascontiguousarray(self.widths.T)
        self._inverse_widths_t = 1.0 / self._widths_t
        self._ord_log_z = np.ascontiguousarray(self.log_z[:, nc:].T)
        self._cat_t = np.ascontiguousarray(self.centre_cat.T)

    def _cumulative(self) -> np.ndarray:
        """Cumulative component weights, normalized: ``(m + 1,)`` or ``(m + 1, d)``
        (per column when univariate: a column mixes only the centres active in it)."""
        if self.multivariate:
            cum = np.cumsum(np.append(self._weights, self._prior_weight))
        else:
            w = self._weights[:, None] * self.active
            cum = np.cumsum(np.vstack([w, np.full((1, w.shape[1]), self._prior_weight)]), axis=0)
        return cum / cum[-1]

    # -- sampling -----------------------------------------------------------------------

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` draws: unit points ``(n, d)`` (snapped onto values) and the bin of each
        ordinal coordinate (``(n, len(ord))``, see :meth:`Encoding.snap`)."""
        enc, m, d = self.encoding, self.m, self.encoding.d
        cum = self._cumulative()
        if self.multivariate:
            comp = np.searchsorted(cum, rng.random(n), side="right")
            comp = np.minimum(comp, m)[:, None].repeat(d, axis=1)
        else:
            r = rng.random((n, d))
            comp = (r[:, None, :] >= cum[None, :, :]).sum(axis=1)
            comp = np.minimum(comp, m)
        active = np.vstack([self.active, np.zeros((1, d), dtype=bool)])
        from_prior = ~np.take_along_axis(active, comp, axis=0)
        r = rng.random((n, d))
        x = r.copy()  # prior draws: uniform on the unit cube

        num = self.num
        if len(num):
            cn = comp[:, num]
            mu = _pick(self.mu[:, num], 0.5, cn)
            lo, hi = _pick(self.cdf_lo, 0.0, cn), _pick(self.cdf_hi, 1.0, cn)
            u = lo + r[:, num] * (hi - lo)
            h = _pick(self.widths[:, num], 1.0, cn)
            drawn = np.clip(mu + h * ndtri(u), 0.0, 1.0)
            x[:, num] = np.where(from_prior[:, num], r[:, num], drawn)

        cat = enc.cat
        if len(cat):
            sizes = enc.sizes[cat]
            k = sizes.astype(np.int64)
            centre = _pick(self.centre_cat, 0, comp[:, cat])
            r_move = rng.random((n, len(cat)))
            shift = 1 + np.minimum((r_move * (sizes - 1)).astype(np.int64), np.maximum(k - 2, 0))
            moved = np.where(r[:, cat] < self.beta, (centre + shift) % k, centre)
            uniform = np.minimum((r[:, cat] * sizes).astype(np.int64), k - 1)
            index = np.where(from_prior[:, cat], uniform, moved)
            x[:, cat] = (index + 0.5) / sizes
        return x, enc.snap(x)

    # -- density ------------------------------------------------------------------------

    def _prior_terms(self, x: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """Log prior probability of each candidate coordinate: ``(n, d)``."""
        enc = self.encoding
        prior = np.zeros(x.shape)
        if len(enc.ord):
            prior[:, enc.ord] = np.log(np.maximum(enc.bin_widths(bins), _TINY))
        if len(enc.cat):
            prior[:, enc.cat] = -np.log(enc.sizes[enc.cat])
        return prior

    def _column_terms(
        self, j: int, x: np.ndarray, bins: np.ndarray, prior: np.ndarray
    ) -> np.ndarray:
        """Log kernel value of every centre at every candidate in column ``j``: ``(n, m)``."""
        kind, k = self._where[j]
        if kind == CONT:
            z = (x[:, j, None] - self._mu_t[j]) * self._inverse_widths_t[j]
            terms = -0.5 * z * z + self._cont_const[k]
        elif kind == ORD:
            edges = self.encoding.columns[j].edges
            assert edges is not None
            h = self._widths_t[j]
            terms = _bin_log_mass(edges, bins[:, k], self._mu_t[j], h) - self._ord_log_z[k]
        else:
            column = self.encoding.columns[j]
            index = np.minimum((x[:, j] * column.size).astype(np.int64), column.size - 1)
            same = index[:, None] == self._cat_t[k]
            terms = np.where(same, self.log_keep[k], self.log_move[k])
        if self._partial[j]:
            terms = np.where(self._active_t[j], terms, prior[:, j, None])
        return terms

    def log_density(
        self, x: np.ndarray, bins: np.ndarray, active: np.ndarray | None = None
    ) -> np.ndarray:
        """Log density at candidates ``x`` (with their ordinal ``bins``).

        Multivariate: ``(n,)``, the joint density over the parameters ``active`` marks as
        present in each candidate (all when None). Univariate: ``(n, d)``, one marginal per
        column (``active`` is ignored: columns are modelled independently).
        """
        n, d = x.shape
        prior = self._prior_terms(x, bins)
        if not self.multivariate:
            out = self.log_prior[None, :] + prior
            if self.m:
                for j in range(d):
                    terms = self._column_terms(j, x, bins, prior) + self.log_w[:, j]
                    mixture = _logsumexp(terms, axis=1)
                    out[:, j] = np.logaddexp(mixture, out[:, j])
            return out
        if active is not None and not active.all():
            prior = np.where(active, prior, 0.0)
        else:
            active = None
        out = self.log_prior + prior.sum(axis=1)
        if not self.m:
            return out
        joint = np.broadcast_to(self.log_w, (n, self.m)).copy()
        for j in range(d):
            terms = self._column_terms(j, x, bins, prior)
            if active is not None and not active[:, j].all():
                terms = np.where(active[:, j, None], terms, 0.0)
            joint += terms
        return np.logaddexp(_logsumexp(joint, axis=1), out)
