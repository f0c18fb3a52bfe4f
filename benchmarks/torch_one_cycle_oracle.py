"""Can any one-cycle run beat the 20-trial search's constant learning rate? An upper bound for the range test.

Usage: ``python benchmarks/torch_one_cycle_oracle.py --problem lenet-digits [--seeds 0 1 ...]
[--json benchmarks/results/torch-range/range.json] [--grid]``

Reads the search arm of ``benchmarks/torch_range_test.py`` (its best constant lr L* per seed,
from the same JSON) and trains, on the same split and seed, the constant L* again, one-cycle
runs peaking at L*, 2 L* and 3 L*, and cosine annealing from L*; with ``--grid``, one-cycle at
L* and 2 L* for every ``pct_start`` in {0.1, 0.3, 0.5} and ``min_lr_factor`` in {0.04, 0.1,
0.3}. Each run's final validation error and its error on the held-out test set (as in
torch_range_test.py) are printed per seed, then the means and the seeds where each variant is
at least as good as the search. A range-test proposal can do no better than the best peak
here, so where none of these beats the search, no proposal rule can.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import torch_range_test as range_test  # noqa: E402


def variants(lr: float, grid: bool) -> dict[str, dict]:
    if grid:
        return {f"one_cycle {mult}L* pct_start={pct} min_lr_factor={factor}":
                {"schedule": "one_cycle", "lr": mult * lr, "pct_start": pct, "min_lr_factor": factor}
                for mult, pct, factor in itertools.product([1, 2], [0.1, 0.3, 0.5], [0.04, 0.1, 0.3])}
    return {"constant L*": {"lr": lr}, "one_cycle L*": {"schedule": "one_cycle", "lr": lr},
            "one_cycle 2L*": {"schedule": "one_cycle", "lr": 2 * lr},
            "one_cycle 3L*": {"schedule": "one_cycle", "lr": 3 * lr}, "cosine L*": {"schedule": "cosine", "lr": lr}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=list(range_test.PROBLEMS), required=True)
    parser.add_argument("--seeds", type=int, nargs="*", default=list(range(10)))
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results/torch-range/range.json")
    parser.add_argument("--grid", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    searches = json.loads(args.json.read_text())[args.problem]
    rows = []
    for seed in args.seeds:
        search = searches[str(seed)]
        row = {"search": (search["search_error"], search["search_test_error"])}
        for label, extra in variants(search["search_lr"], args.grid).items():
            objective, config = range_test.problem_config(args.problem, seed)
            run = {**config, **extra}
            _, history = objective.fit(run)
            row[label] = (history[-1]["validation_error"], range_test.test_error(args.problem, seed, run))
        rows.append(row)
        print(seed, json.dumps(row), flush=True)
    for label in sorted(rows[0], key=lambda key: statistics.mean(r[key][1] for r in rows)):
        as_good = sum(r[label][0] <= r["search"][0] + 1e-9 for r in rows)
        test_wins = sum(r[label][1] < r["search"][1] - 1e-9 for r in rows)
        print(f"{label:45s} validation {statistics.mean(r[label][0] for r in rows):.4f} "
              f"test {statistics.mean(r[label][1] for r in rows):.4f}; validation at least the search's on "
              f"{as_good}/{len(rows)} seeds, test better on {test_wins}/{len(rows)}")


if __name__ == "__main__":
    main()
