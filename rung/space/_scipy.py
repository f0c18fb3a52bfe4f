"""``scipy.stats`` frozen distributions as domains.

Code written for scikit-learn or d2l describes a space with ``stats.loguniform(1e-2, 1)``
or ``stats.randint(32, 256)``. :func:`from_scipy` turns such an object into a domain:

* the common ones map exactly onto rung's own domains, which every searcher models natively
  and which are stored as themselves (``stats.uniform(2, 3)`` is ``uniform(2, 5)``,
  ``stats.loguniform(a, b)`` and ``stats.reciprocal(a, b)`` are ``loguniform(a, b)``,
  ``stats.randint(a, b)`` is ``randint(a, b - 1)`` (scipy's upper bound is exclusive,
  rung's inclusive), ``stats.norm(m, s)`` is ``normal(m, s)``, ``stats.lognorm(s,
  scale=e)`` is ``lognormal(log(e), s)``);
* any other frozen distribution (continuous or discrete) becomes a :class:`ScipyDomain`,
  which maps to and from the unit interval with the distribution's own ``cdf`` / ``ppf``,
  so GP, TPE and the other searchers work on it like on any numeric domain. It is stored
  by its scipy name and arguments (``{"type": "scipy", "name": "gamma", "args": [2.0],
  "kwds": {"scale": 3.0}}``) and rebuilt from ``scipy.stats`` when the space is loaded.

scipy is imported only when a scipy object is met, so ``import rung`` stays light.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from ._domains import Domain, _checked_unit, register
from ._errors import SpaceError
from ._numeric import Normal, RandInt, Uniform

# Unit positions stay in [_EPS, 1 - _EPS], so that unbounded distributions decode to
# finite values (as the normal domains do).
_EPS = 1e-12
# A discrete distribution with at most this many support values is finite (grid-able).
_FINITE_LIMIT = 100_000


def is_scipy_distribution(value: Any) -> bool:
    """Whether ``value`` is a frozen ``scipy.stats`` distribution, e.g. ``stats.norm(0, 1)``
    (checked without importing scipy unless the object comes from it)."""
    module = type(value).__module__ or ""
    if not module.startswith("scipy."):
        return False
    from scipy import stats

    return isinstance(getattr(value, "dist", None), (stats.rv_continuous, stats.rv_discrete))


def scipy_problem(value: Any) -> str | None:
    """Why a ``scipy.stats`` object that is not a frozen distribution cannot be a domain
    (e.g. ``stats.loguniform`` not called with its parameters), or None for anything else."""
    module = type(value).__module__ or ""
    if not module.startswith("scipy.stats") or is_scipy_distribution(value):
        return None
    from scipy import stats

    if isinstance(value, (stats.rv_continuous, stats.rv_discrete)):
        name = getattr(value, "name", "the distribution")
        return (
            f"scipy.stats.{name} is a distribution family, not a distribution: call it with its "
            f"parameters, e.g. stats.{name}(...), as in stats.loguniform(1e-3, 1)"
        )
    return (
        f"{type(value).__name__} (a scipy.stats object) is not supported as a domain: use a frozen "
        "distribution such as stats.norm(0, 1) or stats.loguniform(1e-3, 1), or a rung domain"
    )


def _number(value: Any, what: str) -> int | float:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpaceError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise SpaceError(f"{what} must be finite, got {value!r}")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _parameters(frozen: Any) -> tuple[str, bool, dict[str, int | float]]:
    """``(name, discrete, {shape..., loc, scale})`` of a frozen distribution, defaults filled
    in (scale only for continuous ones), read from its public ``dist.shapes``, ``args`` and
    ``kwds``."""
    from scipy import stats

    dist = frozen.dist
    name = str(dist.name)
    discrete = isinstance(dist, stats.rv_discrete)
    shapes = [s.strip() for s in (dist.shapes or "").split(",") if s.strip()]
    names = shapes + (["loc"] if discrete else ["loc", "scale"])
    args, kwds = tuple(frozen.args), dict(frozen.kwds)
    if len(args) > len(names):
        raise SpaceError(f"scipy.stats.{name} got {len(args)} positional arguments, expected at most {len(names)}")
    values: dict[str, Any] = {"loc": 0, "scale": 1} if not discrete else {"loc": 0}
    values.update(zip(names, args))
    for key, value in kwds.items():
        if key not in names:
            raise SpaceError(f"scipy.stats.{name} has no parameter {key!r} (it has {', '.join(names)})")
        values[key] = value
    missing = [s for s in shapes if s not in values]
    if missing:
        raise SpaceError(f"scipy.stats.{name} needs {', '.join(missing)}")
    return name, discrete, {key: _number(values[key], f"scipy.stats.{name} {key}") for key in names}


def describe_scipy(frozen: Any) -> str:
    """``"scipy.stats.gamma(2.0, scale=3.0)"``: the call that made ``frozen``, for messages."""
    parts = [repr(_plain_arg(a)) for a in frozen.args]
    parts += [f"{k}={_plain_arg(v)!r}" for k, v in frozen.kwds.items()]
    return f"scipy.stats.{frozen.dist.name}({', '.join(parts)})"


def _plain_arg(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def from_scipy(frozen: Any) -> Domain:
    """The domain for a frozen ``scipy.stats`` distribution (see the module docstring):
    an exact rung domain for uniform, loguniform / reciprocal, randint, norm and lognorm
    (with ``loc=0`` for the log ones), else a :class:`ScipyDomain`. SpaceError if the
    object is not a frozen distribution or its parameters are invalid."""
    if not is_scipy_distribution(frozen):
        raise SpaceError(f"expected a frozen scipy.stats distribution, got {frozen!r}")
    text = describe_scipy(frozen)
    name, discrete, p = _parameters(frozen)
    try:
        if name == "uniform":
            return Uniform(p["loc"], p["loc"] + p["scale"])
        if name in ("loguniform", "reciprocal") and p["loc"] == 0 and p["scale"] > 0:
            return Uniform(p["a"] * p["scale"], p["b"] * p["scale"], log=True)
        if name == "randint":
            low, high = p["low"] + p["loc"], p["high"] - 1 + p["loc"]
            if isinstance(low, float) and low.is_integer():
                low, high = int(low), int(high)
            if low == high:
                raise SpaceError(f"it has the single value {low!r}: use a constant")
            return RandInt(cast(int, low), cast(int, high))  # RandInt refuses non-integral bounds
        if name == "norm":
            return Normal(p["loc"], p["scale"])
        if name == "lognorm" and p["loc"] == 0 and p["scale"] > 0:
            return Normal(math.log(p["scale"]), p["s"], log=True)
    except SpaceError as err:
        raise SpaceError(f"{text}: {err.reason}") from None
    return ScipyDomain(name, list(frozen.args), dict(frozen.kwds))


class ScipyDomain(Domain):
    """Any frozen ``scipy.stats`` distribution, through its ``ppf`` (unit -> value) and
    ``cdf`` (value -> unit).

    Sampling is ``ppf`` of a uniform draw, so it follows the distribution and is seeded by
    the searcher's generator. Continuous distributions give floats, discrete ones ints; a
    discrete value sits at the middle of its step of the CDF, so it decodes to itself.
    A discrete distribution with a finite support (at most 100,000 values) is finite and can
    be gridded whole; continuous ones are gridded at quantiles ``i / (n + 1)``.
    """

    def __init__(self, name: str, args: Sequence[Any], kwds: Mapping[str, Any]) -> None:
        from scipy import stats

        dist = getattr(stats, name, None) if isinstance(name, str) and not name.startswith("_") else None
        if not isinstance(dist, (stats.rv_continuous, stats.rv_discrete)):
            raise SpaceError(f"scipy.stats has no distribution named {name!r}")
        if not isinstance(args, Sequence) or isinstance(args, str) or not isinstance(kwds, Mapping):
            raise SpaceError(f"scipy.stats.{name}: args must be a list and kwds a mapping")
        self.name = name
        self.args = [_number(a, f"scipy.stats.{name} argument") for a in args]
        self.kwds = {str(k): _number(v, f"scipy.stats.{name} {k}") for k, v in kwds.items()}
        text = self._call_text()
        try:
            self.frozen = dist(*self.args, **self.kwds)
            low, high = (float(x) for x in self.frozen.support())
        except (TypeError, ValueError) as err:
            raise SpaceError(f"{text}: {err}") from None
        if not (low == low and high == high) or not low < high:
            raise SpaceError(f"{text} has invalid parameters (its support is [{low}, {high}])")
        self.discrete = isinstance(dist, stats.rv_discrete)
        self.low, self.high = low, high
        self._count = (high - low + 1) if self.discrete and math.isfinite(high - low) else math.inf
        self.is_finite = self._count <= _FINITE_LIMIT

    def _call_text(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwds.items()]
        return f"scipy.stats.{self.name}({', '.join(parts)})"

    @property
    def type_name(self) -> str:
        return "scipy"

    def _fields(self) -> dict[str, Any]:
        return {"name": self.name, "args": list(self.args), "kwds": dict(self.kwds)}

    def _key(self) -> Any:
        return (self.name, tuple(self.args), tuple(sorted(self.kwds.items())))

    def __repr__(self) -> str:
        return self._call_text() + "".join(c.call_text() for c in self._conditions)

    # -- values ----------------------------------------------------------------------------

    def _decode(self, u: np.ndarray) -> np.ndarray:
        x = self.frozen.ppf(np.clip(u, _EPS, 1.0 - _EPS))
        return np.clip(x, self.low, self.high)

    def _value(self, x: float) -> int | float:
        return int(x) if self.discrete else float(x)

    def sample(self, rng: np.random.Generator) -> int | float:
        return self._value(float(self._decode(np.array(rng.random()))))

    def from_unit(self, u: float) -> int | float:
        return self.from_unit_array(np.array([u]))[0]

    def from_unit_array(self, u: np.ndarray) -> list[Any]:
        x = self._decode(_checked_unit(u))
        return x.astype(np.int64).tolist() if self.discrete else x.tolist()

    def _number_of(self, value: Any) -> float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise SpaceError(f"expected a number, got {value!r}")
        x = float(value)
        if not math.isfinite(x):
            raise SpaceError(f"expected a finite number, got {value!r}")
        if self.discrete and not x.is_integer():
            raise SpaceError(f"expected an integer, got {value!r}")
        return x

    def to_unit(self, value: Any) -> float:
        return float(self.to_unit_array([value])[0])

    def to_unit_array(self, values: Sequence[Any]) -> np.ndarray:
        x = np.array([self._number_of(v) for v in values], dtype=float)
        if self.discrete:
            x = np.clip(x, self.low, self.high)
            u = 0.5 * (self.frozen.cdf(x - 1) + self.frozen.cdf(x))
        else:
            u = self.frozen.cdf(x)
        return np.clip(np.asarray(u, dtype=float), _EPS, 1.0 - _EPS)

    def validate(self, value: Any) -> int | float:
        x = self._number_of(value)
        if not self.low <= x <= self.high:
            raise SpaceError(f"{value!r} is outside the support [{self.low:g}, {self.high:g}] of {self._call_text()}")
        if self.discrete and not self.frozen.pmf(x) > 0:
            raise SpaceError(f"{value!r} has probability 0 under {self._call_text()}")
        return self._value(x)

    def _grid(self, num_points: int | None) -> list[Any]:
        if self.is_finite:
            return [k for k in range(int(self.low), int(self.high) + 1) if self.frozen.pmf(k) > 0]
        assert num_points is not None
        values = self.from_unit_array(np.array([(i + 1) / (num_points + 1) for i in range(num_points)]))
        return list(dict.fromkeys(values))


register("scipy", lambda name, args=(), kwds=None: ScipyDomain(name, args, kwds or {}), ("name",), ("args", "kwds"))
