"""The benchmark harness (issue 5): scoring, the resumable runner, an end-to-end smoke, plots."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from benchmarks import problems
from benchmarks.harness import Budget, BudgetSpec, Cell, EvaluationLog, ResultStore, RunResult, run_suite
from benchmarks.harness._cli import main
from benchmarks.harness._report import build_report
from benchmarks.harness._scoring import (average_ranks, counterpart, mean_interval, median_time, normalized_score, peer_ratios,
                                         scores, summarize, time_to_target_summary)
from benchmarks.harness._store import BudgetMismatch
from benchmarks.methods import RungMethod, methods

T_975_2 = 4.302652729911275  # scipy.stats.t.ppf(0.975, 2)


def run(method: str, seed: int, points, problem: str = "p", mode: str = "min", elapsed: float = 10.0,
        evaluations: int | None = None, decision: float = 0.0) -> RunResult:
    return RunResult(method=method, problem=problem, seed=seed, mode=mode, points=points,
                     n_evaluations=evaluations or len(points), total_resource=len(points),
                     decision_time=decision, real_time=0.0, elapsed=elapsed)


def final(method: str, values, **kwargs) -> list[RunResult]:
    """One run per seed with a single evaluation at t=2 holding ``values[seed]``."""
    return [run(method, seed, [(2.0, v)], **kwargs) for seed, v in enumerate(values)]


# -- RunResult and EvaluationLog ------------------------------------------------------------------
def test_incumbent_is_a_step_function_nan_before_the_first_point():
    result = run("rung-random", 0, [(1.0, 5.0), (2.0, 7.0), (3.0, 2.0)])
    assert result.incumbent() == [(1.0, 5.0), (3.0, 2.0)]
    values = result.incumbent_at([0.5, 1.0, 2.5, 3.0, 99.0])
    assert np.isnan(values[0]) and list(values[1:]) == [5.0, 5.0, 2.0, 2.0]
    assert result.best_value == 2.0 and result.incumbent_after(2) == 5.0
    assert result.time_to(5.0) == 1.0 and result.time_to(3.0) == 3.0 and result.time_to(1.0) == math.inf
    maximized = run("rung-random", 0, [(1.0, 5.0), (2.0, 7.0)], mode="max")
    assert maximized.incumbent() == [(1.0, 5.0), (2.0, 7.0)] and maximized.time_to(6.0) == 2.0
    assert RunResult.from_dict(result.to_dict()) == result


def test_evaluation_log_keeps_full_fidelity_points_and_counts_resource():
    problem = problems.get("mf-hartmann6-lowbias")
    log = EvaluationLog(problem, "rung-x", 0)
    log.report(1.0, {"value": -1.0, "epoch": 1}, trial=0)
    log.report(2.0, {"value": -2.0, "epoch": 27}, trial=1)
    log.report(3.0, {"value": -3.0, "epoch": 3}, trial=0)
    result = log.result(n_evaluations=2, decision_time=0.1, real_time=0.2)
    assert result.points == [(2.0, -2.0)]
    assert result.any_fidelity == [(1.0, -1.0), (2.0, -2.0), (3.0, -3.0)]
    assert result.total_resource == 27 + 3 and result.elapsed == 2.0 and result.mode == "min"


def test_budget_needs_a_limit_and_resolves_per_problem():
    with pytest.raises(ValueError):
        Budget(n_workers=2)
    spec = BudgetSpec(time_multiple=10, n_workers=2)
    assert spec.resolve(problems.get("branin")) == Budget(max_time=5.0, n_workers=2)
    real = spec.resolve(problems.get("bayesmark-knn-iris-acc"))
    assert real == Budget(max_evaluations=10, n_workers=1)


# -- scoring ----------------------------------------------------------------------------------------
def test_normalized_scores_are_exact_with_a_known_optimum():
    results = final("rung-random", [4.0, 6.0, 8.0]) + final("rung-x", [0.0, 3.0, 3.0])
    table = scores(results, {"p": 0.0}, fractions=(1.0,))
    x = table[table["method"] == "rung-x"].sort_values("seed")
    assert list(x["score"]) == [100.0, 50.0, 50.0]
    assert list(x["regret"]) == [0.0, 3.0, 3.0]
    rand = table[table["method"] == "rung-random"].sort_values("seed")
    assert list(rand["score"]) == pytest.approx([100 / 3, 0.0, -100 / 3])
    summary = summarize(table)
    row = summary[summary["method"] == "rung-x"].iloc[0]
    assert row["mean"] == pytest.approx(200 / 3)
    assert row["half_width"] == pytest.approx(T_975_2 * np.std([100, 50, 50], ddof=1) / math.sqrt(3))
    assert row["n"] == 3


def test_scores_handle_max_mode_unknown_optimum_and_budgets():
    # max mode, optimum unknown: best = best found (9); random median at t=10 is 5.
    results = [run("rung-random", 0, [(2.0, 3.0), (8.0, 5.0)], mode="max"),
               run("rung-x", 0, [(6.0, 7.0), (9.0, 9.0)], mode="max")]
    table = scores(results, {}, fractions=(0.5, 1.0))
    at = {(r.method, r.fraction): r.score for r in table.itertuples()}
    assert at[("rung-x", 1.0)] == 100.0
    assert at[("rung-random", 1.0)] == 0.0
    # at t=5 random has 3 and rung-x nothing yet
    assert at[("rung-random", 0.5)] == 0.0 and math.isnan(at[("rung-x", 0.5)])
    assert normalized_score(7.0, 5.0, 9.0, "max") == 50.0
    # random search already optimal: 100 at the best, else 0
    assert normalized_score(1.0, 1.0, 1.0, "min") == 100.0 and normalized_score(2.0, 1.0, 1.0, "min") == 0.0


def test_mean_interval_uses_student_t():
    mean, half, n = mean_interval([1.0, 2.0, 3.0, float("nan")])
    assert (mean, n) == (2.0, 3) and half == pytest.approx(T_975_2 * 1.0 / math.sqrt(3))
    assert math.isnan(mean_interval([5.0])[1]) and mean_interval([])[2] == 0


def test_average_ranks_across_problems():
    results = (final("rung-random", [4.0, 6.0], problem="a") + final("rung-x", [1.0, 1.0], problem="a")
               + final("rung-y", [4.5, 4.5], problem="a")
               + final("rung-random", [4.0, 6.0], problem="b") + final("rung-x", [9.0, 9.0], problem="b")
               + final("rung-y", [0.0, 0.0], problem="b"))
    ranked = average_ranks(summarize(scores(results, {"a": 0.0, "b": 0.0}, fractions=(1.0,))))
    rank = dict(zip(ranked["method"], ranked["rank"]))
    # a: x (score 80) 1, y (10) 2, random (0) 3; b: y (100) 1, random (0) 2, x (-80) 3
    assert rank == {"rung-x": 2.0, "rung-y": 1.5, "rung-random": 2.5}
    assert set(ranked["problems"]) == {2}


def test_time_to_target_and_peer_ratios():
    rand = [run("rung-random", s, [(4.0, 6.0)], decision=0.001) for s in range(2)]
    rung_tpe = [run("rung-tpe", s, [(1.0, 5.0), (2.0, 3.0)], decision=0.002) for s in range(2)]
    peer_tpe = [run("optuna-tpe", s, [(3.0, 4.0), (4.0, 3.0)], decision=0.008) for s in range(2)]
    peer_cma = [run("optuna-cmaes", s, [(8.0, 6.0)], decision=0.004) for s in range(2)]
    results = rand + rung_tpe + peer_tpe + peer_cma
    ttt = time_to_target_summary(results)
    times = dict(zip(ttt["method"], ttt["median_time"]))
    assert times == {"optuna-cmaes": 8.0, "optuna-tpe": 3.0, "rung-random": 4.0, "rung-tpe": 1.0}
    # the time by which half the seeds (rounded up) got there
    assert median_time([1.0, math.inf]) == 1.0 and median_time([3.0, 1.0, 2.0]) == 2.0
    assert median_time([1.0, math.inf, math.inf]) == math.inf
    ratios = peer_ratios(results, {"p": 0.0}).set_index("peer")
    assert ratios.loc["optuna-tpe", "rung"] == "rung-tpe"
    assert ratios.loc["optuna-tpe", "time_ratio"] == pytest.approx(3.0)
    assert ratios.loc["optuna-tpe", "overhead_ratio"] == pytest.approx(4.0)  # 4 ms vs 1 ms per evaluation
    assert ratios.loc["optuna-tpe", "score_ratio"] == pytest.approx(1.0)  # both end at 3: score 50
    # no rung-cmaes: paired with rung's best method
    assert ratios.loc["optuna-cmaes", "rung"] == "rung-tpe"
    assert ratios.loc["optuna-cmaes", "gap_ratio"] == pytest.approx(100 / 50)


def test_peers_meet_rungs_method_of_the_same_algorithm_under_another_name():
    rung_methods = ["rung-asha", "rung-bohb-asha", "rung-bohb-hyperband", "rung-random", "rung-tpe-asha"]
    assert counterpart("synetune-bohb", rung_methods, "rung-random") == "rung-bohb-asha"
    assert counterpart("synetune-asha", rung_methods, "rung-random") == "rung-asha"
    assert counterpart("optuna-tpe-hyperband", rung_methods, "rung-random") == "rung-tpe-asha"
    assert counterpart("optuna-tpe-hyperband", ["rung-bohb-hyperband"], None) == "rung-bohb-hyperband"
    assert counterpart("optuna-cmaes", rung_methods, "rung-random") == "rung-random"


# -- runner ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Counting:
    """A fake method: one evaluation per seed, value = seed; fails when told to."""

    name: str = "fake-counting"
    fail: bool = False

    def run(self, problem, seed, budget):
        if self.fail:
            raise RuntimeError("boom")
        return RunResult(method=self.name, problem=problem.name, seed=seed, mode=problem.mode,
                         points=[(1.0, float(seed))], n_evaluations=1, total_resource=1, decision_time=0.0,
                         real_time=0.0)


def test_runner_stores_results_and_skips_finished_cells_on_rerun(tmp_path):
    store = ResultStore(tmp_path / "bench.db")
    branin = problems.get("branin")
    budget = Budget(max_evaluations=3)
    cells = [Cell(m, branin, seed, budget) for m in (Counting(), Counting("fake-failing", fail=True))
             for seed in (0, 1)]
    first = run_suite(cells, store, "s", jobs=1, progress=False)
    assert sorted(first.ran) == [("fake-counting", "branin", 0), ("fake-counting", "branin", 1)]
    assert set(first.failed) == {("fake-failing", "branin", 0), ("fake-failing", "branin", 1)}
    assert "boom" in store.failures("s")[0]["error"]
    second = run_suite(cells, store, "s", jobs=1, progress=False)
    assert sorted(second.skipped) == sorted(first.ran) and second.ran == []
    assert len(second.failed) == 2  # failed cells are tried again
    assert [r.seed for r in store.results("s")] == [0, 1]
    assert store.budgets("s") == {"branin": budget}
    with pytest.raises(BudgetMismatch):
        run_suite([Cell(Counting(), branin, 0, Budget(max_evaluations=4))], store, "s", jobs=1, progress=False)
    store.close()


def test_rung_methods_apply_by_problem():
    names = {m.name for m in methods(problems.get("branin"))}
    assert {"rung-random", "rung-grid"} <= names and "rung-asha" not in names
    mf = {m.name for m in methods(problems.get("mf-hartmann6-lowbias"))}
    assert {"rung-asha", "rung-asha-promotion", "rung-hyperband", "rung-sh", "rung-median"} <= mf
    assert "rung-grid" not in mf


def test_rung_method_is_seeded_on_the_simulator():
    problem = problems.get("mf-hartmann6-lowbias")
    budget = Budget(max_time=2000.0, n_workers=3)
    a = RungMethod("rung-asha", "random", "asha").run(problem, 3, budget)
    b = RungMethod("rung-asha", "random", "asha").run(problem, 3, budget)
    assert a.points == b.points and a.points and a.elapsed == pytest.approx(2000.0)
    assert all(t <= 2000.0 for t, _ in a.points) and a.n_evaluations > len(a.points)


# -- end to end --------------------------------------------------------------------------------------
def test_smoke_two_methods_one_problem_two_seeds_in_parallel_with_plots(tmp_path):
    problem = problems.get("mf-hartmann6-lowbias")
    budget = BudgetSpec(time_multiple=8, n_workers=2).resolve(problem)
    chosen = [RungMethod("rung-random", "random"), RungMethod("rung-asha", "random", "asha")]
    cells = [Cell(m, problem, seed, budget) for m in chosen for seed in (0, 1)]
    store = ResultStore(tmp_path / "bench.db")
    outcome = run_suite(cells, store, "e2e", jobs=2, progress=False)
    assert not outcome.failed and len(outcome.ran) == 4
    results = store.results("e2e")
    store.close()
    text = build_report(results, suite="e2e", budgets={problem.name: budget}, out=tmp_path / "out")
    assert "| rung-asha |" in text and "| rung-random |" in text
    assert (tmp_path / "out" / "report.md").read_text() == text
    for name in ("regret.png", "ranks.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_run_then_report(tmp_path, capsys):
    store, out = str(tmp_path / "bench.db"), str(tmp_path / "out")
    args = ["run", "--problems", "branin", "--methods", "rung-random", "rung-tpe", "--seeds", "2",
            "--max-time", "10x", "--workers", "2", "--store", store, "--suite", "cli", "--jobs", "1",
            "--quiet", "--no-peers"]
    assert main(args) == 0
    printed = capsys.readouterr()
    assert "## Final normalized score" in printed.out and "rung's methods only" in printed.err
    assert main(args) == 0
    assert "ran 0, skipped 4" in capsys.readouterr().err
    assert main(["report", "--store", store, "--suite", "cli", "--out", out]) == 0
    assert "| rung-tpe |" in capsys.readouterr().out
    assert (tmp_path / "out" / "regret.png").exists() and (tmp_path / "out" / "ranks.png").exists()
    assert main(["report", "--store", store, "--suite", "nope"]) == 2
    assert main(["run", "--problems", "brannin", "--store", store, "--quiet"]) == 2
