"""Scale: one experiment with 100,000 finished trials.

Usage: ``python benchmarks/scale.py make [--trials 100000] [--searcher auto] [--store PATH]``,
then ``python benchmarks/scale.py measure [--store PATH]``.

``make`` runs ``rung.Tuner`` (in-process backend, trivial objective on a 5-parameter mixed
space, SQLite store) and reports the tuner's peak resident memory (``ru_maxrss``), the wall
clock, and the decision time per trial in windows of the run (so a slowdown with the
number of observations shows). ``measure`` times ``rung.load`` in a fresh interpreter and
``rung show`` as a user runs it (a subprocess of the CLI), each three times, with the wall
clock and the CPU time (user + sys) of each run and the load average. The subprocesses
import ``rung`` from ``sys.path`` as a user's would: run from another directory with
``PYTHONPATH=<checkout>`` to measure another version of rung on the same store.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402

SPACE = {
    "lr": rung.loguniform(1e-5, 1e-1),
    "momentum": rung.uniform(0.0, 0.99),
    "layers": rung.randint(1, 8),
    "activation": rung.choice(["relu", "gelu", "tanh", "silu"]),
    "batch_size": rung.quniform(16, 512, 16),
}
NAME = "scale-100k"


def trivial(config):
    return config["lr"] * config["momentum"] + 0.01 * config["layers"]


class Windows(rung.Callback):
    """Wall-clock time per trial over consecutive windows of trials."""

    def __init__(self, size: int) -> None:
        self.size, self.marks, self.started = size, [], time.perf_counter()

    def on_trial_end(self, state, trial) -> None:
        if (trial.trial_id + 1) % self.size == 0:
            self.marks.append(time.perf_counter())


def make(args: argparse.Namespace) -> None:
    window = Windows(max(args.trials // 10, 1))
    started = time.perf_counter()
    result = rung.Tuner(trivial, SPACE, metric="loss", searcher=args.searcher, max_trials=args.trials, seed=0,
                        backend="inprocess", verbose=0, storage=args.store, experiment=NAME,
                        callbacks=[window]).run()
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(result.trial_records):,} trials in {wall:.1f} s ({len(result.trial_records) / wall:.0f} trials/s), "
          f"decision time {result.decision_time:.1f} s ({result.decision_time / len(result.trial_records) * 1e3:.2f} ms "
          f"per trial), peak RSS {peak_mb:.0f} MB")
    previous = window.started
    for i, mark in enumerate(window.marks):
        print(f"  trials {i * window.size:>7,}-{(i + 1) * window.size:>7,}: {(mark - previous) / window.size * 1e3:.2f} ms per trial")
        previous = mark


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str]) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``command``; its output, wall-clock seconds and CPU seconds (user + sys, which a
    busy machine inflates less than the wall clock)."""
    cpu, started = _child_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    return done, time.perf_counter() - started, _child_cpu() - cpu


def measure(args: argparse.Namespace) -> None:
    touch = {"load": "len(r.trial_records)", "load+trials": "len(r.trials)"}
    where = subprocess.run([sys.executable, "-c", "import rung; print(rung.__file__)"], capture_output=True,
                           text=True, check=True).stdout.strip()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; the commands import {where}")
    for what, expression in touch.items():
        code = ("import time; t = time.perf_counter(); import rung; r = rung.load({name!r}, storage={store!r}); "
                "n = {expression}; print(n, time.perf_counter() - t)").format(name=NAME, store=args.store,
                                                                              expression=expression)
        for _ in range(args.repeat):
            done, _, cpu = _timed([sys.executable, "-c", code])
            if done.returncode:
                sys.exit(done.stderr[-2000:])
            out = done.stdout.split()
            label = "rung.load" if what == "load" else "rung.load, then result.trials"
            print(f"{label} (import included): {float(out[1]):.2f} s wall, {cpu:.2f} s CPU for {int(out[0]):,} trials")
    cli = [str(Path(sys.executable).with_name("rung")), "show", NAME, "--storage", args.store]
    for _ in range(args.repeat):
        done, wall, cpu = _timed(cli)
        print(f"rung show: {wall:.2f} s wall, {cpu:.2f} s CPU (exit {done.returncode}, "
              f"{len(done.stdout.splitlines())} lines)")
        if done.returncode:
            print(done.stderr[-2000:])
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["make", "measure"])
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--searcher", default="auto")
    parser.add_argument("--store", default="/tmp/rung-scale/rung.db")
    parser.add_argument("--repeat", type=int, default=3, help="measure: runs of each command")
    args = parser.parse_args()
    Path(args.store).parent.mkdir(parents=True, exist_ok=True)
    (make if args.what == "make" else measure)(args)


if __name__ == "__main__":
    main()
