"""rung.sklearn's searches beside scikit-learn's and Optuna's, at the same number of fits.

Usage: ``python benchmarks/sklearn_search.py [--seeds 10] [--fits 100] [--problems ...]
[--out benchmarks/results/sklearn_search.json]`` and ``python benchmarks/sklearn_search.py
overhead`` for the per-fit overhead on a trivial estimator.

Problems: the seed's random forest on a bundled data set (breast cancer; 20-point grid
from the seed's grid), and Bayesmark problems of the harness (``dt`` on breast cancer,
``svm`` on wine: their spaces, estimators and 80 % training split,
``benchmarks/problems/bayesmark.py``). Every method scores candidates by 5-fold CV on the
same (stratified, unshuffled) folds, accuracy, ``n_jobs=2``; each gets the same number of
5-fold fits (``--fits``, 100 = 20 candidates) except the successive-halving ones, whose
candidate count is set so that their fits (smaller ones included) come close to it; the
table gives the fits each really ran. Reported per method: the best cross-validated score
it returns (``best_score_``; for the halving methods, at the full resource) and the wall
clock of ``fit`` (refit included), mean and standard deviation over the seeds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rung  # noqa: E402
import rung.sklearn as rs  # noqa: E402
from benchmarks.problems import bayesmark  # noqa: E402
from rung.sklearn._domains import DomainDistribution  # noqa: E402

FOLDS = 5


def rf_problem() -> dict[str, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, test_size=0.2, random_state=0)
    space = {"max_depth": rung.randint(2, 110), "max_features": rung.randint(2, 10),
             "min_samples_leaf": rung.randint(1, 10), "min_samples_split": rung.randint(2, 11)}
    grid = {"max_depth": [5, 80], "max_features": [2, 3], "min_samples_leaf": [1, 2, 4, 7, 10]}
    return {"X": X, "y": y, "space": space, "grid": grid,
            "estimator": lambda seed: RandomForestClassifier(n_estimators=50, bootstrap=True, random_state=seed)}


def bayesmark_problem(model: str, dataset: str) -> dict[str, Any]:
    X, y = bayesmark.load_data(dataset)
    return {"X": X, "y": y, "space": bayesmark.search_space(model, "clf"), "grid": None,
            "estimator": lambda seed: bayesmark.build_estimator(model, "clf", {}, seed)}


PROBLEMS: dict[str, Callable[[], dict[str, Any]]] = {
    "rf-breast (seed)": rf_problem,
    "bayesmark dt-breast": lambda: bayesmark_problem("dt", "breast"),
    "bayesmark svm-wine": lambda: bayesmark_problem("svm", "wine"),
}


def optuna_space(space: dict[str, Any]) -> dict[str, Any]:
    """The same space in Optuna's distributions."""
    import optuna.distributions as od

    out: dict[str, Any] = {}
    for name, d in space.items():
        kind = d.type_name
        if kind == "randint":
            out[name] = od.IntDistribution(d.low, d.high, log=d.log)
        elif kind in ("uniform", "loguniform"):
            out[name] = od.FloatDistribution(d.low, d.high, log=kind == "loguniform")
        else:
            raise ValueError(f"no Optuna counterpart written for {kind}")
    return out


def methods(problem: dict[str, Any], fits: int) -> dict[str, Callable[[int], Any]]:
    from sklearn import model_selection as sk
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    n = fits // FOLDS
    halving_n = max(3, round(n / 1.5))  # N + N/3 + N/9 ... ~ 1.5 N candidate evaluations
    dists = {k: DomainDistribution(v) for k, v in problem["space"].items()}  # scikit-learn draws via rvs
    est, space, common = problem["estimator"], problem["space"], dict(cv=FOLDS, n_jobs=2, scoring="accuracy")
    table: dict[str, Callable[[int], Any]] = {}
    if problem["grid"] is not None:
        table["sklearn GridSearchCV"] = lambda s: sk.GridSearchCV(est(s), problem["grid"], **common)
        table["rung GridSearchCV"] = lambda s: rs.GridSearchCV(est(s), problem["grid"], **common)
    table.update({
        "sklearn RandomizedSearchCV": lambda s: sk.RandomizedSearchCV(est(s), dists, n_iter=n, random_state=s, **common),
        "rung RandomizedSearchCV": lambda s: rs.RandomizedSearchCV(est(s), dists, n_iter=n, random_state=s, **common),
        "sklearn HalvingRandomSearchCV": lambda s: HalvingRandomSearchCV(
            est(s), dists, n_candidates=halving_n, factor=3, random_state=s, **common),
        "Optuna OptunaSearchCV (TPE)": lambda s: _optuna(est(s), space, n, s, common),
        "rung TuneSearchCV auto": lambda s: rs.TuneSearchCV(est(s), space, n_trials=n, random_state=s, **common),
        "rung TuneSearchCV tpe": lambda s: rs.TuneSearchCV(est(s), space, searcher="tpe", n_trials=n,
                                                           random_state=s, **common),
        "rung TuneSearchCV asha (n_samples)": lambda s: rs.TuneSearchCV(
            est(s), space, scheduler="asha", n_trials=halving_n, random_state=s, **common),
    })
    return table


def _optuna(estimator: Any, space: dict[str, Any], n: int, seed: int, common: dict[str, Any]) -> Any:
    import optuna
    from optuna_integration import OptunaSearchCV

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    return OptunaSearchCV(estimator, optuna_space(space), n_trials=n, study=study, random_state=seed, **common)


def n_fits(search: Any) -> int:
    if hasattr(search, "trials_"):  # OptunaSearchCV: one 5-fold evaluation per trial
        return len(search.trials_) * FOLDS
    return len(search.cv_results_["params"]) * FOLDS


def run(args: argparse.Namespace) -> None:
    results: list[dict[str, Any]] = []
    for name in args.problems:
        problem = PROBLEMS[name]()
        for method, build in methods(problem, args.fits).items():
            if args.methods and method not in args.methods:
                continue
            for seed in range(args.seeds):
                search = build(seed)
                started = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    search.fit(problem["X"], problem["y"])
                wall = time.perf_counter() - started
                results.append({"problem": name, "method": method, "seed": seed, "best_score": float(search.best_score_),
                                "wall": wall, "fits": n_fits(search)})
                print(f"{name:22} {method:36} seed {seed}: {search.best_score_:.4f} in {wall:6.1f} s "
                      f"({n_fits(search)} fits)", flush=True)
        Path(args.out).write_text(json.dumps(results, indent=1))
    print(table(results))


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| problem | method | best CV accuracy (mean ± sd) | wall clock s (mean ± sd) | fits | seeds |",
             "|---|---|---|---|---|---|"]
    keys = list(dict.fromkeys((r["problem"], r["method"]) for r in results))
    for problem, method in keys:
        rows = [r for r in results if r["problem"] == problem and r["method"] == method]
        score = [r["best_score"] for r in rows]
        wall = [r["wall"] for r in rows]
        fits = sorted({r["fits"] for r in rows})
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
        lines.append(f"| {problem} | {method} | {statistics.mean(score):.4f} ± {sd(score):.4f} | "
                     f"{statistics.mean(wall):.1f} ± {sd(wall):.1f} | "
                     f"{fits[0] if len(fits) == 1 else f'{fits[0]}-{fits[-1]}'} | {len(rows)} |")
    return "\n".join(lines)


def overhead(args: argparse.Namespace) -> None:
    """Wall clock per fit on a trivial estimator (DummyClassifier on iris): scikit-learn's
    GridSearchCV (sequential and with joblib's 2 processes) against rung's (process backend
    with 1 and 2 workers, and the in-process backend). Marginal cost per fit = (time at
    the large grid - time at the small grid) / (difference in fits); the small grid's time
    is the fixed cost of a search (for rung's process backend: starting its workers)."""
    from sklearn import model_selection as sk
    from sklearn.datasets import load_iris
    from sklearn.dummy import DummyClassifier

    X, y = load_iris(return_X_y=True)
    small, large = {"constant": [0]}, {"constant": [0] * args.candidates}
    variants = {
        "scikit-learn GridSearchCV n_jobs=1": lambda g: sk.GridSearchCV(DummyClassifier(), g, cv=FOLDS, n_jobs=1),
        "scikit-learn GridSearchCV n_jobs=2": lambda g: sk.GridSearchCV(DummyClassifier(), g, cv=FOLDS, n_jobs=2),
        "rung GridSearchCV n_jobs=1 (process)": lambda g: rs.GridSearchCV(DummyClassifier(), g, cv=FOLDS, n_jobs=1),
        "rung GridSearchCV n_jobs=2 (process)": lambda g: rs.GridSearchCV(DummyClassifier(), g, cv=FOLDS, n_jobs=2),
        "rung GridSearchCV in-process": lambda g: rs.GridSearchCV(DummyClassifier(), g, cv=FOLDS, backend="inprocess"),
        "rung GridSearchCV n_jobs=2, experiment stored (SQLite)": lambda g: rs.GridSearchCV(
            DummyClassifier(), g, cv=FOLDS, n_jobs=2, experiment=f"overhead-{time.time_ns()}",
            storage=args.storage),
    }
    print(f"| variant | fixed cost s ({FOLDS} fits) | ms per fit (marginal) | total s ({FOLDS * args.candidates} fits) |")
    print("|---|---|---|---|")
    for label, build in variants.items():
        runs = {}
        for name, grid in (("small", small), ("large", large)):
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                build(grid).fit(X, y)
                times.append(time.perf_counter() - started)
            runs[name] = statistics.median(times)
        per_fit = (runs["large"] - runs["small"]) / (FOLDS * (args.candidates - 1)) * 1e3
        print(f"| {label} | {runs['small']:.2f} | {per_fit:.2f} | {runs['large']:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", default="search", choices=["search", "overhead"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--fits", type=int, default=100)
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--methods", nargs="+", default=None, help="only these methods (names as in the table)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "sklearn_search.json"))
    parser.add_argument("--candidates", type=int, default=60, help="overhead: candidates of the large grid")
    parser.add_argument("--repeats", type=int, default=3, help="overhead: runs per variant (median)")
    parser.add_argument("--storage", default=None, help="overhead: store of the stored variant (default: a temp file)")
    args = parser.parse_args()
    if args.mode == "overhead":
        import tempfile

        if args.storage is None:
            args.storage = str(Path(tempfile.mkdtemp()) / "overhead.db")
        overhead(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
