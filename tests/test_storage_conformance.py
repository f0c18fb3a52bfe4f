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
