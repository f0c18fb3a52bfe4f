"""Resource each scheduler needs to match random search run to completion.

Usage: ``python benchmarks/multifidelity.py [--seeds 10] [--trials 100] [--max-epochs 27]``

Problem: the multi-fidelity Hartmann 6 function. A trial "trains" for up to ``max_epochs``
epochs; at epoch e its fidelity is s = e / max_epochs and it reports

    f(x, s) = -sum_i a_i(s) exp(-sum_j A_ij (x_j - P_ij)^2),  a_1(s) = alpha_1 - bias (1 - s)

plus Gaussian noise of scale ``noise (1 - s)``, so low fidelities are cheap, biased and noisy
and the last epoch gives the true value (global minimum -3.32237). Each epoch costs one unit
of resource.

For each seed: random search runs ``--trials`` trials to completion; its best final value is
the target. Each scheduler (same random searcher, same seed) then runs until a trial that
reached the last epoch matches the target, or until it has spent three times random
search's resource. Reported: resource used, as a fraction of random search's, mean and
range over seeds. Trials run in-process, so the resource count is exact and the order of
reports is the order of time.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402
from rung.schedulers import ASHA, FIFO, Hyperband, MedianStopping, SuccessiveHalving  # noqa: E402

ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
SPACE = {f"x{i}": rung.uniform(0.0, 1.0) for i in range(6)}


def hartmann6(x: np.ndarray, fidelity: float, bias: float) -> float:
    alpha = ALPHA.copy()
    alpha[0] -= bias * (1.0 - fidelity)
    return float(-np.sum(alpha * np.exp(-np.sum(A * (x - P) ** 2, axis=1))))


def make_objective(max_epochs: int, bias: float, noise: float):
    def objective(config):
        x = np.array([config[f"x{i}"] for i in range(6)])
        noise_rng = np.random.default_rng(abs(hash(tuple(x))) % (2**32))
        for epoch in range(1, max_epochs + 1):
            fidelity = epoch / max_epochs
            value = hartmann6(x, fidelity, bias) + noise * (1.0 - fidelity) * noise_rng.normal()
            rung.report(epoch=epoch, loss=value)

    return objective


def resource_to_target(result, target: float, max_epochs: int) -> float:
    """Epochs spent (in report order) until a full-length trial reached ``target``."""
    spent = 0
    for _, row in result.reports.iterrows():
        spent += 1
        if row["epoch"] >= max_epochs and row["loss"] <= target + 1e-12:
            return spent
    return math.inf


def run(objective, scheduler, seed: int, max_trials: int | None, max_resource: int | None = None):
    return rung.Tuner(objective, SPACE, metric="loss", mode="min", searcher="random", scheduler=scheduler, seed=seed,
                      max_trials=max_trials, backend="inprocess", verbose=0, storage=":memory:").run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--max-epochs", type=int, default=27)
    parser.add_argument("--bias", type=float, default=0.2)
    parser.add_argument("--noise", type=float, default=0.05)
    args = parser.parse_args()
    r_max = args.max_epochs
    objective = make_objective(r_max, args.bias, args.noise)
    methods = {
        "ASHA (stopping, eta=3)": lambda: ASHA("epoch", min_resource=1, max_resource=r_max, reduction_factor=3),
        "ASHA (promotion, eta=3)": lambda: ASHA("epoch", min_resource=1, max_resource=r_max, reduction_factor=3,
                                                type="promotion"),
        "successive halving (eta=3)": lambda: SuccessiveHalving("epoch", min_resource=1, max_resource=r_max,
                                                                reduction_factor=3),
        "Hyperband (stopping)": lambda: Hyperband("epoch", min_resource=1, max_resource=r_max, reduction_factor=3,
                                                  type="stopping"),
        "median stopping": lambda: MedianStopping("epoch", evaluation_interval=1, delay_evaluation=3),
    }
    fractions: dict[str, list[float]] = {name: [] for name in methods}
    for seed in range(args.seeds):
        baseline = run(objective, FIFO(), seed, args.trials)
        target = baseline.best_value
        random_resource = args.trials * r_max
        cap = 3 * random_resource // r_max * 3  # enough trials to spend 3x the resource even at 1 epoch each
        for name, make in methods.items():
            result = run(objective, make(), seed, cap)
            needed = resource_to_target(result, target, r_max)
            fractions[name].append(needed / random_resource)
        print(f"seed {seed}: random search best {target:.4f} with {random_resource} epochs", file=sys.stderr)
    print(f"## Resource to match random search ({args.trials} trials x {r_max} epochs), "
          f"multi-fidelity Hartmann 6 (bias {args.bias}, noise {args.noise}), {args.seeds} seeds\n")
    print("| method | mean fraction of random search's resource | min | max | seeds reaching the target |")
    print("|---|---:|---:|---:|---:|")
    print(f"| random search to completion | 1.000 | 1.000 | 1.000 | {args.seeds}/{args.seeds} |")
    for name, values in fractions.items():
        finite = [v for v in values if math.isfinite(v)]
        mean = statistics.mean(values) if len(finite) == len(values) else math.inf
        shown = f"{mean:.3f}" if math.isfinite(mean) else "not reached on every seed"
        low = f"{min(finite):.3f}" if finite else "-"
        high = f"{max(finite):.3f}" if finite else "-"
        print(f"| {name} | {shown} | {low} | {high} | {len(finite)}/{len(values)} |")


if __name__ == "__main__":
    main()
