"""Suggestions computed ahead of need, so that no worker waits for a model-based searcher.

:class:`Prefetching` wraps a searcher and runs every call into it on one background
thread, in the order the calls were made. Right after it hands out a suggestion it queues
the computation of the next one (a one-step lookahead), so while trials run the model is
already choosing the config the next free worker gets; ``observe`` and ``on_failed`` are
queued too and return at once. The wrapped searcher sees the lookahead suggestion as
pending (a constant liar, as for any running trial) from the moment it is computed.

What the inner searcher sees is a function of the order of the calls only, never of
timing: calls ``suggest, observe(a), suggest, observe(b), suggest`` reach it as
``suggest, suggest, observe(a), suggest, observe(b)`` (the lookahead of each hand-out is
computed before the results that arrive after it). So the same seed and the same events
give the same configs, and a resumed experiment, replayed through a fresh wrapper, gets
the stored configs back. The price: a suggestion does not know the results that arrived
while it was computed ahead, only that those configs were pending.

The tuner's loop installs it (:func:`install`) for the built-in learning searchers when
trials run in real time on workers beside the loop; under a simulated clock decisions cost
no simulated time, and the in-process backend runs one trial at a time in the loop's
thread, so there the searcher is called directly.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Mapping, Sequence

from ._base import Searcher

_STOP = object()


#: A lookahead suggestion is computed on the background thread once the inner searcher's
#: recent suggestions took longer than this (median of the latest three); below half of
#: it, inline again. Cheap searchers (TPE, BOHB: a millisecond or two) stay inline: handing
#: work to a thread and back costs the loop more than it saves (the GIL is handed over at
#: 5 ms intervals when both threads run Python). Either way the inner searcher receives the
#: same calls in the same order, so the mode changes speed only, never results.
BACKGROUND_ABOVE = 0.001
_COST_WINDOW = 3


class Prefetching(Searcher):
    """``inner`` one suggestion ahead of need, computed on a background thread when costly.

    ``suggest()`` returns the suggestion computed since the previous ``suggest()``
    (waiting only if it is not finished yet) and starts the next one. When the inner
    searcher is slow (see :data:`BACKGROUND_ABOVE`) every call into it runs on one
    background thread in call order, and ``observe`` / ``observe_partial`` / ``on_failed``
    return at once; when it is fast the calls are made directly. An exception raised by the
    inner searcher in the background is raised by the next call. ``close()`` waits for the
    queued calls and ends the thread.
    """

    def __init__(self, inner: Searcher) -> None:
        # The wrapper has no state of its own beyond the queue: space, objective and seed
        # are the inner searcher's.
        self.inner = inner
        self.space = inner.space
        self.metric = inner.metric
        self.mode = inner.mode
        self.seed = inner.seed
        self.rng = inner.rng
        self._objective = None
        self._starting_points = []
        self._n_starting_used = 0
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._background = False
        self._ahead: Future[dict[str, Any] | None] | None = None
        self._costs: list[float] = []
        self._error: BaseException | None = None
        self._exhausted = False
        self._closed = False
        #: How many lookahead suggestions were computed on the background thread / inline.
        self.n_background = 0
        self.n_inline = 0

    # -- the background thread -----------------------------------------------------------
    def _serve(self) -> None:
        while True:
            item = self._calls.get()
            if item is _STOP:
                return
            call, args, future = item
            try:
                value = call(*args)
            except BaseException as err:  # handed to the caller's thread
                if future is not None:
                    future.set_exception(err)
                elif self._error is None:
                    self._error = err
            else:
                if future is not None:
                    future.set_result(value)

    def _submit(self, call: Callable[..., Any], *args: Any, want: bool = False) -> Future[Any] | None:
        """Queue ``call`` on the background thread (a Future of its value if ``want``)."""
        if self._closed:
            raise RuntimeError("this Prefetching searcher is closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="rung-searcher", daemon=True)
            self._thread.start()
        future: Future[Any] | None = Future() if want else None
        self._calls.put((call, args, future))
        return future

    def _call(self, call: Callable[..., Any], *args: Any) -> None:
        """A call that returns nothing: queued in background mode, made now otherwise."""
        self._raise_pending_error()
        if self._background:
            self._submit(call, *args)
        else:
            call(*args)

    def _timed_suggest(self) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            return self.inner.suggest()
        finally:
            self._costs.append(time.perf_counter() - started)
            del self._costs[:-_COST_WINDOW]

    def _choose_mode(self) -> None:
        if len(self._costs) < _COST_WINDOW:
            return
        cost = sorted(self._costs)[_COST_WINDOW // 2]
        if not self._background and cost > BACKGROUND_ABOVE:
            self._background = True
        elif self._background and cost < BACKGROUND_ABOVE / 2:
            self.drain()  # every queued call has reached the inner searcher
            self._background = False

    def _start_ahead(self) -> None:
        self._choose_mode()
        if self._background:
            self.n_background += 1
            self._ahead = self._submit(self._timed_suggest, want=True)
            return
        self.n_inline += 1
        future: Future[dict[str, Any] | None] = Future()
        try:
            future.set_result(self._timed_suggest())
        except Exception as err:
            future.set_exception(err)
        self._ahead = future

    def _raise_pending_error(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    # -- the searcher contract -----------------------------------------------------------
    def suggest(self) -> dict[str, Any] | None:
        self._raise_pending_error()
        if self._exhausted:
            return None
        if self._ahead is None:
            self._start_ahead()
        assert self._ahead is not None
        config = self._ahead.result()
        if config is None:
            self._exhausted = True
            self._ahead = None
            return None
        self._start_ahead()
        return config

    def observe(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        self._call(self.inner.observe, dict(config), dict(metrics))

    def observe_partial(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        self._call(self.inner.observe_partial, dict(config), dict(metrics))

    def on_failed(self, config: Mapping[str, Any]) -> None:
        self._call(self.inner.on_failed, dict(config))

    def set_fidelity(self, resource_attr: str, levels: Sequence[float] | None = None,
                     max_resource: float | None = None) -> None:
        self.sync(lambda: self.inner.set_fidelity(resource_attr, levels=levels, max_resource=max_resource))

    @property
    def is_finite(self) -> bool:
        return self.inner.is_finite

    def sync(self, call: Callable[[], Any]) -> Any:
        """Run ``call`` after every queued call has reached the inner searcher; its value."""
        self.drain()
        value = call()
        self._raise_pending_error()
        return value

    def drain(self) -> None:
        """Wait until every queued call has reached the inner searcher."""
        if self._thread is not None and not self._closed:
            future = self._submit(lambda: None, want=True)
            assert future is not None
            future.result()
        self._raise_pending_error()

    def close(self) -> None:
        """Let the queued calls finish and end the background thread (idempotent)."""
        if self._closed:
            return
        self.drain()
        self._closed = True
        if self._thread is not None:
            self._calls.put(_STOP)
            self._thread.join()

    def __repr__(self) -> str:
        return f"Prefetching({self.inner!r})"


def _learns(searcher: Searcher) -> bool:
    """The built-in searchers whose decisions cost enough to be worth computing ahead."""
    from ._auto import Auto
    from ._bohb import BOHB
    from ._gp import GP
    from ._mobster import MOBSTER
    from ._tpe import TPE

    return type(searcher) in (Auto, BOHB, GP, MOBSTER, TPE)


def install(scheduler: Any, backend: Any) -> Prefetching | None:
    """Wrap ``scheduler.searcher`` in :class:`Prefetching` if it is a built-in learning
    searcher and ``backend`` runs trials in real time beside the loop (already wrapped: the
    same wrapper); return the wrapper, or None.

    Not under a simulated clock (decisions cost no simulated time) and not on the
    in-process backend: it runs one trial at a time in the loop's own thread, so a
    suggestion computed during a trial would only miss that trial's result.
    """
    from ..backends._inprocess import InProcessBackend

    if getattr(backend, "clock", None) is not None or isinstance(backend, InProcessBackend):
        return None
    searcher = getattr(scheduler, "searcher", None)
    if isinstance(searcher, Prefetching):
        return searcher
    if searcher is None or not _learns(searcher):
        return None
    wrapper = Prefetching(searcher)
    scheduler.searcher = wrapper
    return wrapper


def uninstall(scheduler: Any) -> None:
    """Undo :func:`install`: finish the queued calls and give the scheduler its searcher back."""
    searcher = getattr(scheduler, "searcher", None)
    if isinstance(searcher, Prefetching):
        searcher.close()
        scheduler.searcher = searcher.inner


def begin(scheduler: Any, backend: Any) -> None:
    """The run proper starts (after any replay of a stored log): when trials run in real
    time, searchers that weigh the measured cost of their decisions against the time
    between results (``auto``) start measuring."""
    if getattr(backend, "clock", None) is not None:
        return
    searcher = getattr(scheduler, "searcher", None)
    inner = searcher.inner if isinstance(searcher, Prefetching) else searcher
    measure = getattr(inner, "measure_costs", None)
    if not callable(measure):
        return
    if isinstance(searcher, Prefetching):
        searcher.sync(measure)
    else:
        measure()
