"""Does the range test's learning rate, in a one-cycle schedule, match a 20-trial search over a constant rate?

Usage: ``python benchmarks/torch_range_test.py [--seeds 0 1 2 3 4] [--problems lenet-digits mlp-mnist1d]``

For each problem and seed (the seed sets the validation split, the initialization and the
shuffling), with SGD + momentum 0.9 and the same number of epochs for both arms:

* search: rung's default searcher tunes the constant learning rate alone (log-uniform in
  [1e-4, 1]) for 20 trials (FIFO, 2 worker processes); the arm's result is the best trial's
  final validation error;
* range test: ``objective.lr_range_test(...)`` (1e-5 to 10, exponential, 100 steps, rule
  ``valley``) proposes max_lr; one run of ``schedule="one_cycle"`` with ``lr=max_lr`` and
  ``min_lr_factor=0.1`` gives the arm's final validation error.

Reported per problem: both errors per seed, how often the range-test arm is at least as good,
the proposals, and the compute (epochs) each arm used.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

import rung  # noqa: E402
import rung.torch  # noqa: E402

PROBLEMS = {
    # name: (model, data, epochs, fixed config entries)
    "lenet-digits": ("lenet", "digits", 5, {"batch_size": 64}),
    "mlp-mnist1d": ("mlp", "mnist1d", 10, {"batch_size": 64, "layers": 2, "units_1": 128, "units_2": 128}),
}
BASE = {"optimizer": "momentum", "momentum": 0.9}


def run_rules(name: str, seed: int, rules: list[str]) -> dict:
    """The range test once, then one one-cycle run per proposal rule (no search)."""
    from rung.torch._range_test import RangeTestResult, _propose

    model, data, epochs, fixed = PROBLEMS[name]
    objective = rung.torch.TrainingObjective(model, data, seed=seed)
    config = {**BASE, **fixed, "epochs": epochs, "seed": seed}
    test = objective.lr_range_test(config, start_lr=1e-5, end_lr=10.0, num_steps=100, rule="valley")
    row: dict = {"seed": seed}
    import numpy as np

    lrs, curve = np.asarray(test.lrs), np.asarray(test.centered)
    keep = np.isfinite(curve)
    for rule in rules:
        max_lr = float(lrs[keep][_propose(lrs[keep], curve[keep], rule)])
        proposal = RangeTestResult(test.lrs, test.losses, test.smoothed, test.centered, rule, max_lr, max_lr * 0.1,
                                   0.1, test.diverged, "exp")
        _, history = objective.fit({**config, **proposal.one_cycle()})
        row[rule] = {"max_lr": max_lr, "error": history[-1]["validation_error"]}
    return row


def run_problem(name: str, seed: int) -> dict:
    model, data, epochs, fixed = PROBLEMS[name]
    objective = rung.torch.TrainingObjective(model, data, seed=seed)
    config = {**BASE, **fixed, "epochs": epochs, "seed": seed}
    started = time.perf_counter()
    search = rung.Tuner(objective, {**config, "lr": rung.loguniform(1e-4, 1.0)}, metric="validation_error",
                        mode="min", max_trials=20, n_workers=2, seed=seed, storage=":memory:", verbose=0).run()
    search_time = time.perf_counter() - started
    started = time.perf_counter()
    test = objective.lr_range_test(config, start_lr=1e-5, end_lr=10.0, num_steps=100, rule="valley")
    _, history = objective.fit({**config, **test.one_cycle()})
    range_time = time.perf_counter() - started
    return {
        "seed": seed,
        "search_error": search.best_value,
        "search_lr": search.best_config["lr"],
        "range_error": history[-1]["validation_error"],
        "range_max_lr": test.max_lr,
        "range_diverged": test.diverged,
        "search_s": round(search_time, 1),
        "range_s": round(range_time, 1),
        "search_epochs": int(search.reports.groupby("trial_id")["epoch"].max().sum()),
        "range_epochs": len(history),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--rules", nargs="*", help="instead: one-cycle runs for each of these proposal rules")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.rules:
        for name in args.problems:
            for seed in args.seeds:
                print(name, json.dumps(run_rules(name, seed, args.rules)), flush=True)
        return
    rows: dict[str, list[dict]] = {}
    for name in args.problems:
        rows[name] = []
        for seed in args.seeds:
            row = run_problem(name, seed)
            rows[name].append(row)
            print(name, json.dumps(row), flush=True)
    print()
    print(f"{'problem':14s} {'seed':>4s} {'search err':>10s} {'(lr)':>8s} {'one-cycle err':>13s} {'(max_lr)':>8s}")
    for name, items in rows.items():
        for row in items:
            print(f"{name:14s} {row['seed']:4d} {row['search_error']:10.4f} {row['search_lr']:8.3g} "
                  f"{row['range_error']:13.4f} {row['range_max_lr']:8.3g}")
        wins = sum(row["range_error"] <= row["search_error"] for row in items)
        print(f"{name:14s} range test at least as good in {wins}/{len(items)} seeds; mean error search "
              f"{statistics.mean(r['search_error'] for r in items):.4f}, one-cycle "
              f"{statistics.mean(r['range_error'] for r in items):.4f}; epochs search "
              f"{statistics.mean(r['search_epochs'] for r in items):.0f} vs one-cycle "
              f"{statistics.mean(r['range_epochs'] for r in items):.0f} (+ the range test's 100 batches)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
