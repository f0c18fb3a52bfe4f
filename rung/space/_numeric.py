"""Numeric domains: uniform and normal floats (linear or log), their quantized forms, ints.

Each class covers a linear and a log variant (``log=True``), so ``Uniform(1e-4, 1,
log=True)`` is what ``loguniform(1e-4, 1)`` builds. Sampling is ``from_unit`` of a uniform
draw (or a normal draw for the normal family), computed with ``math`` on Python floats to
stay fast for single values. The uniform family and ints also map whole arrays at once with
numpy (``to_unit_array`` / ``from_unit_array``, for ``Space.to_unit_array``); the normal
family keeps the per-value loop of :class:`Domain`, as numpy has no normal quantile.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from statistics import NormalDist
from typing import Any, cast

import numpy as np

from ._domains import Domain, _checked_unit, clip_unit, register
from ._errors import SpaceError

_STANDARD_NORMAL = NormalDist()
# Unit positions of unbounded domains stay in [_EPS, 1 - _EPS] (about +-7 sigma).
_EPS = 1e-12
_SQRT2 = math.sqrt(2.0)


def _arg(factory: str, name: str, value: Any) -> int | float:
    """A finite real factory argument (numpy scalars become Python numbers)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpaceError(f"{factory} needs a number for {name}, got {name}={value!r}")
    if not math.isfinite(value):
        raise SpaceError(f"{factory} needs a finite {name}, got {name}={value!r}")
    return cast("int | float", value)


def _as_float(value: Any) -> float:
    """A finite float for a float-valued domain; ints are fine, bools are not."""
    if value.__class__ is not float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise SpaceError(f"expected a number, got {value!r}")
        value = float(value)
    if not math.isfinite(value):
        raise SpaceError(f"expected a finite number, got {value!r}")
    return value


def _as_int(value: Any) -> int:
    """An int for an int-valued domain; integral floats (``3.0``) are fine, bools are not."""
    if value.__class__ is int:
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise SpaceError(f"expected an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if not (math.isfinite(value) and float(value).is_integer()):
        raise SpaceError(f"expected an integer, got {value!r}")
    return int(cast(float, value))


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


def _clip_eps(u: float) -> float:
    return _EPS if u < _EPS else 1.0 - _EPS if u > 1.0 - _EPS else u


class _Quantizer:
    """Rounds to multiples of ``q``: exact for ints, else to ``q``'s decimal places.

    Rounding ``3 * 0.1`` to one decimal gives ``0.3`` rather than ``0.30000000000000004``.
    """

    def __init__(self, q: int | float, as_int: bool) -> None:
        self.q = q
        self.as_int = as_int
        exponent = Decimal(repr(float(q))).as_tuple().exponent
        self._digits = -exponent if isinstance(exponent, int) and -15 <= exponent < 0 else None

    def snap(self, k: int) -> int | float:
        if self.as_int:
            return k * self.q
        if self._digits is None:
            return float(k * self.q)
        return round(k * self.q, self._digits)

    def multiple(self, value: Any) -> int:
        """``k`` with ``value == k * q`` (up to float noise); SpaceError if there is none."""
        if self.as_int:
            value = _as_int(value)
            if value % self.q:
                raise SpaceError(f"{value!r} is not a multiple of q={self.q!r}")
            return value // self.q
        value = _as_float(value)
        k = round(value / self.q)
        if abs(value - k * self.q) > 1e-9 * self.q + 4 * math.ulp(value):
            raise SpaceError(f"{value!r} is not a multiple of q={self.q!r}")
        return k


class Uniform(Domain):
    """Floats in ``[low, high]``, uniform on a linear or (``log=True``) log scale."""

    def __init__(self, low: float, high: float, log: bool = False) -> None:
        name = "loguniform" if log else "uniform"
        low, high = _arg(name, "low", low), _arg(name, "high", high)
        if log and low <= 0:
            raise SpaceError(f"{name} needs low > 0, got low={low!r}")
        if low >= high:
            raise SpaceError(f"{name} needs low < high, got low={low!r}, high={high!r}")
        self.low, self.high, self.log = float(low), float(high), bool(log)
        self._lo = math.log(self.low) if log else self.low
        self._span = (math.log(self.high) if log else self.high) - self._lo
        if not math.isfinite(self._span):
            raise SpaceError(f"{name} range is too wide, got low={low!r}, high={high!r}")

    @property
    def type_name(self) -> str:
        return "loguniform" if self.log else "uniform"

    def _fields(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}

    def _continuous(self, u: float) -> float:
        x = self._lo + u * self._span
        if self.log:
            x = math.exp(x)
        return self.low if x < self.low else self.high if x > self.high else x

    def sample(self, rng: np.random.Generator) -> float:
        return self._continuous(rng.random())

    def from_unit(self, u: float) -> float:
        if not 0.0 <= u <= 1.0:
            u = clip_unit(u)
        return self._continuous(u)

    def to_unit(self, value: Any) -> float:
        x = _as_float(value)
        if self.log:
            if x <= self.low:
                return 0.0
            x = math.log(x)
        u = (x - self._lo) / self._span
        return 0.0 if u < 0.0 else 1.0 if u > 1.0 else u

    def from_unit_array(self, u: np.ndarray) -> list[Any]:
        x = self._lo + _checked_unit(u) * self._span
        if self.log:
            x = np.exp(x)
        return np.clip(x, self.low, self.high).tolist()

    def to_unit_array(self, values: Any) -> np.ndarray:
        x = np.array([_as_float(value) for value in values], dtype=float)
        if self.log:
            x = np.log(np.maximum(x, self.low))
        return np.clip((x - self._lo) / self._span, 0.0, 1.0)

    def validate(self, value: Any) -> float:
        x = _as_float(value)
        if not self.low <= x <= self.high:
            raise SpaceError(f"{value!r} is outside [{self.low!r}, {self.high!r}]")
        return x

    def _grid(self, num_points: int | None) -> list[float]:
        assert num_points is not None
        if num_points == 1:
            return [self._continuous(0.5)]
        return [self._continuous(i / (num_points - 1)) for i in range(num_points)]


class QUniform(Domain):
    """Multiples of ``q`` in ``[low, high]``: a uniform (or log-uniform) draw, rounded to the
    nearest multiple and moved inward by ``q`` if that left the range.

    Ints when ``low``, ``high`` and ``q`` are all ints, else floats. In unit space a value
    sits where its continuous draw would, so ``from_unit`` matches the sampling distribution.
    """

    is_finite = True

    def __init__(self, low: float, high: float, q: float, log: bool = False) -> None:
        name = "qloguniform" if log else "quniform"
        low, high, q = _arg(name, "low", low), _arg(name, "high", high), _arg(name, "q", q)
        if q <= 0:
            raise SpaceError(f"{name} needs q > 0, got q={q!r}")
        if log and low <= 0:
            raise SpaceError(f"{name} needs low > 0, got low={low!r}")
        if low >= high:
            raise SpaceError(f"{name} needs low < high, got low={low!r}, high={high!r}")
        as_int = all(isinstance(v, int) for v in (low, high, q))
        if not as_int:
            low, high, q = float(low), float(high), float(q)
        self.low, self.high, self.q, self.log = low, high, q, bool(log)
        self._quantizer = _Quantizer(q, as_int)
        self._kmin, self._kmax = self._multiples_in_range()
        if self._kmin > self._kmax:
            raise SpaceError(
                f"{name} needs a multiple of q in [low, high], "
                f"got low={low!r}, high={high!r}, q={q!r}"
            )
        if self._kmin == self._kmax:
            # One multiple in range: like uniform(1, 1), a constant posing as a search dimension
            raise SpaceError(
                f"{name} has a single multiple of q in [low, high] ({self._quantizer.snap(self._kmin)!r}), "
                f"got low={low!r}, high={high!r}, q={q!r}; use a smaller q or a constant"
            )
        self._lo = math.log(low) if log else float(low)
        self._span = (math.log(high) if log else float(high)) - self._lo
        if not math.isfinite(self._span) or (high - low) / q > 1e15:
            raise SpaceError(f"{name} range is too wide, got low={low!r}, high={high!r}")

    def _multiples_in_range(self) -> tuple[int, int]:
        low, high, q = self.low, self.high, self.q
        if self._quantizer.as_int:
            return int(-(-low // q)), int(high // q)
        snap = self._quantizer.snap
        kmin = math.ceil(low / q - 1e-9)
        while snap(kmin) < low:
            kmin += 1
        kmax = math.floor(high / q + 1e-9)
        while snap(kmax) > high:
            kmax -= 1
        return kmin, kmax

    @property
    def type_name(self) -> str:
        return "qloguniform" if self.log else "quniform"

    def _fields(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "q": self.q}

    def _value_at(self, u: float) -> int | float:
        x = self._lo + u * self._span
        if self.log:
            x = math.exp(x)
        k = round(x / self.q)
        k = self._kmin if k < self._kmin else self._kmax if k > self._kmax else k
        return self._quantizer.snap(k)

    def sample(self, rng: np.random.Generator) -> int | float:
        return self._value_at(rng.random())

    def from_unit(self, u: float) -> int | float:
        if not 0.0 <= u <= 1.0:
            u = clip_unit(u)
        return self._value_at(u)

    def to_unit(self, value: Any) -> float:
        x = _as_float(value)
        if self.log:
            x = math.log(x) if x > 0 else self._lo
        u = (x - self._lo) / self._span
        return 0.0 if u < 0.0 else 1.0 if u > 1.0 else u

    def from_unit_array(self, u: np.ndarray) -> list[Any]:
        x = self._lo + _checked_unit(u) * self._span
        if self.log:
            x = np.exp(x)
        k = np.clip(np.rint(x / self.q), self._kmin, self._kmax).astype(np.int64)
        snap = self._quantizer.snap  # Python rounding to q's decimals, as from_unit does
        return [snap(int(i)) for i in k.tolist()]

    def to_unit_array(self, values: Any) -> np.ndarray:
        x = np.array([_as_float(value) for value in values], dtype=float)
        if self.log:
            positive = x > 0
            x = np.where(positive, np.log(np.where(positive, x, 1.0)), self._lo)
        return np.clip((x - self._lo) / self._span, 0.0, 1.0)

    def validate(self, value: Any) -> int | float:
        k = self._quantizer.multiple(value)
        if not self._kmin <= k <= self._kmax:
            raise SpaceError(f"{value!r} is outside [{self.low!r}, {self.high!r}]")
        return self._quantizer.snap(k)

    def _grid(self, num_points: int | None) -> list[int | float]:
        snap = self._quantizer.snap
        return [snap(k) for k in range(self._kmin, self._kmax + 1)]

    def grid_size(self, num_points: int | None = None) -> int:
        return self._kmax - self._kmin + 1


class Normal(Domain):
    """Unbounded floats ``mu + sigma * z`` with ``z`` standard normal; with ``log=True``
    their exponential (lognormal). Unit space is the normal CDF, kept within about
    +-7 sigma."""

    def __init__(self, mu: float, sigma: float, log: bool = False) -> None:
        name = "lognormal" if log else "normal"
        mu, sigma = _arg(name, "mu", mu), _arg(name, "sigma", sigma)
        if sigma <= 0:
            raise SpaceError(f"{name} needs sigma > 0, got sigma={sigma!r}")
        self.mu, self.sigma, self.log = float(mu), float(sigma), bool(log)

    @property
    def type_name(self) -> str:
        return "lognormal" if self.log else "normal"

    def _fields(self) -> dict[str, Any]:
        return {"mu": self.mu, "sigma": self.sigma}

    def sample(self, rng: np.random.Generator) -> float:
        x = self.mu + self.sigma * rng.standard_normal()
        return math.exp(x) if self.log else x

    def _continuous(self, u: float) -> float:
        x = self.mu + self.sigma * _STANDARD_NORMAL.inv_cdf(_clip_eps(u))
        return math.exp(x) if self.log else x

    def from_unit(self, u: float) -> float:
        if u != u:
            clip_unit(u)
        return self._continuous(u)

    def _position(self, x: float) -> float:
        if self.log:
            if x <= 0:
                return _EPS
            x = math.log(x)
        return _clip_eps(_normal_cdf((x - self.mu) / self.sigma))

    def to_unit(self, value: Any) -> float:
        return self._position(_as_float(value))

    def validate(self, value: Any) -> float:
        x = _as_float(value)
        if self.log and x <= 0:
            raise SpaceError(f"lognormal values are > 0, got {value!r}")
        return x

    def _grid(self, num_points: int | None) -> list[float]:
        assert num_points is not None
        return [self._continuous((i + 1) / (num_points + 1)) for i in range(num_points)]


class QNormal(Normal):
    """``round(x / q) * q`` for ``x`` drawn from ``normal(mu, sigma)`` (``lognormal`` with
    ``log=True``, which can give 0). Infinite. Ints when ``mu``, ``sigma`` and ``q`` are
    all ints."""

    def __init__(self, mu: float, sigma: float, q: float, log: bool = False) -> None:
        name = "qlognormal" if log else "qnormal"
        mu, sigma, q = _arg(name, "mu", mu), _arg(name, "sigma", sigma), _arg(name, "q", q)
        if sigma <= 0:
            raise SpaceError(f"{name} needs sigma > 0, got sigma={sigma!r}")
        if q <= 0:
            raise SpaceError(f"{name} needs q > 0, got q={q!r}")
        super().__init__(mu, sigma, log)
        as_int = all(isinstance(v, int) for v in (mu, sigma, q))
        if as_int:
            self.mu, self.sigma = mu, sigma
        self.q = q if as_int else float(q)
        self._quantizer = _Quantizer(self.q, as_int)

    @property
    def type_name(self) -> str:
        return "qlognormal" if self.log else "qnormal"

    def _fields(self) -> dict[str, Any]:
        return {"mu": self.mu, "sigma": self.sigma, "q": self.q}

    def sample(self, rng: np.random.Generator) -> int | float:
        return self._quantizer.snap(round(super().sample(rng) / self.q))

    def from_unit(self, u: float) -> int | float:
        return self._quantizer.snap(round(super().from_unit(u) / self.q))

    def to_unit(self, value: Any) -> float:
        x = _as_float(value)
        if self.log and x <= 0:
            # Anything in (0, q/2) rounds to 0; take a point inside that bin.
            x = self.q / 4
        return self._position(x)

    def validate(self, value: Any) -> int | float:
        k = self._quantizer.multiple(value)
        if self.log and k < 0:
            raise SpaceError(f"qlognormal values are >= 0, got {value!r}")
        return self._quantizer.snap(k)

    def _grid(self, num_points: int | None) -> list[int | float]:
        # Quantiles can round to the same multiple; keep each value once.
        return list(dict.fromkeys(self.from_unit(u) for u in self._grid_units(num_points)))

    def _grid_units(self, num_points: int | None) -> list[float]:
        assert num_points is not None
        return [(i + 1) / (num_points + 1) for i in range(num_points)]


class RandInt(Domain):
    """Integers in ``[low, high]``, both included; uniform, or log-uniform with
    ``log=True`` (needs ``low >= 1``).

    In unit space each integer owns an equal-width bin (log-spaced bins of
    ``[low - 0.5, high + 0.5]`` when ``log=True``) and is encoded as its bin's centre.
    """

    is_finite = True

    def __init__(self, low: int, high: int, log: bool = False) -> None:
        low_arg, high_arg = _arg("randint", "low", low), _arg("randint", "high", high)
        for name, value in (("low", low_arg), ("high", high_arg)):
            if not float(value).is_integer():
                raise SpaceError(f"randint needs integer bounds, got {name}={value!r}")
        low, high = int(low_arg), int(high_arg)
        if log and low < 1:
            raise SpaceError(f"randint with log=True needs low >= 1, got low={low!r}")
        if low >= high:
            raise SpaceError(f"randint needs low < high, got low={low!r}, high={high!r}")
        self.low, self.high, self.log = low, high, bool(log)
        self._size = high - low + 1
        if log:
            self._lo = math.log(low - 0.5)
            self._span = math.log(high + 0.5) - self._lo

    @property
    def type_name(self) -> str:
        return "randint"

    def _fields(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "log": self.log}

    def _plain_fields(self) -> dict[str, Any]:
        fields = self._fields()
        if not self.log:
            del fields["log"]
        return fields

    def _value_at(self, u: float) -> int:
        if self.log:
            k = round(math.exp(self._lo + u * self._span))
            return self.low if k < self.low else self.high if k > self.high else k
        i = int(u * self._size)
        return self.low + (i if i < self._size else self._size - 1)

    def sample(self, rng: np.random.Generator) -> int:
        return self._value_at(rng.random())

    def from_unit(self, u: float) -> int:
        if not 0.0 <= u <= 1.0:
            u = clip_unit(u)
        return self._value_at(u)

    def to_unit(self, value: Any) -> float:
        k = _as_int(value)
        k = self.low if k < self.low else self.high if k > self.high else k
        if self.log:
            centre = 0.5 * (math.log(k - 0.5) + math.log(k + 0.5))
            return (centre - self._lo) / self._span
        return (k - self.low + 0.5) / self._size

    def from_unit_array(self, u: np.ndarray) -> list[Any]:
        u = _checked_unit(u)
        if self.log:
            k = np.rint(np.exp(self._lo + u * self._span)).astype(np.int64)
            return np.clip(k, self.low, self.high).tolist()
        i = np.minimum((u * self._size).astype(np.int64), self._size - 1)
        return (self.low + i).tolist()

    def to_unit_array(self, values: Any) -> np.ndarray:
        k = np.clip(np.array([_as_int(value) for value in values], dtype=np.int64), self.low, self.high)
        if self.log:
            centre = 0.5 * (np.log(k - 0.5) + np.log(k + 0.5))
            return (centre - self._lo) / self._span
        return (k - self.low + 0.5) / self._size

    def validate(self, value: Any) -> int:
        k = _as_int(value)
        if not self.low <= k <= self.high:
            raise SpaceError(f"{value!r} is outside [{self.low!r}, {self.high!r}]")
        return k

    def _grid(self, num_points: int | None) -> list[int]:
        return list(range(self.low, self.high + 1))

    def grid_size(self, num_points: int | None = None) -> int:
        return self._size


register("uniform", lambda low, high: Uniform(low, high), ("low", "high"))
register("loguniform", lambda low, high: Uniform(low, high, log=True), ("low", "high"))
register("normal", lambda mu, sigma: Normal(mu, sigma), ("mu", "sigma"))
register("lognormal", lambda mu, sigma: Normal(mu, sigma, log=True), ("mu", "sigma"))
register("quniform", lambda low, high, q: QUniform(low, high, q), ("low", "high", "q"))
register(
    "qloguniform", lambda low, high, q: QUniform(low, high, q, log=True), ("low", "high", "q")
)
register("qnormal", lambda mu, sigma, q: QNormal(mu, sigma, q), ("mu", "sigma", "q"))
register(
    "qlognormal", lambda mu, sigma, q: QNormal(mu, sigma, q, log=True), ("mu", "sigma", "q")
)
register(
    "randint", lambda low, high, log=False: RandInt(low, high, log=log), ("low", "high"), ("log",)
)
