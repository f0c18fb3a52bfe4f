"""One-cycle runs at every peak of a fixed grid: the best any range-test proposal could do, and its curves.

Usage: ``python benchmarks/torch_one_cycle_peaks.py --problem mlp-mnist1d|lenet-digits
[--seeds 0 1 ...] [--out FILE] [--search benchmarks/results/torch-range/range.json]``

For each seed (the split, initialization and shuffling of ``benchmarks/torch_range_test.py``),
trains a one-cycle run (``min_lr_factor=0.1``, the schedule's other defaults) peaking at each of
15 learning rates spaced evenly in log from 0.005 to 0.64 and records its final validation
error and its error on the held-out test set; it also records the range test's curves at 100
and 300 steps (1e-5 to 10, exponential), so that any proposal rule can be scored offline
against the grid. The summary gives, per seed, the best peak and its error beside the 20-trial
search's (read from ``--search``): where even the best of 15 peaks does not reach the search,
no proposal rule can.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import torch_range_test as range_test  # noqa: E402

PEAKS = [float(lr) for lr in np.geomspace(0.005, 0.64, 15)]


def measure(problem: str, seed: int) -> dict:
    objective, config = range_test.problem_config(problem, seed)
    row: dict = {}
    for steps in (100, 300):
        test = objective.lr_range_test(config, start_lr=1e-5, end_lr=10.0, num_steps=steps)
        row[f"curve{steps}"] = {"lrs": test.lrs, "losses": test.losses,
                                "centered": [value if value == value else None for value in test.centered]}
    row["grid"] = {}
    for peak in PEAKS:
        run = {**config, "schedule": "one_cycle", "lr": peak, "min_lr_factor": 0.1}
        _, history = objective.fit(run)
        row["grid"][repr(peak)] = (history[-1]["validation_error"], range_test.test_error(problem, seed, run))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=list(range_test.PROBLEMS), required=True)
    parser.add_argument("--seeds", type=int, nargs="*", default=list(range(10)))
    parser.add_argument("--out", type=Path, help="results file (read first: seeds already there are kept)")
    parser.add_argument("--search", type=Path, default=Path(__file__).parent / "results/torch-range/range.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows: dict = json.loads(args.out.read_text()) if args.out and args.out.exists() else {}
    for seed in args.seeds:
        if str(seed) not in rows:
            rows[str(seed)] = measure(args.problem, seed)
            if args.out:
                args.out.write_text(json.dumps(rows))
        print(seed, {f"{float(k):.3g}": round(v[0], 3) for k, v in rows[str(seed)]["grid"].items()}, flush=True)
    searches = json.loads(args.search.read_text()).get(args.problem, {}) if args.search.exists() else {}
    best, search, reached = [], [], 0
    for seed in args.seeds:
        grid = rows[str(seed)]["grid"]
        peak = min(grid, key=lambda key: grid[key][0])
        line = f"seed {seed}: best peak {float(peak):.3g}, validation / test {grid[peak][0]:.3f} / {grid[peak][1]:.3f}"
        best.append(grid[peak][0])
        if str(seed) in searches:
            found = searches[str(seed)]
            search.append(found["search_error"])
            reached += grid[peak][0] <= found["search_error"] + 1e-9
            line += f"; search {found['search_error']:.3f} / {found['search_test_error']:.3f} (lr {found['search_lr']:.3g})"
        print(line)
    if search:
        print(f"best peak per seed: mean validation {statistics.mean(best):.4f} against the search's "
              f"{statistics.mean(search):.4f}; at least as good on {reached}/{len(search)} seeds")


if __name__ == "__main__":
    main()
