"""Decision overhead of rung's TPE, side by side with Optuna's TPESampler, in the same run.

Usage: ``python benchmarks/searcher_overhead_tpe.py [--sizes 1000 10000] [--window 200]
[--optuna-window 20] [--sequential 1000] [--no-optuna] [--no-cap]``

1. Time per suggestion at N observations, on a 6-D mixed space (log float, float, int,
   categorical, quantized int, float). Both searchers first receive the same N random
   configs with their values (rung through ``observe``, Optuna through
   ``study.add_trials`` on an in-memory study), then a window of ask/tell rounds is timed
   one by one: rung ``suggest`` + ``observe``, Optuna ``ask`` + ``suggest_*`` + ``tell``.
   This measures Optuna at 10,000 trials directly rather than extrapolating: its sampler
   refits on every trial in the study at each ask, however the trials got there. Medians
   are reported (the machine may be shared), means in brackets.
2. The first N trials from scratch, sequentially (the figure the issue quotes for Optuna:
   12.6 s for its first 1,000 trials).
3. The bad-group cap: with ``max_bad_centres`` (default 256), ``g`` is estimated from a
   stratified subset of the bad group. Measured: time per suggestion with and without the
   cap; on the same candidates, how often the capped model picks the same candidate as the
   full one, where its pick ranks among the full model's, and the rank correlation of the
   two scores; then the mean best value after 500 trials (5 seeds) with caps of 32, 256
   and none, and the mean loss of the last 100 of those trials (how tightly the search
   stays near the optimum once the cap binds).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402
from rung.searchers._tpe import TPE  # noqa: E402

SPACE = {
    "lr": rung.loguniform(1e-5, 1e-1),
    "momentum": rung.uniform(0.0, 0.99),
    "layers": rung.randint(1, 8),
    "activation": rung.choice(["relu", "gelu", "tanh", "silu"]),
    "batch_size": rung.quniform(16, 512, 16),
    "dropout": rung.uniform(0.0, 0.5),
}


def loss(c: dict) -> float:
    """A smooth stand-in for a validation loss, minimum 0."""
    return (
        (math.log10(c["lr"]) + 3) ** 2 / 4
        + (c["momentum"] - 0.9) ** 2
        + (c["layers"] - 4) ** 2 / 16
        + 0.3 * (c["activation"] != "gelu")
        + ((c["batch_size"] - 128) / 256) ** 2
        + c["dropout"] ** 2
    )


def history(n: int, seed: int = 1) -> list[tuple[dict, float]]:
    space = rung.Space(SPACE)
    rng = np.random.default_rng(seed)
    return [(config, loss(config)) for config in (space.sample(rng) for _ in range(n))]


def summary(times: list[float]) -> tuple[float, float]:
    """Median and mean, in milliseconds."""
    return statistics.median(times) * 1e3, statistics.fmean(times) * 1e3


# -- rung -----------------------------------------------------------------------------


def rung_per_suggestion(n: int, window: int, **options) -> tuple[float, float]:
    searcher = TPE(SPACE, metric="loss", seed=0, **options)
    for config, value in history(n):
        searcher.observe(config, {"loss": value})
    config = searcher.suggest()  # warm-up: the first model-based call imports scipy
    searcher.observe(config, {"loss": loss(config)})
    times = []
    for _ in range(window):
        start = time.perf_counter()
        config = searcher.suggest()
        searcher.observe(config, {"loss": loss(config)})
        times.append(time.perf_counter() - start)
    return summary(times)


def rung_sequential(n: int, **options) -> float:
    searcher = TPE(SPACE, metric="loss", seed=0, **options)
    start = time.perf_counter()
    for _ in range(n):
        config = searcher.suggest()
        searcher.observe(config, {"loss": loss(config)})
    return time.perf_counter() - start


# -- optuna ---------------------------------------------------------------------------


def _optuna():
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def _distributions(optuna):
    d = optuna.distributions
    return {
        "lr": d.FloatDistribution(1e-5, 1e-1, log=True),
        "momentum": d.FloatDistribution(0.0, 0.99),
        "layers": d.IntDistribution(1, 8),
        "activation": d.CategoricalDistribution(["relu", "gelu", "tanh", "silu"]),
        "batch_size": d.IntDistribution(16, 512, step=16),
        "dropout": d.FloatDistribution(0.0, 0.5),
    }


def _ask_tell(optuna, study) -> None:
    trial = study.ask()
    config = {
        "lr": trial.suggest_float("lr", 1e-5, 1e-1, log=True),
        "momentum": trial.suggest_float("momentum", 0.0, 0.99),
        "layers": trial.suggest_int("layers", 1, 8),
        "activation": trial.suggest_categorical("activation", ["relu", "gelu", "tanh", "silu"]),
        "batch_size": trial.suggest_int("batch_size", 16, 512, step=16),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
    }
    study.tell(trial, loss(config))


def optuna_per_suggestion(optuna, n: int, window: int, multivariate: bool) -> tuple[float, float]:
    sampler = optuna.samplers.TPESampler(seed=0, multivariate=multivariate)
    study = optuna.create_study(sampler=sampler)
    distributions = _distributions(optuna)
    study.add_trials([
        optuna.trial.create_trial(params=config, distributions=distributions, value=value)
        for config, value in history(n)
    ])
    _ask_tell(optuna, study)  # warm-up
    times = []
    for _ in range(window):
        start = time.perf_counter()
        _ask_tell(optuna, study)
        times.append(time.perf_counter() - start)
    return summary(times)


def optuna_sequential(optuna, n: int) -> float:
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    start = time.perf_counter()
    for _ in range(n):
        _ask_tell(optuna, study)
    return time.perf_counter() - start


# -- the bad-group cap ----------------------------------------------------------------


def cap_agreement(n: int, cap: int, rounds: int = 60) -> tuple[float, float, float]:
    """On the same candidates, scored by the full bad group and by the capped one: how
    often both pick the same candidate, the mean rank (1 = best of 24) of the capped pick
    in the full model's ranking, and the mean Spearman correlation of the two scores."""
    from scipy.stats import spearmanr

    from rung.searchers._tpe._history import bad_centres
    from rung.searchers._tpe._parzen import Parzen

    searcher = TPE(SPACE, metric="loss", seed=0)
    for config, value in history(n):
        searcher.observe(config, {"loss": value})
    h, encoding, rng = searcher._history, searcher._encoding, np.random.default_rng(0)
    n_good = searcher.gamma(h.n_finite)
    rule = searcher.bandwidth  # the searcher's own kernels and good-group weights
    good = Parzen(encoding, h.x[:n_good], searcher._good_weights(n_good), 1.0, True, rule)
    full = Parzen(encoding, *bad_centres(h, n_good, None, rng), 1.0, True, rule)
    same, ranks, correlations = 0, [], []
    for _ in range(rounds):
        capped = Parzen(encoding, *bad_centres(h, n_good, cap, rng), 1.0, True, rule)
        x, bins = good.sample(rng, 24)
        l = good.log_density(x, bins)
        a, b = l - full.log_density(x, bins), l - capped.log_density(x, bins)
        pick = int(np.argmax(b))
        same += int(np.argmax(a) == pick)
        ranks.append(1 + int((a > a[pick]).sum()))
        correlations.append(spearmanr(a, b).statistic)
    return same / rounds, float(np.mean(ranks)), float(np.mean(correlations))


def cap_quality(cap: int | None, trials: int = 500, seeds: range = range(5)) -> tuple[float, float]:
    """Mean over seeds of the best loss after ``trials``, and of the mean loss of the last
    100 trials (how tightly the model keeps sampling near the optimum once capped)."""
    bests, lasts = [], []
    for seed in seeds:
        searcher = TPE(SPACE, metric="loss", seed=seed, max_bad_centres=cap)
        values = []
        for _ in range(trials):
            config = searcher.suggest()
            values.append(loss(config))
            searcher.observe(config, {"loss": values[-1]})
        bests.append(min(values))
        lasts.append(float(np.mean(values[-100:])))
    return float(np.mean(bests)), float(np.mean(lasts))


# -- report ---------------------------------------------------------------------------


def cell(value: tuple[float, float] | None) -> str:
    return "n/a" if value is None else f"{value[0]:.2f} [{value[1]:.2f}]"


def ratio(a: tuple[float, float] | None, b: tuple[float, float]) -> str:
    return "n/a" if a is None else f"{a[0] / b[0]:.0f}x"


def per_suggestion_table(optuna, sizes: list[int], window: int, optuna_window: int) -> None:
    print("## Time per suggestion (ask + tell), ms: median [mean]\n")
    print("| observations | rung TPE multivariate | rung TPE univariate "
          "| Optuna TPE multivariate | Optuna TPE (default, univariate) "
          "| Optuna / rung, multivariate | Optuna / rung, univariate |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        mv = rung_per_suggestion(n, window, multivariate=True)
        uv = rung_per_suggestion(n, window, multivariate=False)
        omv = optuna_per_suggestion(optuna, n, optuna_window, True) if optuna else None
        ouv = optuna_per_suggestion(optuna, n, optuna_window, False) if optuna else None
        cells = [cell(mv), cell(uv), cell(omv), cell(ouv), ratio(omv, mv), ratio(ouv, uv)]
        print(f"| {n:,} | " + " | ".join(cells) + " |", flush=True)


def sequential_table(optuna, n: int) -> None:
    print(f"\n## First {n:,} trials from scratch, s\n")
    print("| rung TPE multivariate | rung TPE univariate | Optuna TPE (default, univariate) "
          "| Optuna / rung, univariate |")
    print("|---:|---:|---:|---:|")
    mv, uv = rung_sequential(n, multivariate=True), rung_sequential(n, multivariate=False)
    opt = optuna_sequential(optuna, n) if optuna else None
    opt_text = "n/a" if opt is None else f"{opt:.1f}"
    ratio_text = "n/a" if opt is None else f"{opt / uv:.0f}x"
    print(f"| {mv:.2f} | {uv:.2f} | {opt_text} | {ratio_text} |", flush=True)


def cap_tables(sizes: list[int]) -> None:
    print("\n## Bad-group cap (max_bad_centres=256) against the full bad group, multivariate\n")
    print("| observations | ms capped | ms uncapped | same pick | rank of capped pick in full "
          "ranking (1-24) | score rank correlation |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        capped = rung_per_suggestion(n, 50)
        full = rung_per_suggestion(n, 20 if n > 2000 else 50, max_bad_centres=None)
        same, rank, rho = cap_agreement(n, 256)
        print(f"| {n:,} | {cell(capped)} | {cell(full)} | {same:.0%} | {rank:.2f} | {rho:.3f} |",
              flush=True)
    print("\nSearch quality by cap, 500 trials, 5 seeds: "
          "mean best loss / mean loss of trials 401-500\n")
    print("| max_bad_centres=32 | 256 (default) | no cap |")
    print("|---:|---:|---:|")
    cells = [cap_quality(cap) for cap in (32, 256, None)]
    print("| " + " | ".join(f"{best:.5f} / {last:.4f}" for best, last in cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--window", type=int, default=200, help="timed rung rounds")
    parser.add_argument("--optuna-window", type=int, default=20, help="timed Optuna rounds")
    parser.add_argument("--sequential", type=int, default=1000, help="trials from scratch (0: skip)")
    parser.add_argument("--no-optuna", action="store_true")
    parser.add_argument("--no-cap", action="store_true", help="skip the bad-group cap tables")
    args = parser.parse_args()
    optuna = None if args.no_optuna else _optuna()
    per_suggestion_table(optuna, args.sizes, args.window, args.optuna_window)
    if args.sequential:
        sequential_table(optuna, args.sequential)
    if not args.no_cap:
        cap_tables(args.sizes)

if __name__ == "__main__":
    main()
