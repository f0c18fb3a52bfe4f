"""A rung space described as flat parameters that another library's searcher can model.

Each peer (Optuna, Syne Tune) has its own distributions; both are built from the
:class:`Param` list here, so that every peer sees the same space as rung:

- ``uniform`` / ``loguniform``: a float range, linear or log (``kind="float"``).
- ``randint`` (``log=True`` too): an int range (``kind="int"``).
- ``quniform`` / ``qloguniform``: the peer draws the multiple ``k`` as an int in
  ``[k_min, k_max]`` (log scale for ``qloguniform``: ``log(k q) = log k + log q``, so a
  log-uniform ``k`` is a log-uniform value) and the value is ``k * q`` (``decode``).
- ``choice``: a categorical over labels: the values themselves when all are strings,
  else their ``repr`` (peers accept only simple labels; ``decode`` maps back).
- ``normal`` and its variants (unbounded): the peer draws the unit coordinate ``u`` in
  ``(0, 1)`` and the value is ``domain.from_unit(u)``, so a uniform ``u`` follows the
  domain's own distribution.
- constants, and finite domains with a single value: not shown to the peer; added to every
  config where they are active.

Conditions: a parameter is *active* when all its conditions hold on the values already
decided; :func:`ordered_params` lists parents before children, so a define-by-run peer
(Optuna) suggests only active parameters, and a flat peer (Syne Tune) gets its full
suggestion filtered by :meth:`SpaceView.config_from`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rung.space import Choice, Constant, Domain, QUniform, RandInt, Space, Uniform

#: Unit-coordinate bounds for unbounded domains (about +-7 sigma, as rung uses).
UNIT_EPS = 1e-12


@dataclass(frozen=True)
class Param:
    """One tunable parameter as a peer sees it.

    ``kind`` is ``"float"``, ``"int"`` or ``"categorical"``; ``low``/``high``/``log`` bound
    numeric kinds, ``choices`` lists categorical labels. ``encoding`` says how the peer's
    value becomes the rung value: ``"value"`` (as is), ``"multiple"`` (``k * q``),
    ``"label"`` (a categorical label) or ``"unit"`` (``from_unit``).
    """

    name: str
    domain: Domain
    kind: str
    encoding: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple[Any, ...] = ()

    def decode(self, raw: Any) -> Any:
        """The rung value for the peer's value ``raw`` (checked by the domain)."""
        if self.encoding == "label":
            return self.domain.values[self.choices.index(raw)]  # type: ignore[attr-defined]
        if self.encoding == "multiple":
            q = self.domain.q  # type: ignore[attr-defined]
            return self.domain.validate(int(round(float(raw))) * q)
        if self.encoding == "unit":
            return self.domain.from_unit(float(raw))
        if self.kind == "int":
            # Syne Tune's BOHB has been seen to propose log-integers below their lower bound
            # (46 for lograndint(64, 1024)): clip into range, as for floats, instead of failing.
            return self.domain.validate(min(max(int(round(float(raw))), int(self.low)), int(self.high)))
        return self.domain.validate(min(max(float(raw), self.low), self.high))


def _labels(domain: Choice) -> tuple[Any, ...]:
    values = domain.values
    if all(isinstance(value, str) for value in values):
        return tuple(values)
    return tuple(repr(value) for value in values)


def make_param(name: str, domain: Domain) -> Param:
    """The :class:`Param` for one non-constant domain (see the module docstring)."""
    if isinstance(domain, Uniform):
        return Param(name, domain, "float", "value", domain.low, domain.high, domain.log)
    if isinstance(domain, RandInt):
        return Param(name, domain, "int", "value", domain.low, domain.high, domain.log)
    if isinstance(domain, QUniform):
        grid = domain.grid()
        k_min, k_max = round(grid[0] / domain.q), round(grid[-1] / domain.q)
        return Param(name, domain, "int", "multiple", k_min, k_max, domain.log)
    if isinstance(domain, Choice):
        return Param(name, domain, "categorical", "label", choices=_labels(domain))
    # normal, lognormal, qnormal, qlognormal and anything else: the unit coordinate
    return Param(name, domain, "float", "unit", UNIT_EPS, 1.0 - UNIT_EPS)


class SpaceView:
    """A rung space as :class:`Param` objects (parents first) plus its constant values."""

    def __init__(self, space: Space | Mapping[str, Any]) -> None:
        self.space = Space.coerce(space)
        self.order = self.space.order
        self.params: dict[str, Param] = {}
        self.constants: dict[str, Any] = {}
        for name in self.order:
            domain = self.space[name]
            if isinstance(domain, Constant):
                self.constants[name] = domain.value
            elif domain.is_finite and domain.grid_size() == 1:
                self.constants[name] = domain.grid()[0]
            else:
                self.params[name] = make_param(name, domain)

    @property
    def is_conditional(self) -> bool:
        """Whether some parameter (constant or not) has conditions."""
        return any(self.space[name].conditions for name in self.order)

    @property
    def is_numeric(self) -> bool:
        """No categorical and no conditional parameter: what CMA-ES can model."""
        return not self.is_conditional and all(p.kind != "categorical" for p in self.params.values())

    def config_from(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The rung config of a flat peer suggestion ``raw`` (values for every parameter):
        inactive parameters dropped, values decoded, constants added, in declaration order."""
        values: dict[str, Any] = {}
        for name in self.order:
            domain = self.space[name]
            if not is_active(domain, values):
                continue
            if name in self.constants:
                values[name] = self.constants[name]
            else:
                values[name] = self.params[name].decode(raw[name])
        return {name: values[name] for name in self.space.names if name in values}


def is_active(domain: Domain, values: Mapping[str, Any]) -> bool:
    """Whether every condition of ``domain`` holds on the parent ``values`` decided so far."""
    for condition in domain.conditions:
        if condition.parent not in values or not condition.holds(values[condition.parent]):
            return False
    return True
