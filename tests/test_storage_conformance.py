"""The built-in stores pass rung.testing.storages: SQLite file, in-memory SQLite, PostgreSQL
(when a server is reachable) and MemoryStorage."""

import uuid

import postgres
import pytest

from rung.storage import MemoryStorage, SQLStorage, open_storage
from rung.testing.storages import STORAGE_CHECKS, check_storage

POSTGRES_URL = postgres.URL
_PG_REASON = postgres.unreachable_reason()


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "postgresql", "memory"])
def factory(request, tmp_path):
    if request.param == "sqlite-file":
        return lambda: SQLStorage(tmp_path / "store.db")
    if request.param == "sqlite-memory":
        return lambda: SQLStorage(":memory:")
    if request.param == "postgresql":
        if _PG_REASON:
            pytest.skip(_PG_REASON)
        return lambda: SQLStorage(POSTGRES_URL)
    return MemoryStorage


@pytest.mark.parametrize("name, check", STORAGE_CHECKS, ids=[name for name, _ in STORAGE_CHECKS])
def test_storage_conformance(factory, name, check):
    prefix = f"conformance-{uuid.uuid4().hex[:8]}-"
    check(factory, prefix)
    leftovers = [s.name for s in factory().list_experiments() if s.name.startswith(prefix)]
    assert leftovers == [], f"{name} left experiments behind"


def test_check_storage_runs_every_check_and_names_a_failure():
    check_storage(MemoryStorage)

    class ForgetsStopRequests(MemoryStorage):
        def request_stop(self, name):
            self.require_experiment(name)

    with pytest.raises(AssertionError, match="storage check 'stop_and_claim' failed: request_stop did not set"):
        check_storage(ForgetsStopRequests)


def test_open_storage_resolves_what_users_pass(tmp_path, monkeypatch):
    memory = open_storage(":memory:")
    assert isinstance(memory, MemoryStorage) and open_storage(":memory:") is not memory
    assert open_storage(memory) is memory
    path = open_storage(tmp_path / "a.db")
    assert isinstance(path, SQLStorage) and path.url == f"sqlite:///{tmp_path / 'a.db'}"
    url = open_storage(f"sqlite:///{tmp_path / 'b.db'}")
    assert isinstance(url, SQLStorage) and (tmp_path / "b.db").exists()
    monkeypatch.delenv("RUNG_STORAGE", raising=False)
    default = open_storage(None)
    assert isinstance(default, SQLStorage) and default.url.endswith("rung_home/rung.db")
    monkeypatch.setenv("RUNG_STORAGE", f"sqlite:///{tmp_path / 'env.db'}")
    assert open_storage().url == f"sqlite:///{tmp_path / 'env.db'}"


def test_the_read_path_checks_catch_a_store_that_leaves_out_running_trials_or_events():
    from rung.storage import BestTrials, DeferredLog, LogSlice

    class ForgetsRunningTrials(MemoryStorage):
        def read_best_trials(self, experiment_id, mode, limit):
            best = super().read_best_trials(experiment_id, mode, limit)
            rows = [row for row in best.log.trials if row.status != "running"]
            kept = {row.trial_id for row in rows}
            return BestTrials(best.counts, best.last_time,
                              LogSlice(trials=rows, entries=[e for e in best.log.entries if e.trial_id in kept],
                                       last_seq=best.log.last_seq))

    class LosesEvents(MemoryStorage):
        def read_log_deferred(self, experiment_id):
            log = super().read_log_deferred(experiment_id)
            return DeferredLog(log.trials, log.reports, log.last_seq, log.last_time, lambda: [])

    with pytest.raises(AssertionError, match="best_trials_equal_the_whole_log"):
        check_storage(ForgetsRunningTrials)
    with pytest.raises(AssertionError, match="deferred_log_equals_read_log"):
        check_storage(LosesEvents)
