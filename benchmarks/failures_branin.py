"""Do failed trials teach the searcher? Branin with every trial failing for ``x > 9``.

Usage: ``python benchmarks/failures_branin.py [--seeds 10] [--trials 80] [--searchers auto gp tpe random]``

Branin on ``x in [-5, 10], y in [0, 15]`` has three global optima (value 0.397887), one
of them at ``x = 9.42``, inside the failing strip ``x > 9`` (1/15 of the space). A
searcher that ignores failures keeps being drawn to that optimum's basin and spends its
budget failing there. Each searcher runs ask/tell, one trial at a time (``suggest`` ->
evaluate -> ``observe``, or ``on_failed`` for a trial in the strip, as the tuner's loop
does). ``auto`` is the default searcher (here the GP: the cost rule is only on when trials
run in real time). ``tuner`` is the default searcher through ``rung.Tuner`` in-process,
where the objective raises in the strip (there the cost rule is on, and a trivial
objective makes ``auto`` hand the GP over to TPE after a few decisions). Reported over the seeds: trials in the failing strip (mean, min, max)
and the best feasible value (mean, worst).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402
from rung.searchers import SEARCHERS  # noqa: E402

SPACE = {"x": rung.uniform(-5, 10), "y": rung.uniform(0, 15)}
OPTIMUM = 0.397887
FAIL_ABOVE = 9.0


def branin(x: float, y: float) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def run(name: str, seed: int, trials: int) -> tuple[int, float]:
    searcher = SEARCHERS[name](SPACE, metric="loss", mode="min", seed=seed)
    failed, best = 0, math.inf
    for _ in range(trials):
        config = searcher.suggest()
        assert config is not None
        if config["x"] > FAIL_ABOVE:
            failed += 1
            searcher.on_failed(config)
            continue
        value = branin(config["x"], config["y"])
        best = min(best, value)
        searcher.observe(config, {"loss": value})
    return failed, best


def run_tuner(seed: int, trials: int) -> tuple[int, float]:
    """The same through ``rung.Tuner`` (default searcher, in-process, trials raise in the strip)."""

    def objective(config: dict) -> float:
        if config["x"] > FAIL_ABOVE:
            raise RuntimeError("diverged")
        return branin(config["x"], config["y"])

    result = rung.Tuner(objective, SPACE, metric="loss", max_trials=trials, seed=seed, backend="inprocess",
                        storage=":memory:", verbose=0, max_initial_failures=trials + 1).run()
    failed = sum(1 for t in result.trial_records if t.config["x"] > FAIL_ABOVE)
    best = result.best_trial.metric_value if result.best_trial is not None else math.inf
    return failed, float(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=80)
    parser.add_argument("--searchers", nargs="+", default=["auto", "gp", "tpe", "random", "tuner"])
    args = parser.parse_args()
    print(f"Branin, trials failing for x > {FAIL_ABOVE}, {args.trials} trials, seeds 0..{args.seeds - 1}\n")
    print("| searcher | trials in failing strip: mean [min, max] | share | best feasible: mean [worst] |")
    print("|---|---:|---:|---:|")
    for name in args.searchers:
        if name == "tuner":
            rows = [run_tuner(seed, args.trials) for seed in range(args.seeds)]
        else:
            rows = [run(name, seed, args.trials) for seed in range(args.seeds)]
        failed = [f for f, _ in rows]
        bests = [b for _, b in rows]
        print(f"| {name} | {statistics.fmean(failed):.1f} [{min(failed)}, {max(failed)}] "
              f"| {statistics.fmean(failed) / args.trials:.1%} "
              f"| {statistics.fmean(bests):.4f} [{max(bests):.4f}] |", flush=True)
    print(f"\n(optimum {OPTIMUM}; the best feasible value is the same: two optima lie outside the strip)")


if __name__ == "__main__":
    main()
