"""Scores of a suite: normalized scores, regret, intervals, ranks, time to target, ratios.

Definitions (all per problem, from the :class:`RunResult` points, i.e. full-fidelity
evaluations):

- **Horizon** ``H``: the longest run on the problem (``elapsed``; with a time budget, that
  budget). **Budgets**: fractions of ``H`` (default 0.25, 0.5, 1); a run's value at a
  budget is its incumbent at that time (NaN if nothing had finished by then).
- **Normalized score** (Bayesmark): with ``best`` = the optimum if known, else the best
  value any run on the problem found, and ``random`` = the median over seeds of the
  reference method's (random search's) value at that budget,
  ``score = 100 * (random - value) / (random - best)`` for ``mode="min"`` (values negated
  for ``"max"``): 100 is the optimum, 0 is random search's median, negative is worse than
  it. When ``random`` is already ``best`` the score is 100 at ``best`` and 0 otherwise.
- **Regret**: ``value - best`` for min (``best - value`` for max), against time.
- **Mean and 95 % interval** over seeds: ``mean +- t(0.975, n-1) * sd / sqrt(n)``
  (Student t; no interval with one seed). Seeds without a value at a budget are left out
  of the mean and counted in ``n``.
- **Rank**: at each budget, methods are ranked by mean score on each problem (1 = best,
  ties share the average rank, a method without a score ranks last), then ranks are
  averaged over problems.
- **Time to target**: ``target`` = the reference method's median final value; a run's time
  is the first time its incumbent is at least that good (inf if never); per problem the
  time by which half of the seeds (rounded up) had reached it, i.e. the lower median over
  seeds (inf when more than half never reach it).
- **Ratios, rung vs each peer** (methods named ``<library>-<algorithm>``): each peer
  method is paired with rung's method of the same algorithm, else with rung's best method
  (lowest average final rank). Final score: mean over problems of the mean final score,
  rung / peer (only when both are positive: a ratio of scores around 0 means nothing),
  and the gap to the best, ``(100 - peer score) / (100 - rung score)``. Time to target:
  geometric mean over problems of peer / rung median times (problems where both reach
  it). Decision overhead: decision seconds per evaluation, peer / rung, over the cells
  both ran. Above 1 means rung is better on all four.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

# The statistics users need too (``rung compare``) live in the package; the harness uses them.
from rung.compare.scoring import mean_interval, median_time

from ._method import RunResult, algorithm_of, library_of

DEFAULT_FRACTIONS = (0.25, 0.5, 1.0)
REFERENCE = "rung-random"
RUNG = "rung"


def _by_problem(results: Iterable[RunResult]) -> dict[str, list[RunResult]]:
    grouped: dict[str, list[RunResult]] = {}
    for result in results:
        grouped.setdefault(result.problem, []).append(result)
    return grouped


def _mode(runs: Sequence[RunResult]) -> str:
    modes = {r.mode for r in runs}
    if len(modes) != 1:
        raise ValueError(f"runs of {runs[0].problem} disagree on the mode: {sorted(modes)}")
    return modes.pop()


def _sign(mode: str) -> float:
    return 1.0 if mode == "min" else -1.0


def horizon(runs: Sequence[RunResult]) -> float:
    """The longest run on a problem (its budget when time-limited)."""
    return max(float(r.elapsed or 0.0) for r in runs)


def best_value(runs: Sequence[RunResult], optimum: float | None = None) -> float:
    """The optimum if known, else the best final value of any run (NaN if none)."""
    if optimum is not None and math.isfinite(optimum):
        return float(optimum)
    values = [r.best_value for r in runs if math.isfinite(r.best_value)]
    if not values:
        return math.nan
    return min(values) if _mode(runs) == "min" else max(values)


# -- normalized scores ---------------------------------------------------------------------
def normalized_score(value: float, random: float, best: float, mode: str) -> float:
    """``100 * (random - value) / (random - best)`` with the mode's sign (NaN if undefined)."""
    if not (math.isfinite(value) and math.isfinite(random) and math.isfinite(best)):
        return math.nan
    sign = _sign(mode)
    span = sign * (random - best)
    if span <= 1e-12 * max(1.0, abs(best)):
        return 100.0 if sign * value <= sign * best + 1e-12 * max(1.0, abs(best)) else 0.0
    return 100.0 * sign * (random - value) / span


def scores(
    results: Iterable[RunResult],
    optima: Mapping[str, float | None] | None = None,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    reference: str = REFERENCE,
) -> pd.DataFrame:
    """One row per (problem, method, seed, budget): time, value, regret, normalized score.

    Problems on which ``reference`` did not run get NaN scores (regret is still given).
    """
    optima = optima or {}
    rows = []
    for problem, runs in _by_problem(results).items():
        mode = _mode(runs)
        sign = _sign(mode)
        best = best_value(runs, optima.get(problem))
        end = horizon(runs)
        times = np.array([f * end for f in fractions])
        values = {r.key: r.incumbent_at(times) for r in runs}
        reference_values = np.array([values[r.key] for r in runs if r.method == reference])
        if len(reference_values):
            with np.errstate(all="ignore"):
                random = np.array([_nanmedian(reference_values[:, i]) for i in range(len(times))])
        else:
            random = np.full(len(times), np.nan)
        for run in runs:
            for i, fraction in enumerate(fractions):
                value = float(values[run.key][i])
                rows.append({
                    "problem": problem, "method": run.method, "seed": run.seed, "fraction": float(fraction),
                    "time": float(times[i]), "value": value, "regret": sign * (value - best),
                    "score": normalized_score(value, float(random[i]), best, mode),
                })
    columns = ["problem", "method", "seed", "fraction", "time", "value", "regret", "score"]
    return pd.DataFrame(rows, columns=columns)


def _nanmedian(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    # A median over seeds needs a value from at least half of them.
    if len(finite) * 2 < len(values) or len(finite) == 0:
        return math.nan
    return float(np.median(finite))


def summarize(table: pd.DataFrame, column: str = "score") -> pd.DataFrame:
    """Mean, 95 % half-width and seed count of ``column`` per (problem, method, fraction)."""
    rows = []
    for (problem, method, fraction), group in table.groupby(["problem", "method", "fraction"], sort=True):
        mean, half, n = mean_interval(group[column])
        rows.append({"problem": problem, "method": method, "fraction": fraction, "mean": mean,
                     "half_width": half, "low": mean - half, "high": mean + half, "n": n,
                     "seeds": len(group)})
    return pd.DataFrame(rows, columns=["problem", "method", "fraction", "mean", "half_width", "low", "high",
                                       "n", "seeds"])


def ranks(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (problem, fraction), each method's rank by mean score (1 = best, NaN last)."""
    frames = []
    for _, group in summary.groupby(["problem", "fraction"], sort=True):
        group = group.copy()
        group["rank"] = (-group["mean"]).rank(method="average", na_option="bottom")
        frames.append(group[["problem", "method", "fraction", "rank"]])
    if not frames:
        return pd.DataFrame(columns=["problem", "method", "fraction", "rank"])
    return pd.concat(frames, ignore_index=True)


def average_ranks(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean rank over problems per (method, fraction), with the number of problems."""
    ranked = ranks(summary)
    table = ranked.groupby(["method", "fraction"]).agg(rank=("rank", "mean"), problems=("rank", "size"))
    return table.reset_index().sort_values(["fraction", "rank", "method"], ignore_index=True)


# -- regret over time -----------------------------------------------------------------------
def regret_curves(
    results: Iterable[RunResult], optima: Mapping[str, float | None] | None = None, points: int = 100
) -> pd.DataFrame:
    """Mean regret and 95 % band per (problem, method) on a grid of ``points`` times.

    The mean is given only where every seed has a finished evaluation (NaN before).
    """
    optima = optima or {}
    rows = []
    for problem, runs in _by_problem(results).items():
        sign = _sign(_mode(runs))
        best = best_value(runs, optima.get(problem))
        grid = np.linspace(0.0, horizon(runs), points + 1)[1:]
        by_method: dict[str, list[RunResult]] = {}
        for run in runs:
            by_method.setdefault(run.method, []).append(run)
        for method, group in by_method.items():
            curves = np.array([sign * (r.incumbent_at(grid) - best) for r in group])
            for i, time in enumerate(grid):
                column = curves[:, i]
                if np.isnan(column).any():
                    mean, half, n = math.nan, math.nan, int(np.isfinite(column).sum())
                else:
                    mean, half, n = mean_interval(column)
                rows.append({"problem": problem, "method": method, "time": float(time), "mean": mean,
                             "low": mean - half, "high": mean + half, "n": n})
    return pd.DataFrame(rows, columns=["problem", "method", "time", "mean", "low", "high", "n"])


def rank_curves(
    results: Iterable[RunResult], optima: Mapping[str, float | None] | None = None, points: int = 20,
    reference: str = REFERENCE,
) -> pd.DataFrame:
    """Average rank over problems per method at ``points`` evenly spaced budget fractions."""
    fractions = [i / points for i in range(1, points + 1)]
    table = scores(results, optima, fractions, reference)
    return average_ranks(summarize(table))


# -- time to target --------------------------------------------------------------------------
def targets(results: Iterable[RunResult], reference: str = REFERENCE) -> dict[str, float]:
    """Per problem, the reference method's median final value (NaN if it has none)."""
    out = {}
    for problem, runs in _by_problem(results).items():
        finals = np.array([r.best_value for r in runs if r.method == reference])
        out[problem] = _nanmedian(finals) if len(finals) else math.nan
    return out


def times_to_target(results: Iterable[RunResult], reference: str = REFERENCE) -> pd.DataFrame:
    """One row per run: the target of its problem and the time its incumbent reached it."""
    results = list(results)
    goal = targets(results, reference)
    rows = [{"problem": r.problem, "method": r.method, "seed": r.seed, "target": goal[r.problem],
             "time": r.time_to(goal[r.problem]) if math.isfinite(goal[r.problem]) else math.nan}
            for r in results]
    return pd.DataFrame(rows, columns=["problem", "method", "seed", "target", "time"])


def time_to_target_summary(results: Iterable[RunResult], reference: str = REFERENCE) -> pd.DataFrame:
    """Per (problem, method): median time to target and how many seeds reached it."""
    table = times_to_target(results, reference)
    rows = []
    for (problem, method), group in table.groupby(["problem", "method"], sort=True):
        times = group["time"].to_numpy(dtype=float)
        rows.append({"problem": problem, "method": method, "target": float(group["target"].iloc[0]),
                     "median_time": median_time(times), "reached": int(np.isfinite(times).sum()),
                     "seeds": len(times)})
    return pd.DataFrame(rows, columns=["problem", "method", "target", "median_time", "reached", "seeds"])


# -- per-method overview ---------------------------------------------------------------------
def run_table(results: Iterable[RunResult]) -> pd.DataFrame:
    """One row per run: final value, evaluations, resource, decision and real time."""
    rows = [{"problem": r.problem, "method": r.method, "seed": r.seed, "final": r.best_value,
             "evaluations": r.n_evaluations, "full_evaluations": len(r.points), "resource": r.total_resource,
             "failed": r.n_failed, "elapsed": r.elapsed, "decision_time": r.decision_time,
             "decision_ms_per_evaluation": 1e3 * r.decision_time / max(r.n_evaluations, 1),
             "real_time": r.real_time} for r in results]
    return pd.DataFrame(rows)


# -- rung vs peers ---------------------------------------------------------------------------
#: rung's closest methods for a peer algorithm whose name rung spells differently, in order
#: of preference: Syne Tune's BOHB is asynchronous (ASHA-style promotion), and rung pairs TPE
#: with ASHA where Optuna pairs it with its Hyperband or median pruner.
COUNTERPARTS: dict[str, tuple[str, ...]] = {
    "bohb": ("rung-bohb-asha",),
    "tpe-hyperband": ("rung-tpe-asha", "rung-bohb-hyperband"),
    "tpe-median": ("rung-tpe-asha", "rung-bohb-median"),
}


def counterpart(peer: str, rung_methods: Sequence[str], best_rung: str | None) -> str | None:
    """rung's method of the peer's algorithm (same name, else :data:`COUNTERPARTS`), else
    rung's best method."""
    algorithm = algorithm_of(peer)
    for wanted in (f"{RUNG}-{algorithm}", *COUNTERPARTS.get(algorithm, ())):
        if wanted in rung_methods:
            return wanted
    return best_rung


def peer_ratios(
    results: Iterable[RunResult],
    optima: Mapping[str, float | None] | None = None,
    reference: str = REFERENCE,
    versus: str | None = None,
) -> pd.DataFrame:
    """rung vs each peer method: final score, time-to-target and decision-overhead ratios.

    Each peer meets rung's method of the same algorithm (else rung's best), or ``versus``
    for every peer when given (e.g. ``rung-auto``, what a user gets by default).
    """
    results = list(results)
    methods = sorted({r.method for r in results})
    rung_methods = [m for m in methods if library_of(m) == RUNG]
    peers = [m for m in methods if library_of(m) != RUNG]
    columns = ["peer", "rung", "problems", "peer_score", "rung_score", "score_ratio", "gap_ratio", "time_ratio",
               "time_problems", "peer_decision_ms", "rung_decision_ms", "overhead_ratio"]
    if not peers or not rung_methods:
        return pd.DataFrame(columns=columns)
    final = summarize(scores(results, optima, (1.0,), reference))
    overall = average_ranks(final)
    rung_ranks = overall[overall["method"].isin(rung_methods)]
    best_rung = str(rung_ranks.iloc[0]["method"]) if len(rung_ranks) else None
    ttt = time_to_target_summary(results, reference)
    runs = run_table(results)
    rows = []
    for peer in peers:
        mine = versus if versus is not None else counterpart(peer, rung_methods, best_rung)
        if mine is None or mine not in rung_methods:
            continue
        both = sorted(set(final.loc[final["method"] == peer, "problem"]) & set(final.loc[final["method"] == mine, "problem"]))
        peer_score = _mean_over(final, peer, both)
        rung_score = _mean_over(final, mine, both)
        time_ratios = []
        for problem in both:
            t_peer = _lookup(ttt, problem, peer, "median_time")
            t_rung = _lookup(ttt, problem, mine, "median_time")
            if math.isfinite(t_peer) and math.isfinite(t_rung) and t_peer > 0 and t_rung > 0:
                time_ratios.append(t_peer / t_rung)
        cells = runs[runs["problem"].isin(both)]
        peer_ms = _decision_ms(cells[cells["method"] == peer])
        rung_ms = _decision_ms(cells[cells["method"] == mine])
        rows.append({
            "peer": peer, "rung": mine, "problems": len(both), "peer_score": peer_score, "rung_score": rung_score,
            "score_ratio": _ratio(rung_score, peer_score) if rung_score > 0 and peer_score > 0 else math.nan,
            "gap_ratio": _ratio(100.0 - peer_score, 100.0 - rung_score),
            "time_ratio": float(np.exp(np.mean(np.log(time_ratios)))) if time_ratios else math.nan,
            "time_problems": len(time_ratios),
            "peer_decision_ms": peer_ms, "rung_decision_ms": rung_ms, "overhead_ratio": _ratio(peer_ms, rung_ms),
        })
    return pd.DataFrame(rows, columns=columns)


def _mean_over(final: pd.DataFrame, method: str, problems: Sequence[str]) -> float:
    values = final[(final["method"] == method) & final["problem"].isin(problems)]["mean"]
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else math.nan


def _lookup(table: pd.DataFrame, problem: str, method: str, column: str) -> float:
    match = table[(table["problem"] == problem) & (table["method"] == method)]
    return float(match[column].iloc[0]) if len(match) else math.nan


def _decision_ms(runs: pd.DataFrame) -> float:
    evaluations = runs["evaluations"].sum()
    return float(1e3 * runs["decision_time"].sum() / evaluations) if evaluations else math.nan


def _ratio(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return math.nan
    return a / b
