"""Suggestions computed ahead of need, so that no worker waits for a model-based searcher.

:class:`Prefetching` wraps a searcher. Each time it hands out a suggestion it decides
whether to start computing the next one at once (*ahead*), so that while trials run the
model is already choosing the config the next free worker gets, or to leave it for the
next call (*fresh*), when it will know every result that arrived meanwhile. Ahead is the
choice only when decisions are slow against the pace of results (:data:`AHEAD_SHARE`):
then a worker would otherwise wait; when trials are slow, the fresh decision costs little
waiting and knows more. A costly inner searcher runs on one background thread, every call
in the order it was made (``observe`` and ``on_failed`` are queued and return at once); a
cheap one is called directly. The inner searcher sees a suggestion computed ahead as
pending (a constant liar, as for any running trial) from the moment it is computed.

What the inner searcher sees depends on the order of the calls and on the ahead-or-fresh
decision of each hand-out, never otherwise on timing: ``suggest, observe(a), suggest``
reaches it as ``suggest, suggest, observe(a)`` when the first hand-out decided ahead. The
tuner stores those decisions with each start (:func:`logged_decisions`) and hands them
back when it replays the log on resume (:func:`replay_decisions`), so a resumed
experiment gets the stored configs back. Whether a call ran on the thread or inline
changes nothing but speed.

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
BACKGROUND_ABOVE = 0.005
_COST_WINDOW = 3
#: After a hand-out, the next suggestion is computed ahead only when a suggestion costs
#: more than this share of the time between results (mean over the latest
#: ``_RESULT_WINDOW`` gaps); otherwise it is computed when needed, after the results that
#: arrived meanwhile, as without prefetching. Computed ahead, a suggestion misses those
#: results: on Branin and a 5-D mixed space (GP, 2 workers, 30 trials, 10 seeds,
#: ``benchmarks/lookahead_quality.py``) always-ahead lost to fresh in 6 and 7 seeds of 10.
#: So slow trials keep the fresh decisions, and only decisions that would make workers
#: wait noticeably are computed ahead.
AHEAD_SHARE = 0.05
_RESULT_WINDOW = 8


class Prefetching(Searcher):
    """``inner`` one suggestion ahead of need when decisions are slow, on a background
    thread when costly.

    ``policy``: ``"auto"`` (the tuner's: ahead or fresh by measured costs, see
    :data:`AHEAD_SHARE`), ``"ahead"`` (always) or ``"fresh"`` (never).
    ``suggest()`` returns the suggestion computed ahead at the previous ``suggest()``
    (waiting only if it is not finished yet), or computes one. When the inner
    searcher is slow (see :data:`BACKGROUND_ABOVE`) every call into it runs on one
    background thread in call order, and ``observe`` / ``observe_partial`` / ``on_failed``
    return at once; when it is fast the calls are made directly. An exception raised by the
    inner searcher in the background is raised by the next call. ``close()`` waits for the
    queued calls and ends the thread.
    """

    def __init__(self, inner: Searcher, policy: str = "auto") -> None:
        if policy not in ("auto", "ahead", "fresh"):
            raise ValueError(f"policy must be 'auto', 'ahead' or 'fresh', got {policy!r}")
        self.policy = policy
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
        #: How many suggestions were computed on the background thread / inline.
        self.n_background = 0
        self.n_inline = 0
        # Per hand-out: was the next suggestion started at once (True) or left for the next
        # call (False)? Logged by the tuner with each start (take_decisions) and given back
        # on replay (replay_decisions), so a resumed run makes the same calls.
        self._decisions: list[bool] = []
        self._forced: list[bool] = []
        self._live = False  # the rule applies once the run proper starts (see begin)
        self._result_times: list[float] = []

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
        self._ahead = None
        if config is None:
            self._exhausted = True
            return None
        ahead = self._wants_ahead()
        self._decisions.append(ahead)
        if ahead:
            self._start_ahead()
        return config

    # -- computing ahead or fresh --------------------------------------------------------------
    def _note_result(self) -> None:
        self._result_times.append(time.perf_counter())
        del self._result_times[: -(_RESULT_WINDOW + 1)]

    def _wants_ahead(self) -> bool:
        """Whether to compute the next suggestion now (see :data:`AHEAD_SHARE`)."""
        if self._forced:
            return self._forced.pop(0)
        if self.policy != "auto":
            return self.policy == "ahead"
        if not self._live or len(self._costs) < _COST_WINDOW or len(self._result_times) < _RESULT_WINDOW + 1:
            return False  # replaying a log without decisions (written without prefetching), or no data yet
        cost = sorted(self._costs)[_COST_WINDOW // 2]
        times = self._result_times
        interval = (times[-1] - times[0]) / _RESULT_WINDOW
        return cost > AHEAD_SHARE * interval

    def go_live(self) -> None:
        """The run proper starts: decide ahead-or-fresh by measured costs from now on."""
        self._live = True

    def take_decisions(self) -> list[bool]:
        """The ahead-or-fresh decisions of the hand-outs since the last call (for the log)."""
        taken, self._decisions = self._decisions, []
        return taken

    def replay_decisions(self, decisions: Sequence[bool] | None) -> None:
        """Make the next hand-outs decide as logged (replay of a stored run)."""
        self._forced.extend(bool(d) for d in decisions or ())

    def observe(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        self._note_result()
        self._call(self.inner.observe, dict(config), dict(metrics))

    def observe_partial(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        self._call(self.inner.observe_partial, dict(config), dict(metrics))

    def on_failed(self, config: Mapping[str, Any]) -> None:
        self._note_result()
        self._call(self.inner.on_failed, dict(config))

    def set_fidelity(self, resource_attr: str, levels: Sequence[float] | None = None,
                     max_resource: float | None = None) -> None:
        self.sync(lambda: self.inner.set_fidelity(resource_attr, levels=levels, max_resource=max_resource))

    def stratum(self, config: Mapping[str, Any]) -> str | None:
        # Set when the inner searcher made the suggestion, before it was handed out.
        return self.inner.stratum(config)

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


def logged_decisions(wrapper: Prefetching | None) -> dict[str, Any]:
    """Extra payload of a start event: the ahead-or-fresh decisions since the last start."""
    if wrapper is None:
        return {}
    decisions = wrapper.take_decisions()
    return {"ahead": decisions} if decisions else {}


def replay_decisions(scheduler: Any, payload: Mapping[str, Any]) -> None:
    """Before a stored start is replayed: hand the logged decisions back to the wrapper,
    and any logged handover back to ``auto``."""
    searcher = getattr(scheduler, "searcher", None)
    if isinstance(searcher, Prefetching):
        searcher.replay_decisions(payload.get("ahead"))
    if payload.get("handovers"):
        _call_in_order(searcher, "replay_handovers", payload["handovers"])


def logged_handovers(scheduler: Any) -> dict[str, Any]:
    """Extra payload of a start event: searcher handovers (``auto``'s cost rule) since the
    last start. They depend on timing, so a replay repeats them rather than measure again."""
    take = getattr(_unwrapped(getattr(scheduler, "searcher", None)), "take_handovers", None)
    handovers = take() if callable(take) else []
    return {"handovers": handovers} if handovers else {}


def begin(scheduler: Any, backend: Any) -> None:
    """The run proper starts (after any replay of a stored log): when trials run in real
    time, searchers that weigh the measured cost of their decisions against the time
    between results (``auto``) start measuring."""
    if getattr(backend, "clock", None) is not None:
        return
    searcher = getattr(scheduler, "searcher", None)
    if isinstance(searcher, Prefetching):
        searcher.go_live()
    _call_in_order(searcher, "measure_costs")


def _unwrapped(searcher: Any) -> Any:
    return searcher.inner if isinstance(searcher, Prefetching) else searcher


def _call_in_order(searcher: Any, method: str, *args: Any) -> None:
    """Call the searcher's own ``method`` (under any wrapper), if it has one, after every
    call queued for the wrapper's thread has reached it."""
    bound = getattr(_unwrapped(searcher), method, None)
    if not callable(bound):
        return
    if isinstance(searcher, Prefetching):
        searcher.sync(lambda: bound(*args))
    else:
        bound(*args)
