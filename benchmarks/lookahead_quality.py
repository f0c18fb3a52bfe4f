"""What computing one suggestion ahead costs in sample efficiency (GP, 2 workers).

Usage: ``python benchmarks/lookahead_quality.py [--seeds 10] [--trials 30]``

Two simulated workers, trials of equal length: results come back oldest first, and each
result frees a worker. ``sync`` is the loop without prefetching (observe, then suggest for
the free worker: the suggestion knows the result just in, the other trial is pending);
``ahead`` is the loop with :class:`rung.searchers._prefetch.Prefetching` (the suggestion
for the free worker was computed when the previous one was handed out: both running trials
pending). Same seeds, same problems; reported: mean and median best value.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import rung  # noqa: E402
from rung.searchers import GP  # noqa: E402
from rung.searchers import _prefetch  # noqa: E402
from throughput import SPACE as MIXED, loss as mixed_loss  # noqa: E402

BRANIN = {"x": rung.uniform(-5, 10), "y": rung.uniform(0, 15)}


def branin(c: dict) -> float:
    b, k, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (c["y"] - b * c["x"] ** 2 + k * c["x"] - 6) ** 2 + 10 * (1 - t) * math.cos(c["x"]) + 10


PROBLEMS = {"branin": (BRANIN, branin), "mixed-5d": (MIXED, mixed_loss)}


def run(space, f, seed: int, trials: int, ahead: bool) -> float:
    inner = GP(space, metric="loss", seed=seed)
    searcher = _prefetch.Prefetching(inner) if ahead else inner
    running = [searcher.suggest(), searcher.suggest()]
    best, started = math.inf, 2
    while running:
        config = running.pop(0)
        value = f(config)
        best = min(best, value)
        searcher.observe(config, {"loss": value})
        if started < trials:
            running.append(searcher.suggest())
            started += 1
    if ahead:
        searcher.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    _prefetch.BACKGROUND_ABOVE = math.inf  # inline: same calls as the background thread, no timing noise
    print(f"| problem | sync mean [median] | ahead mean [median] | ahead better on |\n|---|---:|---:|---:|")
    for name, (space, f) in PROBLEMS.items():
        sync = [run(space, f, s, args.trials, False) for s in range(args.seeds)]
        ahead = [run(space, f, s, args.trials, True) for s in range(args.seeds)]
        wins = sum(a < b for a, b in zip(ahead, sync))
        print(f"| {name} | {statistics.fmean(sync):.4g} [{statistics.median(sync):.4g}] "
              f"| {statistics.fmean(ahead):.4g} [{statistics.median(ahead):.4g}] | {wins} of {args.seeds} seeds |",
              flush=True)


if __name__ == "__main__":
    main()
