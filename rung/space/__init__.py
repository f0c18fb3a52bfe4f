"""Search spaces: the domains parameters are drawn from and the spaces that group them.

Write spaces as dicts of factory calls and plain values::

    space = Space({
        "lr": loguniform(1e-4, 1.0),
        "num_layers": randint(1, 4),
        "units_3": randint(16, 256).when("num_layers", ">=", 3),
        "optimizer": choice(["adam", "sgd"]),
        "epochs": 10,  # a constant
        "dropout": scipy.stats.uniform(0, 0.5),  # scipy distributions work too
    })
    config = space.sample(np.random.default_rng(0))
"""

from ._conditions import Condition
from ._domains import Choice, Constant, Domain, InvalidDomain, domain_from_dict
from ._entries import constant
from ._errors import SpaceError
from ._factories import (
    choice,
    loguniform,
    lognormal,
    normal,
    qloguniform,
    qlognormal,
    qnormal,
    quniform,
    randint,
    uniform,
)
from ._numeric import Normal, QNormal, QUniform, RandInt, Uniform
from ._scipy import ScipyDomain, from_scipy
from ._space import Space

__all__ = [
    "Choice",
    "Condition",
    "Constant",
    "Domain",
    "InvalidDomain",
    "Normal",
    "QNormal",
    "QUniform",
    "RandInt",
    "ScipyDomain",
    "Space",
    "SpaceError",
    "Uniform",
    "choice",
    "constant",
    "domain_from_dict",
    "from_scipy",
    "loguniform",
    "lognormal",
    "normal",
    "qloguniform",
    "qlognormal",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]
