import os

import pytest


@pytest.fixture(autouse=True)
def _rung_home(tmp_path, monkeypatch):
    """Keep every test's experiment files inside its own temporary directory."""
    monkeypatch.setenv("RUNG_HOME", str(tmp_path / "rung_home"))
    yield
