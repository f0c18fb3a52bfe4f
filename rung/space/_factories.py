"""The factory functions users write spaces with: ``uniform(0, 1)``, ``choice([...])``, ...

Factories never raise: bad arguments give an :class:`InvalidDomain` that raises its problem
when used, so that ``Space({"lr": loguniform(0, 1)})`` reports it as
``parameter 'lr': loguniform needs low > 0, got low=0``. The domain classes themselves
raise at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._domains import Choice, Domain, InvalidDomain
from ._errors import SpaceError
from ._numeric import Normal, QNormal, QUniform, RandInt, Uniform


def _build(text: str, make: Callable[[], Domain]) -> Domain:
    try:
        return make()
    except SpaceError as err:
        return InvalidDomain(text, err.reason)


def uniform(low: float, high: float) -> Domain:
    """Floats uniform in ``[low, high]``."""
    return _build(f"uniform({low!r}, {high!r})", lambda: Uniform(low, high))


def loguniform(low: float, high: float) -> Domain:
    """Floats in ``[low, high]`` (``low > 0``) whose log is uniform: for scales like
    learning rates."""
    return _build(f"loguniform({low!r}, {high!r})", lambda: Uniform(low, high, log=True))


def normal(mu: float, sigma: float) -> Domain:
    """Unbounded floats from a normal distribution."""
    return _build(f"normal({mu!r}, {sigma!r})", lambda: Normal(mu, sigma))


def lognormal(mu: float, sigma: float) -> Domain:
    """``exp(normal(mu, sigma))``: positive, unbounded floats."""
    return _build(f"lognormal({mu!r}, {sigma!r})", lambda: Normal(mu, sigma, log=True))


def quniform(low: float, high: float, q: float) -> Domain:
    """Multiples of ``q`` in ``[low, high]`` (ints if all arguments are ints)."""
    return _build(f"quniform({low!r}, {high!r}, {q!r})", lambda: QUniform(low, high, q))


def qloguniform(low: float, high: float, q: float) -> Domain:
    """Multiples of ``q`` in ``[low, high]``, drawn on a log scale (ints if all arguments
    are ints)."""
    return _build(
        f"qloguniform({low!r}, {high!r}, {q!r})", lambda: QUniform(low, high, q, log=True)
    )


def qnormal(mu: float, sigma: float, q: float) -> Domain:
    """``round(x / q) * q`` of a ``normal(mu, sigma)`` draw."""
    return _build(f"qnormal({mu!r}, {sigma!r}, {q!r})", lambda: QNormal(mu, sigma, q))


def qlognormal(mu: float, sigma: float, q: float) -> Domain:
    """``round(x / q) * q`` of a ``lognormal(mu, sigma)`` draw (so ``>= 0``)."""
    return _build(
        f"qlognormal({mu!r}, {sigma!r}, {q!r})", lambda: QNormal(mu, sigma, q, log=True)
    )


def randint(low: int, high: int, log: bool = False) -> Domain:
    """Integers in ``[low, high]``, both included; log-uniform if ``log`` (``low >= 1``)."""
    text = f"randint({low!r}, {high!r}{', log=True' if log else ''})"
    return _build(text, lambda: RandInt(low, high, log=log))


def choice(values: Sequence[Any], *more: Any) -> Domain:
    """One of ``values`` (a list, tuple, range or other sequence of distinct values), or of
    the arguments themselves when there are several: ``choice(16, 32, 64)`` is
    ``choice([16, 32, 64])``."""
    if more:
        options = (values, *more)
        return _build(f"choice{options!r}", lambda: Choice(options))
    return _build(f"choice({values!r})", lambda: Choice(values))
