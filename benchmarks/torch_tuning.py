"""A full tuning run of rung.torch's ready objective against Optuna and Syne Tune, wall clock to a target error.

Usage: ``python benchmarks/torch_tuning.py [--trials 30] [--target 0.02] [--skip optuna syne]``

Objective: ``rung.torch.TrainingObjective("lenet", "digits")`` (LeNet on the digits at 28x28,
a stratified 20% held out), up to 9 epochs, 2 trials at a time, the same space for everyone:
learning rate (log-uniform 1e-4..1e-1), batch size {16, 32, 64, 128}, optimizer {momentum,
adam}, dropout (0..0.5), schedule {constant, cosine, one_cycle}. The same training code runs
in every arm: each framework's per-epoch report is bridged to the objective's
``rung.report`` calls.

* rung: default searcher (``"auto"``) with ASHA (1, 3, 9; eta 3), process backend;
* Optuna: TPESampler with MedianPruner (``n_startup_trials=5``, ``n_warmup_steps=1``),
  ``study.optimize(n_jobs=2)`` (two threads in one process; torch releases the GIL);
* Syne Tune: ASHA (grace period 1, max_t 9, eta 3) with random search on ``LocalBackend``
  (each trial a fresh Python process running a script).

Reported: for each arm, the wall clock until the best validation error first reached the
target, the final best error, trials and epochs run, and the total wall clock.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402
import rung.torch  # noqa: E402

EPOCHS = 9
N_WORKERS = 2
OBJECTIVE = rung.torch.TrainingObjective("lenet", "digits", seed=0)
SPACE = {
    "lr": rung.loguniform(1e-4, 1e-1),
    "batch_size": rung.choice([16, 32, 64, 128]),
    "optimizer": rung.choice(["momentum", "adam"]),
    "dropout": rung.uniform(0.0, 0.5),
    "schedule": rung.choice(["constant", "cosine", "one_cycle"]),
    "epochs": EPOCHS,
}


def _time_to_target(events: list[tuple[float, float]], target: float) -> float | None:
    best = float("inf")
    for when, value in sorted(events):
        best = min(best, value)
        if best <= target:
            return when
    return None


def rung_arm(n_trials: int, target: float) -> dict:
    start = time.perf_counter()
    result = rung.Tuner(OBJECTIVE, SPACE, metric="validation_error", mode="min", seed=0,
                        scheduler=rung.schedulers.ASHA("epoch", min_resource=1, max_resource=EPOCHS),
                        n_workers=N_WORKERS, max_trials=n_trials, storage=":memory:", verbose=0).run()
    total = time.perf_counter() - start
    reports = result.reports
    setup = total - result.wallclock  # before the loop: building the tuner is not part of the run
    events = [(float(t) + setup, float(v)) for t, v in zip(reports["time"], reports["validation_error"])]
    return {"time_to_target_s": _time_to_target(events, target), "best_error": result.best_value,
            "trials": len(result.trials), "epochs": int(reports.groupby("trial_id")["epoch"].max().sum()),
            "total_s": round(total, 1)}


class _OptunaSession:
    """Bridges the objective's rung.report calls to an Optuna trial (report, prune)."""

    def __init__(self, trial, folder: Path, start: float, events: list) -> None:
        self.trial, self.trial_id, self.trial_dir, self.resource = trial, trial.number, folder, None
        self.start, self.events = start, events

    def report(self, metrics: dict) -> str:
        value = metrics["validation_error"]
        self.events.append((time.perf_counter() - self.start, value))
        self.trial.report(value, int(metrics["epoch"]))
        self.last = value
        self.epochs = int(metrics["epoch"])
        return "stop" if self.trial.should_prune() else "continue"


def optuna_arm(n_trials: int, target: float) -> dict:
    import optuna
    from rung.trial._session import reset_session, set_session

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    events: list[tuple[float, float]] = []
    epochs = [0]
    folder = Path(tempfile.mkdtemp())
    start = time.perf_counter()

    def objective(trial):
        config = {"lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
                  "batch_size": trial.suggest_categorical("batch_size", [16, 32, 64, 128]),
                  "optimizer": trial.suggest_categorical("optimizer", ["momentum", "adam"]),
                  "dropout": trial.suggest_float("dropout", 0.0, 0.5),
                  "schedule": trial.suggest_categorical("schedule", ["constant", "cosine", "one_cycle"]),
                  "epochs": EPOCHS}
        session = _OptunaSession(trial, folder / f"trial_{trial.number}", start, events)
        token = set_session(session)
        try:
            OBJECTIVE(config)
        except rung.TrialStopped:
            raise optuna.TrialPruned()
        finally:
            reset_session(token)
            epochs[0] += getattr(session, "epochs", 0)
        return session.last

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=0),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1))
    study.optimize(objective, n_trials=n_trials, n_jobs=N_WORKERS)
    total = time.perf_counter() - start
    return {"time_to_target_s": _time_to_target(events, target), "best_error": min(v for _, v in events),
            "trials": len(study.trials), "epochs": epochs[0], "total_s": round(total, 1)}


SYNE_SCRIPT = textwrap.dedent("""
    import argparse, sys, tempfile
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from syne_tune import Reporter
    import rung, rung.torch
    from rung.trial._session import set_session

    parser = argparse.ArgumentParser()
    for name in ("lr", "dropout"):
        parser.add_argument("--" + name, type=float)
    parser.add_argument("--batch_size", type=int)
    parser.add_argument("--optimizer")
    parser.add_argument("--schedule")
    parser.add_argument("--epochs", type=int)
    args, _ = parser.parse_known_args()
    reporter = Reporter()

    class Session:
        trial_id, trial_dir, resource = 0, Path(tempfile.mkdtemp()), None
        def report(self, metrics):
            reporter(epoch=int(metrics["epoch"]), validation_error=metrics["validation_error"])
            return "continue"

    set_session(Session())
    rung.torch.TrainingObjective("lenet", "digits", seed=0)(vars(args))
""")


def syne_arm(n_trials: int, target: float) -> dict:
    import pandas as pd
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend import LocalBackend
    from syne_tune.config_space import choice, loguniform, uniform
    from syne_tune.optimizer.baselines import ASHA

    space = {"lr": loguniform(1e-4, 1e-1), "batch_size": choice([16, 32, 64, 128]),
             "optimizer": choice(["momentum", "adam"]), "dropout": uniform(0.0, 0.5),
             "schedule": choice(["constant", "cosine", "one_cycle"]), "epochs": EPOCHS}
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "lenet_syne.py"
        script.write_text(SYNE_SCRIPT.format(root=str(Path(__file__).resolve().parents[1])))
        tuner = Tuner(
            trial_backend=LocalBackend(entry_point=str(script)),
            scheduler=ASHA(space, metric="validation_error", do_minimize=True, time_attr="epoch", max_t=EPOCHS,
                           grace_period=1, reduction_factor=3, random_seed=0),
            stop_criterion=StoppingCriterion(max_num_trials_started=n_trials),
            n_workers=N_WORKERS, sleep_time=0.1, save_tuner=False, wait_trial_completion_when_stopping=True,
            tuner_name=f"rung-torch-tuning-{os.getpid()}")
        start = time.perf_counter()
        tuner.run()
        total = time.perf_counter() - start
    results: pd.DataFrame = _syne_results(tuner)
    events = [(float(row["st_tuner_time"]), float(row["validation_error"])) for _, row in results.iterrows()]
    return {"time_to_target_s": _time_to_target(events, target),
            "best_error": float(results["validation_error"].min()) if len(results) else None,
            "trials": int(results["trial_id"].nunique()) if len(results) else 0,
            "epochs": int(results.groupby("trial_id")["epoch"].max().sum()) if len(results) else 0,
            "total_s": round(total, 1)}


def _syne_results(tuner):
    from syne_tune.experiments import load_experiment

    return load_experiment(tuner.name).results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--target", type=float, default=0.02)
    parser.add_argument("--skip", nargs="*", default=[], choices=["rung", "optuna", "syne"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = {}
    for key, label, arm in (("rung", "rung auto + ASHA", rung_arm), ("optuna", "Optuna TPE + median pruner",
                                                                      optuna_arm),
                            ("syne", "Syne Tune ASHA (LocalBackend)", syne_arm)):
        if key in args.skip:
            continue
        try:
            rows[label] = arm(args.trials, args.target)
        except Exception as exc:
            rows[label] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        print(label, json.dumps(rows[label]), flush=True)
    print(f"\ntarget validation error {args.target}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for label, row in rows.items():
        print(f"{label:32s} {json.dumps(row)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
