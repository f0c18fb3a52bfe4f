"""Overhead of rung's decisions and of its process backend, side by side with Optuna.

Usage: ``python benchmarks/overhead.py [--trials 1000 10000] [--process-trials 300]``

1. Decision overhead per trial: random search on a 5-parameter mixed space with a trivial
   in-process objective. Reported: time in searcher + scheduler per trial, and total wall
   clock per trial (everything the tuner does around a trial that costs nothing). Optuna's
   RandomSampler with in-memory storage runs the same space in the same process, so the
   ratio is free of machine noise.
2. Process backend throughput: trivial trials per second end to end with 2 workers, for each
   isolation mode, next to the cost of a fresh interpreter per trial (what a naive
   subprocess-per-trial design pays).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402
from rung.backends import ProcessBackend  # noqa: E402

SPACE = {
    "lr": rung.loguniform(1e-5, 1e-1),
    "momentum": rung.uniform(0.0, 0.99),
    "layers": rung.randint(1, 8),
    "activation": rung.choice(["relu", "gelu", "tanh", "silu"]),
    "batch_size": rung.quniform(16, 512, 16),
}


def trivial(config):
    return config["lr"] * config["momentum"]


def rung_in_process(n_trials: int) -> dict[str, float]:
    # Like Optuna's in-memory storage: no database (the store has its own benchmark).
    result = rung.Tuner(trivial, SPACE, metric="loss", searcher="random", max_trials=n_trials, seed=0,
                        backend="inprocess", verbose=0, storage=":memory:").run()
    assert result.count("completed") == n_trials
    return {"decision_ms": result.decision_time / n_trials * 1e3, "total_ms": result.wallclock / n_trials * 1e3}


def optuna_in_memory(n_trials: int) -> dict[str, float] | None:
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        config = {
            "lr": trial.suggest_float("lr", 1e-5, 1e-1, log=True),
            "momentum": trial.suggest_float("momentum", 0.0, 0.99),
            "layers": trial.suggest_int("layers", 1, 8),
            "activation": trial.suggest_categorical("activation", ["relu", "gelu", "tanh", "silu"]),
            "batch_size": trial.suggest_float("batch_size", 16, 512, step=16),
        }
        return trivial(config)

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    start = time.perf_counter()
    study.optimize(objective, n_trials=n_trials)
    return {"total_ms": (time.perf_counter() - start) / n_trials * 1e3}


def process_throughput(n_trials: int, isolation: str) -> float:
    backend = ProcessBackend(isolation=isolation)
    tuner = rung.Tuner(trivial, SPACE, metric="loss", searcher="random", max_trials=n_trials, seed=0, n_workers=2,
                       backend=backend, verbose=0, storage=":memory:")
    result = tuner.run()
    assert result.count("completed") == n_trials, result.trials["error"].dropna().head()
    # Measured from the first launch to the last end: worker start-up happens once, before.
    return n_trials / result.wallclock


def fresh_interpreter_seconds(imports: str) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", imports], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--process-trials", type=int, default=300)
    args = parser.parse_args()

    print("## Decision overhead, random search, trivial objective, in-process\n")
    print("| trials | rung decision ms/trial | rung total ms/trial | Optuna RandomSampler total ms/trial | Optuna / rung (total) |")
    print("|---:|---:|---:|---:|---:|")
    for n in args.trials:
        ours = rung_in_process(n)
        theirs = optuna_in_memory(n)
        their_total = f"{theirs['total_ms']:.3f}" if theirs else "n/a"
        ratio = f"{theirs['total_ms'] / ours['total_ms']:.1f}x" if theirs else "n/a"
        print(f"| {n} | {ours['decision_ms']:.4f} | {ours['total_ms']:.3f} | {their_total} | {ratio} |")

    print("\n## Process backend, 2 workers, trivial trials (end to end)\n")
    print("| how trials run | trivial trials / s | per trial |")
    print("|---|---:|---:|")
    for isolation, label in (("fork", "fork of a warm worker per trial (default)"), ("none", "inside the warm worker (isolation='none')")):
        rate = process_throughput(args.process_trials, isolation)
        print(f"| {label} | {rate:.0f} | {1e3 / rate:.1f} ms |")
    bare = fresh_interpreter_seconds("pass")
    heavy = fresh_interpreter_seconds("import numpy, scipy.stats, pandas, rung")
    for label, seconds in (("fresh interpreter per trial, bare", bare),
                           ("fresh interpreter per trial, numpy+scipy+pandas+rung", heavy)):
        print(f"| {label} (2 in parallel, estimated) | {2 / seconds:.1f} | {seconds * 1e3:.0f} ms |")


if __name__ == "__main__":
    main()
