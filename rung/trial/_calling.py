"""How an objective is called, and what counts as a number in what it returns or reports.

rung's own convention is ``objective(config)``. Code ported from elsewhere takes the
hyperparameters as keyword arguments (d2l's ``def objective(learning_rate, batch_size,
max_epochs)``, Syne Tune's ``def train(**config)``); such a function is called with the
config's entries. The choice is made from the signature, per call (configs of a
conditional space have different keys):

* ``objective(**config)`` when that binds: every required parameter is a config entry and
  every entry is a parameter (or the function takes ``**kwargs``);
* otherwise ``objective(config)`` when that binds (one positional parameter);
* otherwise a ``TypeError`` that says which entries are missing or unexpected.

Numbers from numpy or torch (``np.float32(0.3)``, ``np.array(0.3)``, ``torch.tensor([0.3])``)
are numbers too: :func:`plain_number` turns anything with a single element and ``.item()``
into a Python number, in returned values and in ``rung.report`` metrics.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Mapping
from typing import Any


def plain_number(value: Any) -> Any:
    """``value`` as a Python number if it is a one-element numpy array or scalar, a 0-d or
    one-element torch tensor or a numpy number; anything else is returned unchanged."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, numbers.Real):  # numpy scalars, fractions
        return _item(value)
    size = getattr(value, "size", None)
    if callable(size):  # torch: size() is a method, numel() the element count
        size = getattr(value, "numel", lambda: None)()
    if size == 1 and callable(getattr(value, "item", None)) and hasattr(value, "shape"):
        return _item(value)
    return value


def _item(value: Any) -> Any:
    item = getattr(value, "item", None)
    result = item() if callable(item) else value
    if isinstance(result, bool) or not isinstance(result, numbers.Real):
        return result
    return result if isinstance(result, (int, float)) else float(result)


def plain_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """``metrics`` with each value through :func:`plain_number`."""
    return {key: plain_number(value) for key, value in metrics.items()}


def plain_result(value: Any) -> Any:
    """What an objective returned, with numbers made plain (a dict's values too)."""
    if isinstance(value, Mapping):
        return plain_metrics(value)
    return plain_number(value)


def _signature(objective: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(objective)
    except (TypeError, ValueError):  # some builtins and C callables have none
        return None


def _name(objective: Callable[..., Any]) -> str:
    return getattr(objective, "__qualname__", None) or type(objective).__name__


def call_objective(objective: Callable[..., Any], config: dict[str, Any]) -> Any:
    """Call ``objective`` with ``config`` as keyword arguments or as one dict (see the
    module docstring)."""
    signature = _signature(objective)
    if signature is None:
        return objective(config)
    try:
        signature.bind(**config)
    except TypeError:
        pass
    else:
        if config or not _takes_one(signature):
            return objective(**config)
    if _takes_one(signature):
        return objective(config)
    raise TypeError(_mismatch(objective, signature, config))


def _takes_one(signature: inspect.Signature) -> bool:
    try:
        signature.bind({})
    except TypeError:
        return False
    return True


def _mismatch(objective: Callable[..., Any], signature: inspect.Signature, config: Mapping[str, Any]) -> str:
    params = signature.parameters.values()
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params)
    named = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    required = [
        p.name for p in params
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)
    ]
    missing = [name for name in required if name not in config]
    unexpected = [] if takes_kwargs else [key for key in config if key not in named]
    problems = []
    if missing:
        problems.append(f"the config has no {', '.join(map(repr, missing))}")
    if unexpected:
        problems.append(f"it takes no parameter {', '.join(map(repr, unexpected))}")
    return (
        f"cannot call the objective {_name(objective)}{signature} with this config "
        f"({'; '.join(problems) or 'its parameters do not match'}; config keys: {', '.join(config) or 'none'}). "
        "rung calls objective(config) with one dict, or objective(**config) when the parameters "
        "are the config's names: add the missing names to the space (or give them defaults), "
        "or take **kwargs for entries the function does not use"
    )


def signature_problem(objective: Callable[..., Any], names: list[str], extra: list[str]) -> str | None:
    """Why ``objective`` cannot be called with configs of a space with parameters ``names``
    (plus ``extra`` keys the tuner adds, e.g. a scheduler's ``max_resource_attr``), checked
    before any trial runs; None when it can (or its signature cannot be read)."""
    signature = _signature(objective)
    if signature is None or _takes_one(signature):
        return None
    keys = list(dict.fromkeys([*names, *extra]))
    try:
        signature.bind(**{key: None for key in keys})
    except TypeError:
        return _mismatch(objective, signature, {key: None for key in keys})
    return None
