"""Speed-up from parallel workers on the process backend, on trials that only sleep.

Usage: ``python benchmarks/parallel_speedup.py [--trials 8] [--sleep 0.4] [--workers 1 2]``

Each trial sleeps for ``--sleep`` seconds, so with ``n`` workers the ideal wall clock is
``trials * sleep / n``; the ratio of one worker's wall clock to ``n`` workers' shows how much
of that the backend delivers (what is lost is worker start-up and per-trial overhead). The
unit tests only check that trials do run at once (tests/test_tuner.py); a ratio depends on
how busy the machine is, so it is measured here, on a quiet one (expect about 1.9 for two
workers on two cores).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402


def sleeper(config: dict) -> float:
    time.sleep(config["sleep"])
    return float(config["sleep"])


def wallclock(n_workers: int, n_trials: int, sleep: float) -> float:
    """Seconds from the tuner's start to its end, every trial completed."""
    result = rung.Tuner(sleeper, {"sleep": sleep}, metric="loss", max_trials=n_trials,
                        n_workers=n_workers, verbose=0).run()
    assert result.count("completed") == n_trials, result.trials
    return result.wallclock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--sleep", type=float, default=0.4)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    # The runs go to a throw-away store, not the user's.
    os.environ["RUNG_HOME"] = tempfile.mkdtemp(prefix="rung-speedup-")
    print(f"## Process backend, {args.trials} trials sleeping {args.sleep} s each (load {os.getloadavg()[0]:.2f})\n")
    print("| workers | wall clock (s) | ideal (s) | speed-up over 1 worker |")
    print("| --- | --- | --- | --- |")
    base = None
    for n in args.workers:
        seconds = wallclock(n, args.trials, args.sleep)
        base = seconds if base is None and n == 1 else base
        speedup = f"{base / seconds:.2f}x" if base is not None else "n/a"
        print(f"| {n} | {seconds:.2f} | {args.trials * args.sleep / n:.2f} | {speedup} |")


if __name__ == "__main__":
    main()
