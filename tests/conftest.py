import os

import pytest


@pytest.fixture(autouse=True)
def _rung_home(tmp_path, monkeypatch):
    """Keep every test's experiment files inside its own temporary directory."""
    monkeypatch.setenv("RUNG_HOME", str(tmp_path / "rung_home"))
    yield


_PG_SERVER = "postgresql://postgres@127.0.0.1:5432"


def _pg_admin(statement: str) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(f"{_PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)
        return True
    except Exception:
        return False


def pytest_configure(config):
    """Give this test run a PostgreSQL database of its own (``RUNG_TEST_PG_DB``), so that
    runs from several checkouts, or of several schema versions, never share tables."""
    if "RUNG_TEST_PG_DB" in os.environ and not hasattr(config, "workerinput"):
        return  # a database given by the caller (each pytest-xdist worker still gets its own)
    name = f"rung_test_{os.getpid()}_{os.urandom(3).hex()}"
    if _pg_admin(f'CREATE DATABASE "{name}"'):
        os.environ["RUNG_TEST_PG_DB"] = name
        config._rung_pg_db = name


def pytest_unconfigure(config):
    name = getattr(config, "_rung_pg_db", None)
    if name:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
