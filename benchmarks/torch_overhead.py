"""Per-trial overhead of a trivial torch objective, 2 workers: rung's process backend, Ray Tune, Syne Tune.

Usage: ``python benchmarks/torch_overhead.py [--trials 40] [--peer-trials 20] [--skip ray syne]``

The objective builds a tiny model and an SGD optimizer, takes one step and reports once: its
own compute, measured warm in this process, is about a millisecond. A trial's overhead is
what the run spends per trial beyond that: ``n_workers * span / n_trials - compute``, where
``span`` is from the first trial's start to the last trial's end (worker start-up, paid once
per run, is reported apart; for the peers it cannot be separated and is included).

Variants on rung's process backend:

* ``rung cold``: the plain function. Every forked trial builds its first optimizer and pays
  torch.optim's first-use cost (the import of ``torch._dynamo``) again;
* ``rung warm``: the same function through ``rung.torch.warm(fn)``: each worker pays that
  cost once in ``rung_warm_up()`` and every trial is a fork of the warm worker;
* ``rung ready objective``: ``rung.torch.TrainingObjective`` (1 epoch of a small MLP on 64
  examples), whose warm-up also prepares the data once per worker; its compute is measured
  warm here too.

Peers, on the same function: Ray Tune (``tune.Tuner``, ``max_concurrent_trials=2`` on a
local 2-CPU Ray) and Syne Tune (``LocalBackend``: every trial is a fresh Python process
running a script). Their numbers include their start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

import rung  # noqa: E402
import rung.torch  # noqa: E402
from rung.backends import ProcessBackend  # noqa: E402

SPACE = {"lr": rung.loguniform(1e-4, 1e-1)}
N_WORKERS = 2
# A worker's start-up (a fresh interpreter importing torch) exceeded the default 120 s at a load
# average of 24 on this 2-CPU machine; the benchmark waits instead of failing the variant.
START_TIMEOUT = 900.0


def trivial(config):
    """One SGD step on a tiny linear model; reports the loss once."""
    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"])
    loss = model(torch.ones(4, 10)).pow(2).mean()
    loss.backward()
    optimizer.step()
    rung.report(epoch=1, loss=float(loss.detach()))


def tiny_data():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(80, 8, generator=generator)
    return x, (x[:, 0] > 0).long()


READY = rung.torch.TrainingObjective("mlp", tiny_data, seed=0)
READY_CONFIG = {"epochs": 1, "layers": 1, "units_1": 16, "optimizer": "sgd", "batch_size": 64}


def ready(config):
    READY({**READY_CONFIG, **config})


def _warm_compute(fn, config, repeats=20) -> float:
    """Median seconds of one call of ``fn`` in this (warm) process, outside any tuner."""
    class _Sink:
        trial_id, trial_dir, resource = 0, Path(tempfile.mkdtemp()), None

        def report(self, metrics):
            return "continue"

    from rung.trial._session import reset_session, set_session

    times = []
    for _ in range(repeats + 2):
        token = set_session(_Sink())
        try:
            start = time.perf_counter()
            fn(config)
            times.append(time.perf_counter() - start)
        finally:
            reset_session(token)
    return statistics.median(times[2:])


def _cpu_seconds() -> float:
    """CPU time of this process and of its waited-for descendants (workers, and the trials they reaped)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _one_run(objective, n_trials: int, metric: str, isolation: str):
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    result = rung.Tuner(objective, SPACE, metric=metric, mode="min", searcher="random", seed=0,
                        backend=ProcessBackend(isolation=isolation, start_timeout=START_TIMEOUT), n_workers=N_WORKERS, max_trials=n_trials,
                        storage=":memory:", verbose=0).run()
    return result, time.perf_counter() - start, _cpu_seconds() - cpu_before


def rung_run(objective, n_trials: int, compute: float, metric: str = "loss", isolation: str = "fork") -> dict:
    """Runs of ``n_trials`` and of ``2 * n_trials`` on the process backend.

    Wall clock: the span of the larger run's trials. CPU: (CPU of the larger run - CPU of the
    smaller) / n_trials, the CPU seconds one more trial costs in all processes together (tuner,
    workers, trials; start-up cancels out), which the machine's load inflates far less than it
    inflates wall clock.
    """
    _, _, cpu_small = _one_run(objective, n_trials, metric, isolation)
    n_trials *= 2
    result, total, cpu_large = _one_run(objective, n_trials, metric, isolation)
    assert result.count("completed") == n_trials, result.trials
    trials = result.trials
    span = float(trials["ended"].max() - trials["started"].min())
    per_trial = N_WORKERS * span / n_trials
    return {"trials": n_trials, "total_s": round(total, 2), "startup_s": round(total - span, 2),
            "per_trial_ms": round(per_trial * 1e3, 1), "overhead_ms": round((per_trial - compute) * 1e3, 1),
            "compute_ms": round(compute * 1e3, 2), "mean_run_time_ms": round(float(trials["run_time"].mean()) * 1e3, 1),
            "cpu_ms_per_trial": round((cpu_large - cpu_small) / (n_trials // 2) * 1e3, 1),
            "cpu_overhead_ms": round(((cpu_large - cpu_small) / (n_trials // 2) - compute) * 1e3, 1)}


def ray_run(n_trials: int, compute: float) -> dict:
    import ray
    from ray import tune

    def trainable(config):
        model = torch.nn.Linear(10, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"])
        loss = model(torch.ones(4, 10)).pow(2).mean()
        loss.backward()
        optimizer.step()
        tune.report({"loss": float(loss.detach())})

    # Ray runs its workers at nice 15 by default; on a loaded machine they then get almost no
    # CPU (4 of 12 trials in 37 min at load 25). rung's workers run at the normal priority, so
    # Ray's do too here.
    os.environ.setdefault("RAY_worker_niceness", "0")
    start = time.perf_counter()
    # address="local": a fresh Ray instance of our own, even if another one runs on this machine.
    # _node_ip_address: the node listens on the loopback interface only.
    ray.init(address="local", num_cpus=N_WORKERS, include_dashboard=False, log_to_driver=False, configure_logging=False,
             _node_ip_address="127.0.0.1")
    ready_at = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as storage:
            tuner = tune.Tuner(
                tune.with_resources(trainable, {"cpu": 1}),
                param_space={"lr": tune.loguniform(1e-4, 1e-1)},
                tune_config=tune.TuneConfig(num_samples=n_trials, max_concurrent_trials=N_WORKERS, metric="loss",
                                            mode="min"),
                run_config=tune.RunConfig(storage_path=storage, verbose=0),
            )
            grid = tuner.fit()
            assert len(grid) == n_trials and not grid.errors, grid.errors
        fit = time.perf_counter() - ready_at
    finally:
        ray.shutdown()
    per_trial = N_WORKERS * fit / n_trials
    return {"trials": n_trials, "total_s": round(time.perf_counter() - start, 2),
            "ray_init_s": round(ready_at - start, 2), "per_trial_ms": round(per_trial * 1e3, 1),
            "overhead_ms": round((per_trial - compute) * 1e3, 1), "note": "Tuner.fit wall clock (after ray.init)"}


SYNE_SCRIPT = textwrap.dedent("""
    import argparse
    import torch
    from syne_tune import Reporter

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float)
    args, _ = parser.parse_known_args()
    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss = model(torch.ones(4, 10)).pow(2).mean()
    loss.backward()
    optimizer.step()
    Reporter()(epoch=1, loss=float(loss.detach()))
""")


def syne_run(n_trials: int, compute: float) -> dict:
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend import LocalBackend
    from syne_tune.config_space import loguniform
    from syne_tune.optimizer.baselines import RandomSearch

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "trivial_syne.py"
        script.write_text(SYNE_SCRIPT)
        tuner = Tuner(
            trial_backend=LocalBackend(entry_point=str(script)),
            scheduler=RandomSearch({"lr": loguniform(1e-4, 1e-1)}, metrics=["loss"], do_minimize=True, random_seed=0),
            stop_criterion=StoppingCriterion(max_num_trials_finished=n_trials),
            n_workers=N_WORKERS,
            sleep_time=0.05,
            results_update_interval=5,
            save_tuner=False,
            tuner_name=f"rung-overhead-{os.getpid()}",
        )
        start = time.perf_counter()
        tuner.run()
        total = time.perf_counter() - start
    per_trial = N_WORKERS * total / n_trials
    return {"trials": n_trials, "total_s": round(total, 2), "per_trial_ms": round(per_trial * 1e3, 1),
            "overhead_ms": round((per_trial - compute) * 1e3, 1), "note": "Tuner.run wall clock, sleep_time=0.05"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30, help="rung runs N and then 2N trials")
    parser.add_argument("--cold-trials", type=int, default=6)
    parser.add_argument("--peer-trials", type=int, default=20)
    parser.add_argument("--skip", nargs="*", default=[], choices=["cold", "warm", "none", "ready", "ray", "syne"])
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    compute = _warm_compute(trivial, {"lr": 0.01})
    ready_compute = _warm_compute(ready, {"lr": 0.01})
    rows: dict[str, dict] = {}
    runs = [
        ("rung cold (plain function)", "cold", lambda: rung_run(trivial, args.cold_trials, compute)),
        ("rung warm (rung.torch.warm)", "warm", lambda: rung_run(rung.torch.warm(trivial), args.trials, compute)),
        ("rung warm, isolation='none'", "none",
         lambda: rung_run(rung.torch.warm(trivial), args.trials, compute, isolation="none")),
        ("rung ready objective (1 epoch)", "ready", lambda: rung_run(READY_WRAPPED, args.trials, ready_compute, "validation_loss")),
        ("Ray Tune", "ray", lambda: ray_run(args.peer_trials, compute)),
        ("Syne Tune (LocalBackend)", "syne", lambda: syne_run(args.peer_trials, compute)),
    ]
    for label, key, run in runs:
        if key in args.skip:
            continue
        load_before = os.getloadavg()[0]
        try:
            rows[label] = run()
        except Exception as exc:  # a peer that cannot run here is reported, not hidden
            rows[label] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        rows[label]["load"] = f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"
        print(f"{label}: {json.dumps(rows[label])}", flush=True)
    print(f"\nwarm compute of the trivial objective: {compute * 1e3:.2f} ms; of the ready objective: "
          f"{ready_compute * 1e3:.2f} ms; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    base = rows.get("rung warm (rung.torch.warm)", {}).get("overhead_ms")
    print(f"{'variant':34s} {'trials':>6s} {'per trial ms':>12s} {'overhead ms':>11s} {'x rung warm':>11s} "
          f"{'start-up s':>10s} {'CPU ms/trial':>12s} {'CPU overhead ms':>15s} {'load':>9s}")
    for label, row in rows.items():
        if "error" in row:
            print(f"{label:34s} {row['error']}")
            continue
        startup = row.get("startup_s", row.get("ray_init_s", ""))
        ratio = f"{row['overhead_ms'] / base:.1f}" if base and base > 0 else "-"
        print(f"{label:34s} {row['trials']:6d} {row['per_trial_ms']:12.1f} {row['overhead_ms']:11.1f} {ratio:>11s} "
              f"{startup!s:>10s} {row.get('cpu_ms_per_trial', '-')!s:>12s} {row.get('cpu_overhead_ms', '-')!s:>15s} "
              f"{row['load']:>9s}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


class _Ready:
    """The ready objective with the benchmark's fixed entries, warm-up included."""

    def rung_warm_up(self) -> None:
        READY.rung_warm_up()

    def __call__(self, config: dict) -> None:
        ready(config)


READY_WRAPPED = _Ready()


if __name__ == "__main__":
    main()
