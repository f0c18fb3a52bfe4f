"""The Ray backend (issue 17): throughput against Ray Tune, parallel efficiency, a lost node.

Usage: ``python benchmarks/ray_backend.py [--trials 400] [--tune-trials 40] [--part all|throughput|parallel|node-loss]``

1. Trivial trials per second on a local Ray with 2 CPUs: rung's ``backend="ray"`` and Ray
   Tune (``tune.Tuner`` with a function trainable that reports once), side by side on the
   same Ray instance, 2 trials at a time each. rung's figure is the tuner's whole run
   (slot start-up included) and, apart, its steady rate (trials after the first ten).
2. Parallel efficiency with 1-second trials: the wall clock of 8 trials on 1 worker over
   that of 8 trials on 2 workers (ideal 2.0).
3. The cost of losing one node out of three in the middle of a 200-trial ASHA run on a
   ``ray.cluster_utils.Cluster`` (a head and two workers, 1 CPU each, one trial per node):
   an undisturbed run, then the same run with one worker node removed once 100 trials
   have started. Counted: trials retried, reports lost (every report a trial saw answered,
   written by the trial to its directory, must be in the store), wall clock of both runs.

Everything binds 127.0.0.1; Ray is shut down at the end of each part. The machine is
shared, so absolute numbers are noisy: compare the ratios, which come from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # Ray on loopback only (read when ray is imported)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402
from rung.backends import RayBackend  # noqa: E402
from rung.schedulers import ASHA  # noqa: E402

STORE = 80 * 1024 * 1024
EPOCH_SLEEP = 0.1  # seconds per epoch of the ASHA trials: enough that the nodes, not the driver, set the pace


def trivial(config: dict) -> None:
    rung.report(loss=config["x"])


def one_second(config: dict) -> None:
    time.sleep(1.0)
    rung.report(loss=config["x"])


def epochs(config: dict) -> None:
    """ASHA trial: 9 epochs of ``sleep`` seconds, a checkpoint per answered epoch, and a
    line in ``acked.txt`` for every report the tuner answered (continue or stop)."""
    trial_dir = rung.trial_dir()
    checkpoint = rung.checkpoint_dir() / "epoch"
    start = int(checkpoint.read_text()) if checkpoint.exists() else 0
    for epoch in range(start + 1, 10):
        time.sleep(config["sleep"])
        try:
            rung.report(epoch=epoch, loss=(config["x"] - 0.3) ** 2 + 1.0 / epoch)
        finally:  # answered (continue, or a stop raised from report): the epoch is done
            with open(trial_dir / "acked.txt", "a") as file:
                file.write(f"{epoch}\n")
            checkpoint.write_text(str(epoch))


class StartTimes(rung.Callback):
    def __init__(self) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []

    def on_trial_start(self, state, trial, kind):
        self.starts.append(time.perf_counter())

    def on_trial_end(self, state, trial):
        self.ends.append(time.perf_counter())


def rung_run(objective, n_trials: int, n_workers: int, **options) -> tuple[float, StartTimes, rung.TuningResult]:
    times = StartTimes()
    began = time.perf_counter()
    result = rung.Tuner(objective, {"x": rung.uniform(0.0, 1.0)}, metric="loss", searcher="random", seed=0,
                        max_trials=n_trials, n_workers=n_workers, verbose=0, storage=":memory:",
                        callbacks=[times], **options).run()
    return time.perf_counter() - began, times, result


def tune_run(n_trials: int) -> float:
    from ray import tune

    def trainable(config):
        tune.report({"loss": config["x"]})

    with tempfile.TemporaryDirectory() as storage:
        began = time.perf_counter()
        tuner = tune.Tuner(
            tune.with_resources(trainable, {"cpu": 1}),
            param_space={"x": tune.uniform(0.0, 1.0)},
            tune_config=tune.TuneConfig(num_samples=n_trials, max_concurrent_trials=2, metric="loss", mode="min"),
            run_config=tune.RunConfig(storage_path=storage, verbose=0),
        )
        results = tuner.fit()
        elapsed = time.perf_counter() - began
    assert len(results) == n_trials and not results.errors, results.errors
    return elapsed


def local_ray() -> None:
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=STORE, log_to_driver=False)


def throughput(n_trials: int, tune_trials: int) -> dict:
    import ray

    local_ray()
    try:
        elapsed, times, result = rung_run(trivial, n_trials, 2, backend=RayBackend())
        assert result.count("completed") == n_trials
        steady = (len(times.ends) - 10) / (times.ends[-1] - times.ends[9])
        tune_elapsed = tune_run(tune_trials)
    finally:
        ray.shutdown()
    rung_rate, tune_rate = n_trials / elapsed, tune_trials / tune_elapsed
    return {"rung_trials": n_trials, "rung_seconds": elapsed, "rung_per_s": rung_rate, "rung_steady_per_s": steady,
            "tune_trials": tune_trials, "tune_seconds": tune_elapsed, "tune_per_s": tune_rate,
            "ratio": rung_rate / tune_rate}


def parallel(n_trials: int = 8) -> dict:
    import ray

    local_ray()
    try:
        one, _, r1 = rung_run(one_second, n_trials, 1, backend=RayBackend())
        two, _, r2 = rung_run(one_second, n_trials, 2, backend=RayBackend())
    finally:
        ray.shutdown()
    assert r1.count("completed") == r2.count("completed") == n_trials
    # The tuner's own wall clock (from its first launch) and the whole call (slot start-up too).
    return {"trials": n_trials, "one_worker_s": r1.wallclock, "two_workers_s": r2.wallclock,
            "speedup": r1.wallclock / r2.wallclock, "speedup_whole_call": one / two}


def asha_run(address: str, shared: Path, name: str, n_trials: int, kill=None) -> dict:
    backend = RayBackend(address=address, storage_path=shared, max_retries=3)
    times = StartTimes()
    if kill is not None:
        threading.Thread(target=kill, args=(times,), daemon=True).start()
    began = time.perf_counter()
    result = rung.Tuner(epochs, {"x": rung.uniform(0.0, 1.0), "sleep": EPOCH_SLEEP}, metric="loss", searcher="random",
                        seed=11, scheduler=ASHA("epoch", max_resource=9), max_trials=n_trials, n_workers=3,
                        verbose=0, storage=":memory:", experiment=name, backend=backend, callbacks=[times]).run()
    elapsed = time.perf_counter() - began
    stored = {(r.trial_id, int(r.metrics["epoch"])) for r in result.report_records}
    acked = set()
    for path in (shared / name).glob("trial_*/acked.txt"):
        trial_id = int(path.parent.name.split("_")[1])
        acked |= {(trial_id, int(line)) for line in path.read_text().split()}
    statuses: dict[str, int] = {}
    for trial in result.trial_records:
        statuses[trial.status.value] = statuses.get(trial.status.value, 0) + 1
    return {"seconds": elapsed, "retried": len(backend.retried), "reports_stored": len(result.report_records),
            "reports_answered": len(acked), "reports_lost": len(acked - stored), "statuses": statuses,
            "failed_reasons": sorted({t.error for t in result.trial_records if t.error})}


def node_loss(n_trials: int = 200) -> dict:
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                            "object_store_memory": STORE})
    workers = [cluster.add_node(num_cpus=1, object_store_memory=STORE) for _ in range(2)]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        with tempfile.TemporaryDirectory() as shared_dir:
            shared = Path(shared_dir)
            calm = asha_run(cluster.address, shared, "undisturbed", n_trials)
            removed_at: list[float] = []

            def kill(times: StartTimes) -> None:
                while len(times.starts) < n_trials // 2:
                    time.sleep(0.01)
                removed_at.append(len(times.starts))
                cluster.remove_node(workers[0])

            hit = asha_run(cluster.address, shared, "one-node-lost", n_trials, kill)
            hit["node_removed_after_starts"] = removed_at[0] if removed_at else None
    finally:
        ray.shutdown()
        cluster.shutdown()
    return {"undisturbed": calm, "one_node_lost": hit, "slowdown": hit["seconds"] / calm["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--tune-trials", type=int, default=40)
    parser.add_argument("--part", default="all", choices=["all", "throughput", "parallel", "node-loss"])
    args = parser.parse_args()
    out: dict = {}
    if args.part in ("all", "throughput"):
        out["throughput"] = throughput(args.trials, args.tune_trials)
        t = out["throughput"]
        print(f"trivial trials/s on a local 2-CPU Ray: rung {t['rung_per_s']:.1f}/s ({t['rung_trials']} in "
              f"{t['rung_seconds']:.2f} s, steady {t['rung_steady_per_s']:.1f}/s), Ray Tune {t['tune_per_s']:.2f}/s "
              f"({t['tune_trials']} in {t['tune_seconds']:.1f} s): {t['ratio']:.0f}x", flush=True)
    if args.part in ("all", "parallel"):
        out["parallel"] = p = parallel()
        print(f"1 s trials, {p['trials']} of them: 1 worker {p['one_worker_s']:.2f} s, 2 workers "
              f"{p['two_workers_s']:.2f} s: {p['speedup']:.2f}x (whole call {p['speedup_whole_call']:.2f}x)",
              flush=True)
    if args.part in ("all", "node-loss"):
        out["node_loss"] = n = node_loss()
        calm, hit = n["undisturbed"], n["one_node_lost"]
        print(f"200-trial ASHA on 3 nodes: undisturbed {calm['seconds']:.1f} s; one node removed after "
              f"{hit['node_removed_after_starts']} starts: {hit['seconds']:.1f} s ({n['slowdown']:.2f}x), "
              f"{hit['retried']} trial(s) retried, reports lost {hit['reports_lost']} of {hit['reports_answered']} "
              f"answered, statuses {hit['statuses']} (undisturbed {calm['statuses']})", flush=True)
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
