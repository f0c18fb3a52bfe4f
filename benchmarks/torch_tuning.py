"""A full tuning run of rung.torch's ready objective against Optuna and Syne Tune, wall clock to a target error.

Usage: ``python benchmarks/torch_tuning.py [--seeds 5] [--trials 30] [--target 0.02]
[--budget SECONDS] [--arms rung optuna syne] [--out runs.jsonl]``; ``--summarize FILE --target T``
reads the time to another target off the recorded reports.

``--budget`` gives every run the same wall clock (rung's ``max_wallclock``, Optuna's
``timeout``, Syne Tune's ``max_wallclock_time``), with ``--trials`` only as a cap: a fixed
number of trials favours the arm that stops fewer of them early, since an early stopper
finishes its trials sooner and then sits idle.

Objective: ``rung.torch.TrainingObjective("lenet", "digits")`` (LeNet on the digits at 28x28,
a stratified 20% held out), up to 9 epochs, 2 trials at a time, the same space for everyone:
learning rate (log-uniform 1e-4..1e-1), batch size {16, 32, 64, 128}, optimizer {momentum,
adam}, dropout (0..0.5), schedule {constant, cosine, one_cycle}. The same training code runs
in every arm: each framework's per-epoch report is bridged to the objective's
``rung.report`` calls. Each run builds a fresh objective, so every arm loads and splits the
data inside its own clock.

* rung: default searcher (``"auto"``) with ASHA (1, 3, 9; eta 3), process backend;
* Optuna: TPESampler with MedianPruner (``n_startup_trials=5``, ``n_warmup_steps=1``),
  ``study.optimize(n_jobs=2)`` (two threads in one process; torch releases the GIL);
* Syne Tune: ASHA (grace period 1, max_t 9, eta 3) with random search on ``LocalBackend``
  (each trial a fresh Python process running a script).

The arms run interleaved seed by seed (rung s0, Optuna s0, Syne Tune s0, rung s1, ...), so a
change of the machine's load hits every arm alike, each in a fresh Python process whose clock
starts after ``import torch, rung.torch`` and the arm's framework (what a user's script has
done before it tunes); each run records the 1-minute load
average before and after it and the CPU seconds of this process and its children. The seed
is the searcher's (and the scheduler's); the training seed stays 0, so a config trains the
same way in every arm. Reported per run: the wall clock from the arm's start until the best
validation error first reached the target, the final best error, trials and epochs run,
the total wall clock; then per arm the median time to target over the seeds that reached it
and how many did.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402
import rung.torch  # noqa: E402
from rung.backends import ProcessBackend  # noqa: E402

EPOCHS = 9
# Worker start-up (a fresh interpreter importing torch) took over the default 120 s at a load
# average of 23 on this 2-CPU machine; the benchmark waits instead of failing the run.
START_TIMEOUT = 900.0
N_WORKERS = 2
SPACE = {
    "lr": rung.loguniform(1e-4, 1e-1),
    "batch_size": rung.choice([16, 32, 64, 128]),
    "optimizer": rung.choice(["momentum", "adam"]),
    "dropout": rung.uniform(0.0, 0.5),
    "schedule": rung.choice(["constant", "cosine", "one_cycle"]),
    "epochs": EPOCHS,
}


def _objective() -> rung.torch.TrainingObjective:
    return rung.torch.TrainingObjective("lenet", "digits", seed=0)


def _time_to_target(events: list[tuple[float, float]], target: float) -> float | None:
    best = float("inf")
    for when, value in sorted(events):
        best = min(best, value)
        if best <= target:
            return round(when, 1)
    return None


class _ReportClock(rung.Callback):
    """Records (seconds since the arm started, validation error) in the tuner's process, as
    the other arms' clocks do: building the tuner and starting its workers count."""

    def __init__(self, start: float) -> None:
        self.start, self.events = start, []

    def on_report(self, state, trial, report, decision) -> None:
        value = report.metrics.get("validation_error")
        if value is not None:
            self.events.append((time.perf_counter() - self.start, float(value)))


def _events(events: list[tuple[float, float]]) -> list[list[float]]:
    """(seconds, validation error) of every report, rounded, so other targets can be read later."""
    return [[round(when, 2), round(value, 5)] for when, value in sorted(events)]


def rung_arm(n_trials: int, target: float, seed: int, budget: float | None = None) -> dict:
    start = time.perf_counter()
    clock = _ReportClock(start)
    tuner = rung.Tuner(_objective(), SPACE, metric="validation_error", mode="min", seed=seed,
                       scheduler=rung.schedulers.ASHA("epoch", min_resource=1, max_resource=EPOCHS),
                       n_workers=N_WORKERS, max_trials=n_trials, max_wallclock=budget, storage=":memory:", verbose=0,
                       callbacks=[clock], backend=ProcessBackend(start_timeout=START_TIMEOUT))
    built = time.perf_counter() - start
    result = tuner.run()
    total = time.perf_counter() - start
    reports = result.reports
    chosen = getattr(tuner.searcher, "chosen", None)
    best = min((value for _, value in clock.events), default=result.best_value)  # as the other arms count it
    return {"time_to_target_s": _time_to_target(clock.events, target), "best_error": best,
            "trials": len(result.trials), "epochs": int(reports.groupby("trial_id")["epoch"].max().sum()),
            "total_s": round(total, 1), "build_s": round(built, 2),
            "first_report_s": round(min(t for t, _ in clock.events), 1) if clock.events else None,
            "searcher": chosen.name if chosen is not None else type(tuner.searcher).__name__,
            "events": _events(clock.events)}


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


def optuna_arm(n_trials: int, target: float, seed: int, budget: float | None = None) -> dict:
    import optuna
    from rung.trial._session import reset_session, set_session

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    events: list[tuple[float, float]] = []
    epochs = [0]
    folder = Path(tempfile.mkdtemp())
    start = time.perf_counter()
    training = _objective()

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
            training(config)
        except rung.TrialStopped:
            raise optuna.TrialPruned()
        finally:
            reset_session(token)
            epochs[0] += getattr(session, "epochs", 0)
        return session.last

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1))
    study.optimize(objective, n_trials=n_trials, n_jobs=N_WORKERS, timeout=budget)
    total = time.perf_counter() - start
    return {"time_to_target_s": _time_to_target(events, target), "best_error": min(v for _, v in events),
            "trials": len(study.trials), "epochs": epochs[0], "total_s": round(total, 1),
            "first_report_s": round(min(t for t, _ in events), 1), "events": _events(events)}


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


def syne_arm(n_trials: int, target: float, seed: int, budget: float | None = None) -> dict:
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
                           grace_period=1, reduction_factor=3, random_seed=seed),
            stop_criterion=StoppingCriterion(max_num_trials_started=n_trials, max_wallclock_time=budget),
            n_workers=N_WORKERS, sleep_time=0.1, save_tuner=False, wait_trial_completion_when_stopping=True,
            tuner_name=f"rung-torch-tuning-{os.getpid()}-{seed}")
        start = time.perf_counter()
        tuner.run()
        total = time.perf_counter() - start
    results: pd.DataFrame = _syne_results(tuner)
    events = [(float(row["st_tuner_time"]), float(row["validation_error"])) for _, row in results.iterrows()]
    return {"time_to_target_s": _time_to_target(events, target),
            "best_error": float(results["validation_error"].min()) if len(results) else None,
            "trials": int(results["trial_id"].nunique()) if len(results) else 0,
            "epochs": int(results.groupby("trial_id")["epoch"].max().sum()) if len(results) else 0,
            "total_s": round(total, 1), "first_report_s": round(min(t for t, _ in events), 1) if events else None,
            "events": _events(events)}


def _syne_results(tuner):
    from syne_tune.experiments import load_experiment

    return load_experiment(tuner.name).results


ARMS = {"rung": ("rung auto + ASHA", rung_arm), "optuna": ("Optuna TPE + median pruner", optuna_arm),
        "syne": ("Syne Tune ASHA (LocalBackend)", syne_arm)}


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _import_arm(key: str) -> None:
    """What a user's script imports before its tuning starts (outside the clock)."""
    import torch  # noqa: F401  (rung.torch is imported at the top)

    if key == "optuna":
        import optuna  # noqa: F401
    elif key == "syne":
        import syne_tune  # noqa: F401


def child_run(key: str, n_trials: int, target: float, seed: int, budget: float | None) -> dict:
    """One arm at one seed in this (fresh) process: the CPU seconds of it and its children."""
    _import_arm(key)
    cpu_before = _cpu_seconds()
    try:
        row = ARMS[key][1](n_trials, target, seed, budget)
    except Exception as exc:
        row = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    if budget is not None and "events" in row:
        # Every arm counts from its own start; rung's max_wallclock starts once its workers
        # are up, and Optuna's timeout lets running trials finish: only what each arm reported
        # within the budget counts, so all get the same time.
        row["events"] = [event for event in row["events"] if event[0] <= budget]
        row["time_to_target_s"] = _time_to_target([tuple(event) for event in row["events"]], target)
        row["best_error"] = min((value for _, value in row["events"]), default=float("inf"))
    return {**row, "cpu_s": round(_cpu_seconds() - cpu_before, 1)}


def one_run(key: str, n_trials: int, target: float, seed: int, budget: float | None) -> dict:
    """One arm at one seed in a fresh Python process (so no arm inherits another's imports,
    data or torch's first-use costs), with the load average before and after."""
    load_before = os.getloadavg()[0]
    command = [sys.executable, str(Path(__file__).resolve()), "--child", key, str(seed), "--trials", str(n_trials),
               "--target", str(target)] + ([] if budget is None else ["--budget", str(budget)])
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    row = json.loads(lines[-1]) if lines else {"error": f"exit {done.returncode}: {done.stderr[-300:]}"}
    return {"arm": key, "seed": seed, **row, "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2)}


def summarize(runs: list[dict], target: float) -> list[str]:
    """Per arm: median time to target over the seeds that reached it, and the totals."""
    lines = [f"| arm | seeds reaching {target} | median time to target, s (range) | median best error | "
             "median trials | median epochs | median total, s | median CPU s | load (min-max) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key, (label, _) in ARMS.items():
        mine = [run for run in runs if run["arm"] == key and "error" not in run]
        if not mine:
            continue
        reached = [run["time_to_target_s"] for run in mine if run["time_to_target_s"] is not None]
        loads = [run[k] for run in mine for k in ("load_before", "load_after")]
        spread = f"{statistics.median(reached):.1f} ({min(reached):.1f}-{max(reached):.1f})" if reached else "-"
        lines.append(
            f"| {label} | {len(reached)}/{len(mine)} | {spread} | "
            f"{statistics.median(run['best_error'] for run in mine):.4f} | "
            f"{statistics.median(run['trials'] for run in mine):g} | {statistics.median(run['epochs'] for run in mine):g} | "
            f"{statistics.median(run['total_s'] for run in mine):.1f} | {statistics.median(run['cpu_s'] for run in mine):.1f} | "
            f"{min(loads):.1f}-{max(loads):.1f} |")
    return lines


def runs_table(runs: list[dict]) -> list[str]:
    """One markdown row per run, by seed then arm."""
    lines = ["| seed | arm | time to target, s | first report, s | best error | trials | epochs | total, s | CPU s | load |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    order = list(ARMS)
    for run in sorted(runs, key=lambda run: (run["seed"], order.index(run["arm"]))):
        load = f"{run['load_before']:.1f}-{run['load_after']:.1f}"
        if "error" in run:
            lines.append(f"| {run['seed']} | {run['arm']} | {run['error'][:60]} | | | | | | {run['cpu_s']} | {load} |")
            continue
        reached = "-" if run["time_to_target_s"] is None else f"{run['time_to_target_s']:.1f}"
        lines.append(f"| {run['seed']} | {run['arm']} | {reached} | {run.get('first_report_s')} | {run['best_error']:.4f} | "
                     f"{run['trials']} | {run['epochs']} | {run['total_s']:.1f} | {run['cpu_s']:.1f} | {load} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--target", type=float, default=0.02)
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (or --seed-list)")
    parser.add_argument("--seed-list", type=int, nargs="*")
    parser.add_argument("--arms", nargs="*", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--out", type=Path, help="append one JSON line per run (kept if the script is stopped)")
    parser.add_argument("--summarize", type=Path, nargs="*", help="only print the table of these JSONL files")
    parser.add_argument("--budget", type=float, help="seconds of wall clock per run (every arm stops there; "
                        "--trials still caps the trials): the same time for everyone")
    parser.add_argument("--child", nargs=2, metavar=("ARM", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_run(args.child[0], args.trials, args.target, int(args.child[1]), args.budget)),
              flush=True)
        return
    if args.summarize:
        runs = [json.loads(line) for path in args.summarize for line in path.read_text().splitlines() if line]
        for run in runs:  # the time to this target, from the recorded reports where a run has them
            if "events" in run:
                run["time_to_target_s"] = _time_to_target([tuple(e) for e in run["events"]], args.target)
        print("\n".join(runs_table(runs)) + "\n")
        print("\n".join(summarize(runs, args.target)))
        return
    seeds = args.seed_list if args.seed_list else list(range(args.seeds))
    runs = []
    for seed in seeds:  # interleaved: every arm at seed 0, then every arm at seed 1, ...
        for key in args.arms:
            run = one_run(key, args.trials, args.target, seed, args.budget)
            runs.append(run)
            print(json.dumps(run), flush=True)
            if args.out:
                with args.out.open("a") as handle:
                    handle.write(json.dumps(run) + "\n")
    print(f"\ntarget validation error {args.target}; {os.cpu_count()} CPUs, seeds {seeds}")
    print("\n".join(summarize(runs, args.target)))


if __name__ == "__main__":
    main()
