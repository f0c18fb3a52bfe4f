"""Warm worker processes for torch objectives: pay torch's first-use costs once per worker.

The first optimizer a process builds imports ``torch._dynamo`` (over a second, several on
a loaded machine); a trial forked from a worker that already did so starts warm. The
process backend calls an objective's ``rung_warm_up()`` once per worker, before its first
trial; :class:`TrainingObjective` has one, and :func:`warm` gives one to any function.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any, Callable, Iterator

import torch
from torch import nn


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block on one intra-op thread, then restore the thread count.

    Work done in a worker before it forks trials must not start torch's OpenMP thread pool:
    a forked child inherits the pool's state but not its threads, and its first parallel
    operation can then wait forever (seen in a plain forked process here: a 2000x2000 matmul
    in the parent, a 500x500 one in the child; not reproduced inside rung's workers). Setting
    the count back afterwards starts no thread; each trial starts its own pool.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def warm_torch() -> None:
    """Build and step each torch optimizer the ready objective knows, and an LR scheduler, once."""
    from ._config import DEFAULTS
    from ._optimizers import OPTIMIZERS, build_optimizer

    probe = nn.Linear(2, 1)
    for name in OPTIMIZERS:
        optimizer = build_optimizer(probe.parameters(), {**DEFAULTS, "optimizer": name})
        probe(torch.ones(1, 2)).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    optimizer.step()
    scheduler.step()
    buffer = io.BytesIO()
    torch.save({"weights": probe.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    buffer.seek(0)
    torch.load(buffer, weights_only=True)


class WarmObjective:
    """``fn`` as an objective whose workers warm torch (and run ``setup``, if given) once."""

    def __init__(self, fn: Callable[[dict], Any], setup: Callable[[], Any] | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"warm() needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.setup = setup
        self.__name__ = getattr(fn, "__name__", "objective")
        self.__doc__ = getattr(fn, "__doc__", None)

    def rung_warm_up(self) -> None:
        with one_thread():
            warm_torch()
            if self.setup is not None:
                self.setup()

    def rung_check_space(self, space: Any) -> None:
        """The wrapped objective's own check of the space (see ``rung.tuner._objective_check``), if it has one."""
        check = getattr(self.fn, "rung_check_space", None)
        if callable(check):
            check(space)

    def __call__(self, config: dict) -> Any:
        return self.fn(config)


def warm(fn: Callable[[dict], Any], setup: Callable[[], Any] | None = None) -> WarmObjective:
    """Wrap a torch objective so that each worker warms torch once before its trials.

    >>> tuner = rung.Tuner(rung.torch.warm(train), space, ...)

    ``setup`` (optional) also runs once per worker, e.g. to fill a module-level data cache.
    """
    return WarmObjective(fn, setup)
