"""Warm start against cold start when the parents hold the optimum region (issue 13, item 7).

For each searcher and seed: a parent experiment of 14 random trials inside a box around the
optimum (good trials, as in the issue's report), then a cold and a warm-started experiment of
``--trials`` trials on the whole space with the same seed. The number compared is each
experiment's own best value (the parents' values do not count). ``--old`` reproduces the
behaviour before the fix (the parents are fitted as exact observations, the best parent is
not tried first).

    python -m benchmarks.warm_start --seeds 6 --trials 20
    python -m benchmarks.warm_start --seeds 6 --trials 20 --old
"""

from __future__ import annotations

import argparse
import math
import statistics
import warnings

import rung
from rung.storage import MemoryStorage

PROBLEMS = {
    # name: (objective, space, parent space around the optimum)
    "bowl": (
        lambda c: (c["x"] - 0.31) ** 2 + (c["y"] + 0.2) ** 2,
        {"x": rung.uniform(-2, 2), "y": rung.uniform(-2, 2)},
        {"x": rung.uniform(0.1, 0.5), "y": rung.uniform(-0.4, 0.0)},
    ),
    "branin": (
        lambda c: ((c["x2"] - 5.1 / (4 * math.pi ** 2) * c["x1"] ** 2 + 5 / math.pi * c["x1"] - 6) ** 2
                   + 10 * (1 - 1 / (8 * math.pi)) * math.cos(c["x1"]) + 10 - 0.397887),
        {"x1": rung.uniform(-5, 10), "x2": rung.uniform(0, 15)},
        {"x1": rung.uniform(2.1, 4.1), "x2": rung.uniform(1.3, 3.3)},  # around the optimum (pi, 2.275)
    ),
}


def own_best(result: rung.TuningResult) -> float:
    return min(t.metric_value for t in result.trial_records if t.metric_value is not None)


def run(problem: str, searcher: str, seed: int, trials: int) -> tuple[float, float, float]:
    objective, space, parent_space = PROBLEMS[problem]
    store = MemoryStorage()
    common = dict(metric="loss", backend="inprocess", storage=store, verbose=0)
    parent = rung.Tuner(objective, parent_space, searcher="random", max_trials=14, seed=seed + 100,
                        experiment="parent", **common).run()
    cold = rung.Tuner(objective, space, searcher=searcher, max_trials=trials, seed=seed, experiment="cold",
                      **common).run()
    warm = rung.Tuner(objective, space, searcher=searcher, max_trials=trials, seed=seed, experiment="warm",
                      warm_start="parent", **common).run()
    return own_best(parent), own_best(cold), own_best(warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--searchers", nargs="+", default=["random", "tpe", "gp", "auto"])
    parser.add_argument("--problems", nargs="+", default=sorted(PROBLEMS))
    parser.add_argument("--old", action="store_true", help="do not try the best parent first (the old behaviour)")
    args = parser.parse_args()
    if args.old:
        from rung.tuner import _warm_start

        from rung.searchers._gp import _searcher as gp

        _warm_start._try_first = lambda searcher, configs: None  # type: ignore[attr-defined]
        gp.PRIOR_NOISE = 0.0  # parents fitted as exact observations
    warnings.simplefilter("ignore", RuntimeWarning)
    print(f"own best after {args.trials} trials, {args.seeds} seeds, parents: 14 random trials near the optimum"
          + (" (old behaviour)" if args.old else ""))
    print("| problem | searcher | parents' best (median) | cold (median) | warm (median) | warm <= cold |")
    print("|---|---|---|---|---|---|")
    for problem in args.problems:
        for searcher in args.searchers:
            rows = [run(problem, searcher, seed, args.trials) for seed in range(args.seeds)]
            parents, cold, warm = zip(*rows)
            wins = sum(w <= c for c, w in zip(cold, warm))
            print(f"| {problem} | {searcher} | {statistics.median(parents):.3g} | {statistics.median(cold):.3g} "
                  f"| {statistics.median(warm):.3g} | {wins}/{args.seeds} |", flush=True)


if __name__ == "__main__":
    main()
