"""Does the range test's learning rate, in a one-cycle schedule, match a 20-trial search over a constant rate?

Usage: ``python benchmarks/torch_range_test.py [--seeds 0 1 2 3 4] [--problems lenet-digits mlp-mnist1d]
[--steps 100] [--test-epochs 6] [--rules plateau] [--phase both|arms|search] [--json FILE]`` (``--phase`` with
``--json``: the cheap range-test arms and the searches can run apart and add up in one file)

For each problem and seed (the seed sets the validation split, the initialization and the
shuffling), with SGD + momentum 0.9 and the same number of epochs for both arms:

* search: rung's default searcher tunes the constant learning rate alone (log-uniform in
  [1e-4, 1]) for 20 trials (FIFO, one worker process); the arm's result is the best trial's
  final validation error;
* range test: ``objective.lr_range_test(...)`` (1e-5 to 10, exponential, ``--steps`` steps, the
  default window and stop) once per seed and step count; for each rule of ``--rules`` its
  proposal max_lr gives one run of ``schedule="one_cycle"`` with ``lr=max_lr`` and the
  schedule's defaults (``min_lr_factor=0.1``, ``pct_start=0.3``, momentum cycling 0.95 to
  0.85); that run's final validation error is the arm's result.

Reported per problem: both errors per seed, the wins / ties / losses of each range-test arm
(a tie: the same error, to the validation example), the proposals, and the compute (epochs).

The search's validation error is the best of 20 noisy draws, chosen on that same validation
set, so it is optimistic; a single range-test run has no such selection. Each arm's chosen
config is therefore also evaluated once on a test set neither arm saw (``evaluate_test``:
trained again exactly as its trial was): MNIST-1D's own 1,000 test examples; for the digits a
stratified quarter held out (seeded by 12345, the same for every seed) before the rest is
split into training and validation. The table gives both.
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
from rung.torch._range_test import RULES  # noqa: E402

PROBLEMS = {
    # name: (model, data, epochs, fixed config entries)
    "lenet-digits": ("lenet", "digits", 5, {"batch_size": 64}),
    "mlp-mnist1d": ("mlp", "mnist1d", 10, {"batch_size": 64, "layers": 2, "units_1": 128, "units_2": 128}),
}
BASE = {"optimizer": "momentum", "momentum": 0.9}


def _digits_split() -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """The digits at LeNet's 28x28, a stratified quarter held out as the test set."""
    from sklearn.model_selection import train_test_split

    x, y = rung.torch.datasets.digits(28)
    train, test = train_test_split(range(len(y)), test_size=0.25, stratify=y.numpy(), random_state=12345)
    return (x[train], y[train]), (x[test], y[test])


def problem_config(name: str, seed: int) -> tuple[rung.torch.TrainingObjective, dict]:
    model, data, epochs, fixed = PROBLEMS[name]
    if data == "digits":
        train, test = _digits_split()
        source, test_source = train, test
    else:
        source, test_source = data, data  # MNIST-1D: its own test set
    # one torch thread in every trial: the process backend would give each trial the CPUs divided by the
    # workers, which on a shared machine only adds threads that wait for each other
    objective = rung.torch.TrainingObjective(model, source, test_data=test_source, seed=seed, threads=1)
    return objective, {**BASE, **fixed, "epochs": epochs, "seed": seed}


def test_error(name: str, seed: int, config: dict) -> float:
    """``config`` trained again as its trial was, evaluated once on the held-out test set."""
    objective, _ = problem_config(name, seed)
    return objective.evaluate_test(config)["test_error"]


def run_search(name: str, seed: int) -> dict:
    """The search arm: 20 trials over the constant learning rate, one worker process."""
    objective, config = problem_config(name, seed)
    started = time.perf_counter()
    search = rung.Tuner(objective, {**config, "lr": rung.loguniform(1e-4, 1.0)}, metric="validation_error",
                        mode="min", max_trials=20, n_workers=1, seed=seed, storage=":memory:", verbose=0).run()
    return {
        "search_error": search.best_value,
        "search_test_error": test_error(name, seed, dict(search.best_config)),
        "search_lr": search.best_config["lr"],
        "search_s": round(time.perf_counter() - started, 1),
        "search_epochs": int(search.reports.groupby("trial_id")["epoch"].max().sum()),
    }


def run_arms(name: str, seed: int, steps: list[int], rules: list[str], test_epochs: list[int] = ()) -> dict:
    """Per test length (``steps`` batches, or ``test_epochs`` passes over the training data) one range
    test, then one one-cycle run per distinct proposal of ``rules``."""
    objective, config = problem_config(name, seed)
    arms: dict = {}
    lengths = [(str(n), {"num_steps": n}) for n in steps] + [(f"{e}ep", {"epochs": e}) for e in test_epochs]
    for n, length in lengths:
        started = time.perf_counter()
        test = objective.lr_range_test(config, start_lr=1e-5, end_lr=10.0, **length)
        test_s = time.perf_counter() - started
        errors: dict[float, tuple[float, float]] = {}
        for rule in rules:
            proposal = test.with_rule(rule)
            if proposal.max_lr not in errors:
                _, history = objective.fit({**config, **proposal.one_cycle()})
                errors[proposal.max_lr] = (history[-1]["validation_error"],
                                           test_error(name, seed, {**config, **proposal.one_cycle()}))
            arms[f"{rule}/{n}"] = {"max_lr": proposal.max_lr, "error": errors[proposal.max_lr][0],
                                   "test_error": errors[proposal.max_lr][1],
                                   "diverged": test.diverged, "test_steps": len(test.lrs), "test_s": round(test_s, 1)}
    return {"arms": arms}


def summary(rows: dict[str, dict[str, dict]]) -> list[str]:
    """The table: per problem and seed the search and every arm; then wins / ties / losses per arm."""
    lines = []
    for name, by_seed in rows.items():
        items = [dict(row, seed=int(seed)) for seed, row in sorted(by_seed.items(), key=lambda kv: int(kv[0]))
                 if "search_error" in row and "arms" in row]
        if not items:
            continue
        arms = list(items[0]["arms"])
        lines.append(f"{name}: seed | search validation / test error (best lr) | "
                     + " | ".join(f"{arm} validation / test error (max_lr)" for arm in arms))
        for row in items:
            cells = [f"{row['search_error']:.3f} / {row.get('search_test_error', float('nan')):.3f} ({row['search_lr']:.3g})"]
            cells += [f"{row['arms'][arm]['error']:.3f} / {row['arms'][arm].get('test_error', float('nan')):.3f} "
                      f"({row['arms'][arm]['max_lr']:.3g})" for arm in arms]
            lines.append(f"  {row['seed']} | " + " | ".join(cells))
        for arm in arms:
            diffs = [row["arms"][arm]["error"] - row["search_error"] for row in items]
            wins = sum(d < -1e-9 for d in diffs)
            ties = sum(abs(d) <= 1e-9 for d in diffs)
            lines.append(f"  {arm}: wins {wins}, ties {ties}, losses {len(diffs) - wins - ties} of {len(diffs)}; "
                         f"mean error {statistics.mean(r['arms'][arm]['error'] for r in items):.3f} vs search "
                         f"{statistics.mean(r['search_error'] for r in items):.3f}; epochs {PROBLEMS[name][2]} + "
                         f"{items[0]['arms'][arm]['test_steps']} batches vs search "
                         f"{statistics.mean(r['search_epochs'] for r in items):.0f}")
            if all("test_error" in r["arms"][arm] and "search_test_error" in r for r in items):
                test_diffs = [r["arms"][arm]["test_error"] - r["search_test_error"] for r in items]
                lines.append(f"  {arm} on the test set: wins {sum(d < -1e-9 for d in test_diffs)}, ties "
                             f"{sum(abs(d) <= 1e-9 for d in test_diffs)}, losses "
                             f"{sum(d > 1e-9 for d in test_diffs)}; mean test error "
                             f"{statistics.mean(r['arms'][arm]['test_error'] for r in items):.3f} vs search "
                             f"{statistics.mean(r['search_test_error'] for r in items):.3f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--steps", type=int, nargs="*", default=[100], help="range-test steps (one test each)")
    parser.add_argument("--test-epochs", type=int, nargs="*", default=[],
                        help="range tests of that many passes over the training data (arms named rule/<E>ep)")
    parser.add_argument("--rules", nargs="*", default=["plateau"], choices=list(RULES))
    parser.add_argument("--phase", choices=["both", "arms", "search"], default="both",
                        help="run only the range-test arms or only the searches (results merge in --json)")
    parser.add_argument("--json", type=Path, help="results file; read first, so phases run apart add up")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows: dict[str, dict[str, dict]] = json.loads(args.json.read_text()) if args.json and args.json.exists() else {}
    for name in args.problems:
        for seed in args.seeds:
            row = rows.setdefault(name, {}).setdefault(str(seed), {})
            if args.phase in ("both", "arms"):
                row.setdefault("arms", {}).update(run_arms(name, seed, args.steps, args.rules, args.test_epochs)["arms"])
            if args.phase in ("both", "search"):
                row.update(run_search(name, seed))
            print(name, seed, json.dumps(row), flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=2))
    print()
    print("\n".join(summary(rows)))


if __name__ == "__main__":
    main()
