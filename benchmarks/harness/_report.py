"""The markdown report of a suite: score, rank, time-to-target and peer-ratio tables, plots."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._method import Budget, RunResult, library_of
from ._scoring import (DEFAULT_FRACTIONS, REFERENCE, average_ranks, peer_ratios, run_table, scores, summarize,
                       time_to_target_summary)
from ._selection import describe_budget


def markdown_table(frame: pd.DataFrame, align_left: int = 1) -> str:
    """``frame`` as a GitHub markdown table (cells already formatted as text)."""
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" if i < align_left else "---:" for i in range(len(frame.columns))) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _number(value: float | None, decimals: int = 3, tiny_is_zero: bool = False) -> str:
    """Fixed decimals; two significant digits for tiny values (unless ``tiny_is_zero``);
    "never" for inf; "-" for NaN."""
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "never" if value > 0 else "-inf"
    if value != 0 and abs(value) < 10.0 ** -decimals and not tiny_is_zero:
        return f"{value:.2g}"
    return f"{round(value, decimals) + 0.0:.{decimals}f}"  # + 0.0: no "-0.0"


def _score_cell(mean: float, half: float, n: int, seeds: int) -> str:
    if n == 0:
        return "-"
    text = _number(mean, 1, tiny_is_zero=True) + (f" ± {half:.1f}" if math.isfinite(half) else "")
    return text + (f" ({n}/{seeds})" if n < seeds else "")


def optima_of(problem_names: Iterable[str]) -> dict[str, float | None]:
    """Known optima from the problem registry (None for unknown problems or optima)."""
    from benchmarks import problems as registry

    out: dict[str, float | None] = {}
    for name in problem_names:
        try:
            out[name] = registry.get(name).optimum
        except Exception:  # not registered here, or its data is missing
            out[name] = None
    return out


def clocks_of(problem_names: Iterable[str]) -> dict[str, str]:
    """Time-axis label per problem: wall-clock for real problems, simulated otherwise."""
    from benchmarks import problems as registry

    real = set(registry.names("real"))
    return {name: "wall-clock seconds" if name in real else "simulated seconds" for name in problem_names}


def score_table(summary: pd.DataFrame, fraction: float = 1.0) -> pd.DataFrame:
    """Methods x problems: mean normalized score ± 95 % half-width at ``fraction``."""
    data = summary[np.isclose(summary["fraction"], fraction)]
    problems = list(dict.fromkeys(data["problem"]))
    ranked = average_ranks(data)
    methods = list(ranked["method"])
    rows = []
    for method in methods:
        row: dict[str, object] = {"method": method}
        for problem in problems:
            match = data[(data["method"] == method) & (data["problem"] == problem)]
            row[problem] = "" if match.empty else _score_cell(*match.iloc[0][["mean", "half_width", "n", "seeds"]])
        means = data[data["method"] == method]["mean"]
        row["mean score"] = _number(float(means.mean()) if means.notna().any() else math.nan, 1, tiny_is_zero=True)
        row["avg rank"] = _number(float(ranked.loc[ranked["method"] == method, "rank"].iloc[0]), 2)
        rows.append(row)
    return pd.DataFrame(rows, columns=["method", *problems, "mean score", "avg rank"])


def rank_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Methods x budget fractions: average rank over problems."""
    ranked = average_ranks(summary)
    fractions = sorted(set(ranked["fraction"]))
    final = ranked[np.isclose(ranked["fraction"], fractions[-1])]
    rows = []
    for method in final.sort_values("rank")["method"]:
        row: dict[str, object] = {"method": method}
        for fraction in fractions:
            match = ranked[(ranked["method"] == method) & np.isclose(ranked["fraction"], fraction)]
            row[f"rank at {fraction:.0%}"] = _number(float(match["rank"].iloc[0]), 2) if len(match) else "-"
        rows.append(row)
    return pd.DataFrame(rows)


def time_table(results: Sequence[RunResult], reference: str) -> pd.DataFrame:
    """Methods x problems: median time to reach random search's median final value."""
    table = time_to_target_summary(results, reference)
    problems = list(dict.fromkeys(table["problem"]))
    rows = []
    for method in sorted(set(table["method"])):
        row: dict[str, object] = {"method": method}
        for problem in problems:
            match = table[(table["method"] == method) & (table["problem"] == problem)]
            if match.empty:
                row[problem] = ""
                continue
            item = match.iloc[0]
            row[problem] = f"{_number(item['median_time'], 1)} ({item['reached']}/{item['seeds']})"
        rows.append(row)
    return pd.DataFrame(rows, columns=["method", *problems])


def cost_table(results: Sequence[RunResult]) -> pd.DataFrame:
    """Per method: evaluations, full-fidelity evaluations, decision ms per evaluation, real time."""
    runs = run_table(results)
    grouped = runs.groupby("method").agg(
        runs=("seed", "size"), evaluations=("evaluations", "mean"), full=("full_evaluations", "mean"),
        failed=("failed", "sum"), decision=("decision_time", "sum"), n_eval=("evaluations", "sum"),
        real=("real_time", "mean"),
    ).reset_index()
    return pd.DataFrame({
        "method": grouped["method"], "runs": grouped["runs"],
        "evaluations / run": grouped["evaluations"].map(lambda v: _number(v, 1)),
        "full-fidelity / run": grouped["full"].map(lambda v: _number(v, 1)),
        "failed": grouped["failed"],
        "decision ms / evaluation": (1e3 * grouped["decision"] / grouped["n_eval"].clip(lower=1)).map(
            lambda v: _number(v, 3)),
        "real s / run": grouped["real"].map(lambda v: _number(v, 2)),
    })


#: rung's method with the default searcher; compared with every peer when it ran.
DEFAULT_METHOD = "rung-auto"


def ratio_table(results: Sequence[RunResult], optima: Mapping[str, float | None], reference: str,
                versus: str | None = None) -> pd.DataFrame:
    ratios = peer_ratios(results, optima, reference, versus)
    return pd.DataFrame({
        "peer": ratios["peer"], "vs rung": ratios["rung"], "problems": ratios["problems"],
        "final score peer": ratios["peer_score"].map(lambda v: _number(v, 1, tiny_is_zero=True)),
        "final score rung": ratios["rung_score"].map(lambda v: _number(v, 1, tiny_is_zero=True)),
        "score rung/peer": ratios["score_ratio"].map(lambda v: _number(v, 2)),
        "gap to best peer/rung": ratios["gap_ratio"].map(lambda v: _number(v, 2)),
        "time-to-target peer/rung": [f"{_number(r, 2)} ({n})" for r, n in zip(ratios["time_ratio"], ratios["time_problems"])],
        "decision overhead peer/rung": ratios["overhead_ratio"].map(lambda v: _number(v, 2)),
    })


def build_report(
    results: Sequence[RunResult],
    *,
    suite: str,
    budgets: Mapping[str, Budget] | None = None,
    notes: Sequence[str] = (),
    out: str | Path | None = None,
    optima: Mapping[str, float | None] | None = None,
    reference: str = REFERENCE,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
) -> str:
    """The markdown report of ``results``; with ``out``, also ``regret.png``, ``ranks.png``
    and ``report.md`` there."""
    results = list(results)
    if not results:
        return f"# Benchmark suite `{suite}`\n\nNo finished runs.\n"
    problems = list(dict.fromkeys(r.problem for r in results))
    optima = dict(optima) if optima is not None else optima_of(problems)
    methods = sorted({r.method for r in results})
    seeds = sorted({r.seed for r in results})
    summary = summarize(scores(results, optima, fractions, reference))
    lines = [f"# Benchmark suite `{suite}`", ""]
    lines.append(f"{len(problems)} problem(s), {len(methods)} method(s), seeds {', '.join(map(str, seeds))}; "
                 f"reference (score 0): `{reference}`.")
    if budgets:
        lines += ["", "Budgets: " + "; ".join(f"{p}: {describe_budget(b)}" for p, b in budgets.items() if p in problems)
                  + "."]
    if reference not in methods:
        lines += ["", f"Note: the reference `{reference}` did not run, so normalized scores are undefined."]
    lines += ["", "## Final normalized score", "",
              "100 = the optimum (or the best value any run found), 0 = median of random search; mean ± 95 % "
              "t-interval over seeds, (k/n) when only k of n seeds had a full-fidelity result.", "",
              markdown_table(score_table(summary)), "",
              "## Average rank over problems by fraction of the time budget", "",
              markdown_table(rank_table(summary)), "",
              "## Time to reach random search's median final value", "",
              "Time by which half of the seeds had reached it (lower median over seeds; simulated s, "
              "wall-clock s on real problems), (seeds that reached it / seeds).", "",
              markdown_table(time_table(results, reference)), "",
              "## Cost", "", markdown_table(cost_table(results))]
    peers = sorted({m for m in methods if library_of(m) != "rung"})
    if peers:
        lines += ["", "## rung vs peers", "",
                  "Each peer method against rung's method of the same algorithm (else rung's best). Score: mean "
                  "over problems of the final score (ratio only when both are positive); gap to best: "
                  "(100 - peer score) / (100 - rung score); time to target: geometric mean over problems (count) of the "
                  "median times; decision overhead: decision ms per evaluation. Ratios above 1 favour rung.", "",
                  markdown_table(ratio_table(results, optima, reference))]
        if DEFAULT_METHOD in methods:
            lines += ["", f"## rung's default (`{DEFAULT_METHOD}`, `searcher=\"auto\"`) vs peers", "",
                      f"The same ratios with `{DEFAULT_METHOD}` against every peer: what a user gets without choosing "
                      "a searcher (on multi-fidelity problems under ASHA).", "",
                      markdown_table(ratio_table(results, optima, reference, versus=DEFAULT_METHOD))]
    if out is not None:
        from ._plots import plot_ranks, plot_regret

        folder = Path(out)
        plot_regret(results, folder / "regret.png", optima, clocks_of(problems))
        plot_ranks(results, folder / "ranks.png", optima, reference)
        lines += ["", "## Plots", "", "![regret against time](regret.png)", "", "![average rank](ranks.png)"]
    if notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in notes]]
    text = "\n".join(lines) + "\n"
    if out is not None:
        (Path(out) / "report.md").write_text(text)
    return text
