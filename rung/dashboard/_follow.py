"""Reading experiments from the store in the background, incrementally.

A :class:`Follower` keeps one experiment's :class:`ExperimentData` up to date: first every
trial row (``read_trials``: the first picture of a large experiment needs no report), then
the log page by page (``read_log_page`` from the last sequence number read), then, once
caught up, only what is new, every :data:`POLL_SECONDS`. A :class:`Hub` owns the followers
of one store, starting one when a page first asks for an experiment and dropping the least
recently viewed beyond :data:`MAX_FOLLOWED` (memory stays bounded by what is open).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from ..storage import Storage, StorageError
from ._data import ExperimentData

POLL_SECONDS = 0.5
PAGE_SIZE = 5_000
#: Trial rows read at once before the log (the first picture comes after the first page).
TRIAL_PAGE = 10_000
#: Pause between pages while catching up, so that page requests get the interpreter.
PAGE_PAUSE = 0.01
MAX_FOLLOWED = 4


class Follower:
    """A background thread following experiment ``name`` in ``store``."""

    def __init__(self, store: Storage, name: str, poll_seconds: float = POLL_SECONDS,
                 page_size: int = PAGE_SIZE, background: bool = True) -> None:
        record = store.require_experiment(name)
        self.store = store
        self.name = name
        self.experiment_id = record.id
        self.data = ExperimentData(record)
        self.poll_seconds = poll_seconds
        self.page_size = page_size
        self.error: str | None = None
        self.last_viewed = time.monotonic()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rung-dashboard-{name}", daemon=True)
        if background:  # else the caller calls load_trials() and poll_once() itself
            self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the trial rows are in (the first picture), at most ``timeout`` s."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()

    def poll_once(self) -> int:
        """Read what is new (the record, then log pages until caught up or a second spent);
        returns the number of entries read."""
        record = self.store.get_experiment(self.name)
        if record is not None:
            self.data.take_record(record)
        read = 0
        started = time.monotonic()
        while True:
            page = self.store.read_log_page(self.experiment_id, self.data.last_seq, self.page_size)
            if page.entries or page.trials:
                self.data.take_log(page)
            read += len(page.entries)
            if len(page.entries) < self.page_size:
                if not self.data.log_complete:
                    with self.data.lock:
                        self.data.log_complete = True
                        self.data.version += 1
                break
            if time.monotonic() - started > 1.0 or self._stop.is_set():
                break
            time.sleep(PAGE_PAUSE)
        return read

    def load_trials(self) -> None:
        """Read every trial row, page by page, before the log: the page can draw after the
        first page of rows (the summary says how many are read)."""
        try:
            self.data.expected_trials = self._stored_trials()
            after = -1
            while not self._stop.is_set():
                rows = self.store.read_trials(self.experiment_id, after, TRIAL_PAGE)
                self.data.take_trials(rows)
                self._ready.set()
                if len(rows) < TRIAL_PAGE:
                    break
                after = rows[-1].trial_id
        except StorageError as err:
            self.error = str(err)
        finally:
            with self.data.lock:
                self.data.trials_complete = True
                self.data.version += 1
            self._ready.set()

    def _stored_trials(self) -> int | None:
        """How many trial rows the store holds (an aggregate query), for progress."""
        for summary in self.store.list_experiments():
            if summary.id == self.experiment_id:
                return summary.n_trials
        return None

    def _run(self) -> None:
        self.load_trials()
        while not self._stop.is_set():
            try:
                read = self.poll_once()
                self.error = None
            except Exception as err:  # the store went away or a row is corrupt: show it, retry
                self.error = f"{type(err).__name__}: {err}"
                read = 0
            if read < self.page_size:
                self._stop.wait(self.poll_seconds)


class Hub:
    """The followers of one store, at most ``max_followed`` at a time."""

    def __init__(self, store: Storage, max_followed: int = MAX_FOLLOWED, poll_seconds: float = POLL_SECONDS) -> None:
        self.store = store
        self.max_followed = max_followed
        self.poll_seconds = poll_seconds
        self._followers: OrderedDict[str, Follower] = OrderedDict()
        self._lock = threading.Lock()

    def follow(self, name: str) -> Follower:
        """The follower of ``name`` (started now if it is not followed yet); ExperimentNotFound
        if there is no such experiment."""
        with self._lock:
            follower = self._followers.get(name)
            if follower is not None:
                # Deleted and created again under the same name: start over.
                record = self.store.get_experiment(name)
                if record is None or record.id != follower.experiment_id:
                    follower.stop()
                    del self._followers[name]
                    follower = None
            if follower is None:
                follower = Follower(self.store, name, poll_seconds=self.poll_seconds)
                self._followers[name] = follower
            self._followers.move_to_end(name)
            follower.last_viewed = time.monotonic()
            while len(self._followers) > self.max_followed:
                _, oldest = self._followers.popitem(last=False)
                oldest.stop()
            return follower

    def close(self) -> None:
        with self._lock:
            for follower in self._followers.values():
                follower.stop()
            self._followers.clear()
