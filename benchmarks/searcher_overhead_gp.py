"""Cost of a GP suggestion, side by side with Optuna's GPSampler, and what the cap costs.

Usage: ``python benchmarks/searcher_overhead_gp.py [--sizes 50 100 300] [--repeats 5]
[--cap-evals 300] [--cap-seeds 5] [--caps none 200 100] [--cap-problems hartmann6 levy6]``

1. Time per suggestion at 50 / 100 / 300 observations on Hartmann 6 (six uniform
   parameters). Both searchers get the same observations (random points of the cube, told
   as finished results: warm-start data for rung, ``study.add_trials`` for Optuna), then
   ``--repeats`` suggest-and-tell cycles are timed; the median is reported. Optuna's
   GPSampler (if installed) runs in the same process right after, so the ratio is free of
   machine noise. Also timed: rung with the BLAS thread limit off, which is what happens
   without ``threadpoolctl`` on a busy machine.
2. Quality effect of the observation cap: full GP optimization runs of ``--cap-evals``
   evaluations for each cap and seed, on Hartmann 6 (minimum -3.32237, which the GP usually
   reaches within 100 evaluations) and Levy 6 on [-10, 10]^6 (minimum 0, many local minima:
   the search is still improving when the cap starts to bind); reported are the mean best
   value after 25, 50, 100, ... evaluations and the mean time per suggestion over the run.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402
from rung.searchers._gp import _searcher as _gp  # noqa: E402
from rung.searchers._gp import GP  # noqa: E402

HARTMANN_MIN = -3.32237
_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
               [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
NAMES = [f"x{i}" for i in range(6)]
SPACE = {name: rung.uniform(0.0, 1.0) for name in NAMES}
LEVY_SPACE = {name: rung.uniform(-10.0, 10.0) for name in NAMES}


def hartmann6(config: dict[str, Any]) -> float:
    x = np.array([config[name] for name in NAMES])
    return -float(_ALPHA @ np.exp(-(_A * (x - _P) ** 2).sum(1)))


def levy6(config: dict[str, Any]) -> float:
    w = 1.0 + (np.array([config[name] for name in NAMES]) - 1.0) / 4.0
    head, last = w[:-1], w[-1]
    return float(
        np.sin(np.pi * w[0]) ** 2
        + ((head - 1.0) ** 2 * (1.0 + 10.0 * np.sin(np.pi * head + 1.0) ** 2)).sum()
        + (last - 1.0) ** 2 * (1.0 + np.sin(2.0 * np.pi * last) ** 2)
    )


PROBLEMS = {"hartmann6": (hartmann6, SPACE, HARTMANN_MIN), "levy6": (levy6, LEVY_SPACE, 0.0)}


def random_observations(n: int, seed: int) -> list[tuple[dict[str, float], float]]:
    rng = np.random.default_rng(seed)
    points = [dict(zip(NAMES, map(float, row))) for row in rng.random((n, 6))]
    return [(point, hartmann6(point)) for point in points]


@contextlib.contextmanager
def blas_threads_unrestricted() -> Iterator[None]:
    saved = _gp.one_blas_thread
    _gp.one_blas_thread = contextlib.nullcontext
    try:
        yield
    finally:
        _gp.one_blas_thread = saved


def rung_ms_per_suggestion(n: int, repeats: int) -> float:
    searcher = GP(SPACE, metric="y", seed=0)
    for config, value in random_observations(n, seed=n):
        searcher.observe(config, {"y": value})
    searcher.observe(*_first_suggestion(searcher))  # the first fit starts cold: not timed
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        config = searcher.suggest()
        searcher.observe(config, {"y": hartmann6(config)})
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _first_suggestion(searcher: GP) -> tuple[dict[str, Any], dict[str, float]]:
    config = searcher.suggest()
    return config, {"y": hartmann6(config)}


def optuna_ms_per_trial(n: int, repeats: int) -> float | None:
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {name: optuna.distributions.FloatDistribution(0.0, 1.0) for name in NAMES}
    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=0))
    study.add_trials([
        optuna.trial.create_trial(params=config, distributions=distributions, value=value)
        for config, value in random_observations(n, seed=n)
    ])

    def objective(trial: Any) -> float:
        return hartmann6({name: trial.suggest_float(name, 0.0, 1.0) for name in NAMES})

    study.optimize(objective, n_trials=1)  # same warm-up as for rung
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        study.optimize(objective, n_trials=1)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def optimization_run(problem: str, cap: int | None, n_evals: int, seed: int) -> tuple[list[float], float]:
    """Best-so-far after each evaluation, and mean seconds per suggestion."""
    objective, space, _ = PROBLEMS[problem]
    searcher = GP(space, metric="y", seed=seed, max_observations=cap)
    best, trace, spent = np.inf, [], 0.0
    for _ in range(n_evals):
        start = time.perf_counter()
        config = searcher.suggest()
        spent += time.perf_counter() - start
        value = objective(config)
        searcher.observe(config, {"y": value})
        best = min(best, value)
        trace.append(best)
    return trace, spent / n_evals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[50, 100, 300])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cap-evals", type=int, default=300)
    parser.add_argument("--cap-seeds", type=int, default=5)
    parser.add_argument("--caps", nargs="*", default=["none", "200", "100"])
    parser.add_argument("--cap-problems", nargs="*", default=list(PROBLEMS), choices=list(PROBLEMS))
    args = parser.parse_args()

    if args.sizes:
        print("## GP time per suggestion, Hartmann 6, random observations\n")
        print("| observations | rung GP ms | rung GP ms, BLAS threads unrestricted | Optuna GPSampler ms/trial | Optuna / rung |")
        print("|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        ours = rung_ms_per_suggestion(n, args.repeats)
        with blas_threads_unrestricted():
            free = rung_ms_per_suggestion(n, args.repeats)
        theirs = optuna_ms_per_trial(n, args.repeats)
        their_text = f"{theirs:.0f}" if theirs is not None else "n/a"
        ratio = f"{theirs / ours:.1f}x" if theirs is not None else "n/a"
        print(f"| {n} | {ours:.1f} | {free:.1f} | {their_text} | {ratio} |", flush=True)

    if not args.caps or not args.cap_evals:
        return
    checkpoints = [c for c in (25, 50, 100, 150, 200, 300, 500) if c <= args.cap_evals]
    print(f"\n## Observation cap: mean best value over {args.cap_seeds} seeds\n")
    print("| problem (minimum) | max_observations | " + " | ".join(f"after {c}" for c in checkpoints)
          + " | ms/suggestion |")
    print("|---|---|" + "---:|" * (len(checkpoints) + 1))
    for problem in args.cap_problems:
        for cap_text in args.caps:
            cap = None if cap_text == "none" else int(cap_text)
            runs = [optimization_run(problem, cap, args.cap_evals, seed) for seed in range(args.cap_seeds)]
            traces = np.array([trace for trace, _ in runs])
            cells = [f"{traces[:, c - 1].mean():.4f}" for c in checkpoints]
            ms = 1e3 * statistics.mean(seconds for _, seconds in runs)
            label = f"{problem} ({PROBLEMS[problem][2]:g})"
            print(f"| {label} | {cap_text} | " + " | ".join(cells) + f" | {ms:.1f} |", flush=True)


if __name__ == "__main__":
    main()
