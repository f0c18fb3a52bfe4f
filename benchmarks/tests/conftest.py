"""Set-up for the benchmark harness's tests (``make bench-test``).

They live apart from the product's tests because they need the peers (Optuna, Syne Tune,
BoTorch: the ``bench`` extra), which the product's tests must not pull in.
"""

import sys
from pathlib import Path

import pytest

# The tests import ``benchmarks`` as a package, which needs the repository root on the path
# whichever directory pytest was started from.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _rung_home(tmp_path, monkeypatch):
    """Keep every test's experiment files inside its own temporary directory."""
    monkeypatch.setenv("RUNG_HOME", str(tmp_path / "rung_home"))
    yield
