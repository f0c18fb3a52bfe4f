"""``python -m benchmarks``: the benchmark suite's command line (see ``benchmarks/harness``)."""

from __future__ import annotations

import sys

from benchmarks.harness._cli import main

if __name__ == "__main__":
    sys.exit(main())
