"""The chaos suite's shared parts: the objective's directory on the path, and the figures
every test adds to (printed at the end of the run, for the issue's closing note)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

FIGURES: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if FIGURES:
        terminalreporter.section("chaos figures")
        for key in sorted(FIGURES):
            terminalreporter.write_line(f"{key}: {FIGURES[key]}")
