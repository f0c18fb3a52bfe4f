"""End-to-end throughput of the tuner by searcher, and the wait before the first trial.

Usage: ``python benchmarks/throughput.py [--cases trivial sleep50 sleep1000] [--searchers
random tpe auto gp] [--first]``

Each case runs ``Tuner(objective, SPACE, searcher=..., n_workers=2, backend="process")``
with a fresh SQLite store, side by side in one run (the machine may be shared, so compare
ratios, not absolute numbers):

* ``trivial``: 400 trials of an objective that returns at once;
* ``sleep50``: 200 trials that sleep 50 ms (2 workers: at most 40 trials/s);
* ``sleep1000``: 30 trials that sleep 1 s (the GP must stay the default here).

Reported per run: trials per second over the whole run, decision time (time the tuner's
loop spent in searcher and scheduler calls), what ``auto`` ended on, the best value, and
how many hand-outs computed the next suggestion ahead (from the stored log; the others
were fresh, the calls a searcher got before prefetching).
``--first`` also measures, for every searcher, the time from ``run()`` to its first
suggestion (in-process backend), in a fresh interpreter each (so import costs are counted
as a user pays them): with ``run()`` right after ``Tuner()``, and 2 s later (the GP
family's imports start in the background when the searcher is built).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402

SPACE = {
    "lr": rung.loguniform(1e-5, 1e-1),
    "momentum": rung.uniform(0.0, 0.99),
    "layers": rung.randint(1, 8),
    "activation": rung.choice(["relu", "gelu", "tanh", "silu"]),
    "batch_size": rung.quniform(16, 512, 16),
}

CASES = {"trivial": (0.0, 400), "sleep50": (0.05, 200), "sleep1000": (1.0, 30)}


def loss(config: dict[str, Any]) -> float:
    import math

    act = {"relu": 0.0, "gelu": 0.1, "tanh": 0.3, "silu": 0.05}[config["activation"]]
    return ((math.log10(config["lr"]) + 3) ** 2 + (config["momentum"] - 0.9) ** 2
            + 0.1 * abs(config["layers"] - 4) + act + abs(config["batch_size"] - 128) / 512)


def trivial(config: dict[str, Any]) -> float:
    return loss(config)


def sleep50(config: dict[str, Any]) -> float:
    time.sleep(0.05)
    return loss(config)


def sleep1000(config: dict[str, Any]) -> float:
    time.sleep(1.0)
    return loss(config)


def run_case(case: str, searcher: str, seed: int = 0) -> dict[str, Any]:
    objective = {"trivial": trivial, "sleep50": sleep50, "sleep1000": sleep1000}[case]
    n_trials = CASES[case][1]
    with tempfile.TemporaryDirectory() as tmp:
        tuner = rung.Tuner(objective, SPACE, metric="loss", searcher=searcher, max_trials=n_trials, seed=seed,
                           n_workers=2, backend="process", verbose=0, storage=str(Path(tmp) / "rung.db"),
                           workdir=tmp)
        started = time.perf_counter()
        result = tuner.run()
        wall = time.perf_counter() - started
        # Hand-outs after which the next suggestion was computed ahead (the rest: fresh,
        # exactly the calls the searcher got before prefetching existed).
        decisions = [d for e in rung.load(result.experiment, storage=str(Path(tmp) / "rung.db")).log_entries
                     if getattr(e, "kind", None) == "start" for d in e.payload.get("ahead", [])]
    chosen = getattr(tuner.searcher, "chosen", None)
    return {
        "case": case, "searcher": searcher, "trials": len(result.trial_records),
        "trials_per_s": len(result.trial_records) / wall, "wall_s": wall,
        "decision_s": result.decision_time, "best": result.best_trial.metric_value if result.best_trial else None,
        "chosen": None if chosen is None else chosen.name,
        "handovers": list(getattr(tuner.searcher, "handovers", [])),
        "ahead": f"{sum(decisions)}/{len(decisions)}" if decisions else "-",
    }


_FIRST = """
import sys, time, tempfile
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
from throughput import SPACE, trivial
import rung
with tempfile.TemporaryDirectory() as tmp:
    tuner = rung.Tuner(trivial, SPACE, metric="loss", searcher={searcher!r}, max_trials=3, seed=0, n_workers=1,
                       backend="inprocess", verbose=0, storage=":memory:", workdir=tmp)
    seen = []
    real = tuner.scheduler.suggest
    def timed(allow_new=True):
        out = real(allow_new)
        seen.append(time.perf_counter())
        return out
    tuner.scheduler.suggest = timed
    time.sleep({gap})
    t0 = time.perf_counter()
    tuner.run()
print((seen[0] - t0) * 1e3)
"""


def first_decision(searcher: str, gap: float = 0.0) -> float:
    root = str(Path(__file__).resolve().parents[1])
    code = _FIRST.format(root=root, bench=str(Path(__file__).resolve().parent), searcher=searcher, gap=gap)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--searchers", nargs="+", default=["random", "tpe", "auto"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of the searchers, interleaved; ratios are medians over rounds")
    parser.add_argument("--first", action="store_true", help="also time run() -> first suggestion")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for case in args.cases:
        rounds = []
        for round_ in range(args.repeat):
            by: dict[str, dict[str, Any]] = {}
            for searcher in args.searchers:
                row = run_case(case, searcher, args.seed)
                row["round"] = round_
                rows.append(row)
                by[searcher] = row
                print(f"{case:10s} {searcher:7s} {row['trials']:4d} trials  {row['trials_per_s']:7.1f} trials/s  "
                      f"wall {row['wall_s']:6.2f} s  decisions {row['decision_s']:6.2f} s  "
                      f"best {row['best']:.4g}  chosen {row['chosen']}  ahead {row['ahead']}", flush=True)
            rounds.append(by)
        if "random" in args.searchers:
            cells = []
            for searcher in args.searchers:
                if searcher == "random":
                    continue
                ratios = sorted(r[searcher]["trials_per_s"] / r["random"]["trials_per_s"] for r in rounds)
                cells.append(f"{searcher} {statistics.median(ratios):.2f} (rounds: "
                             + " ".join(f"{x:.2f}" for x in ratios) + ")")
            print(f"{case:10s} throughput relative to random, median: {', '.join(cells)}", flush=True)
    if args.first:
        for searcher in ["random", "grid", "tpe", "gp", "bohb", "mobster", "auto"]:
            if searcher == "grid":
                continue  # needs a finite space
            ms = first_decision(searcher)
            later = first_decision(searcher, 2.0)
            print(f"first decision  {searcher:7s} {ms:7.1f} ms after run() right after Tuner(); "
                  f"{later:7.1f} ms when run() comes 2 s after Tuner()", flush=True)
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
