"""Store overhead per trial on SQLite, side by side with Optuna's SQLite storage.

Usage: ``python benchmarks/store.py [--trials 1000] [--reports 20] [--optuna-trials 100]``

Random search, a trivial in-process objective that reports ``--reports`` times per trial.
rung's store overhead per trial is the difference between a run recording to a SQLite file
and the same run recorded in memory (``storage=":memory:"``). Every accepted report is committed
before the trial hears the scheduler's answer. Optuna runs the same loop (RandomSampler,
``trial.report`` per step, SQLite file) in the same process.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402

SPACE = {"lr": rung.loguniform(1e-5, 1e-1), "momentum": rung.uniform(0.0, 0.99), "layers": rung.randint(1, 8)}


def make_objective(n_reports: int):
    def objective(config):
        for step in range(1, n_reports + 1):
            rung.report(epoch=step, loss=config["lr"] / step)

    return objective


def rung_seconds_per_trial(n_trials: int, n_reports: int, storage) -> float:
    result = rung.Tuner(make_objective(n_reports), SPACE, metric="loss", searcher="random", max_trials=n_trials, seed=0,
                        backend="inprocess", verbose=0, storage=storage).run()
    assert result.count("completed") == n_trials
    return result.wallclock / n_trials


def optuna_seconds_per_trial(n_trials: int, n_reports: int, path: Path) -> float | None:
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        trial.suggest_float("momentum", 0.0, 0.99)
        trial.suggest_int("layers", 1, 8)
        for step in range(1, n_reports + 1):
            trial.report(lr / step, step)
        return lr / n_reports

    study = optuna.create_study(storage=f"sqlite:///{path}", sampler=optuna.samplers.RandomSampler(seed=0))
    start = time.perf_counter()
    study.optimize(objective, n_trials=n_trials)
    return (time.perf_counter() - start) / n_trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--optuna-trials", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = rung_seconds_per_trial(args.trials, args.reports, storage=":memory:")
        sqlite = rung_seconds_per_trial(args.trials, args.reports, storage=Path(tmp) / "rung.db")
        optuna = optuna_seconds_per_trial(args.optuna_trials, args.reports, Path(tmp) / "optuna.db")
    overhead = sqlite - bare
    print(f"## Store overhead, {args.trials} trials x {args.reports} reports, SQLite file\n")
    print("| | ms per trial |")
    print("|---|---:|")
    print(f"| rung, no store (loop only) | {bare * 1e3:.3f} |")
    print(f"| rung, SQLite store | {sqlite * 1e3:.3f} |")
    print(f"| **rung store overhead** | **{overhead * 1e3:.3f}** |")
    if optuna is not None:
        print(f"| Optuna RandomSampler, SQLite storage, total ({args.optuna_trials} trials) | {optuna * 1e3:.1f} |")
        print(f"\nOptuna total / rung total with store: {optuna / sqlite:.0f}x")


if __name__ == "__main__":
    main()
