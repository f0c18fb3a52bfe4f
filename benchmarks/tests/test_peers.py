"""The peer adapters of the benchmark suite (``benchmarks/peers``): Optuna, Syne Tune and
scikit-learn's HalvingRandomSearchCV run on the benchmark problems, and the simulation
loop that drives the first two.

Every adapter runs with a tiny budget and two workers and is checked for: points in time
order, each the problem's own value of an evaluated config, the evaluation and time
budgets, and at most ``n_workers`` trials in flight. Optional peers are skipped when their
package is missing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

import rung
from benchmarks import peers, problems
from benchmarks.harness._method import Budget, RunResult
from benchmarks.peers._simloop import COMPLETED, FAILED, STOPPED, SimOutcome, simulate
from benchmarks.peers._space import SpaceView
from benchmarks.problems import SingleFidelity

TWO = 2


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Any:
    """One OpenMP/BLAS thread, as the harness gives each worker: XGBoost (under BORE) is
    otherwise slow on a busy two-core machine."""
    try:
        import threadpoolctl
    except ImportError:  # comes with scikit-learn; without it, run as is
        yield
        return
    try:
        import xgboost  # noqa: F401  (load its OpenMP runtime so that the limit reaches it)
    except ImportError:
        pass
    with threadpoolctl.threadpool_limits(limits=1):
        yield


# -- helpers ------------------------------------------------------------------------------
def full_trials(outcome: SimOutcome) -> list:
    """Trials whose last report is at the problem's full fidelity."""
    problem = outcome.problem
    return [t for t in outcome.trials if t.reports and len(t.reports) == problem.n_steps]


def check_in_flight(outcome: SimOutcome, n_workers: int) -> None:
    """Recount overlapping trials from their own records: never more than ``n_workers``."""
    assert outcome.max_in_flight <= n_workers
    events = []
    for trial in outcome.trials:
        end = trial.reports[-1][0] if trial.reports and trial.status != "running" else math.inf
        events += [(trial.started, 1), (end, -1)]
    running = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):  # ends before starts at ties
        running += delta
        assert running <= n_workers


def check_outcome(outcome: SimOutcome, result: RunResult, budget: Budget) -> None:
    """The shared checks on a simulated run (see the module docstring)."""
    problem = outcome.problem
    times = [t for t, _ in result.points]
    assert times == sorted(times)
    assert result.n_evaluations == len(outcome.trials)
    if budget.max_evaluations is not None:
        assert result.n_evaluations <= budget.max_evaluations
    if budget.max_time is not None:
        assert all(t <= budget.max_time for t in times)
        assert result.elapsed <= budget.max_time
    check_in_flight(outcome, 1 if problem.kind == "real" else budget.n_workers)
    finished = full_trials(outcome)
    assert len(result.points) == len(finished)
    expected = sorted((t.reports[-1][0], t.reports[-1][1][problem.metric]) for t in finished)
    assert sorted(result.points) == expected
    for trial in finished:
        problem.rung_space().validate(trial.config)
        assert trial.reports[-1][1][problem.metric] == pytest.approx(problem.evaluate(trial.config))
    assert result.n_failed == 0


def method_named(problem: Any, name: str) -> Any:
    found = {m.name: m for m in peers.methods(problem)}
    if name not in found:
        pytest.skip(f"{name} is not available here")
    return found[name]


class RandomPeer:
    """A minimal ask/tell peer: random configs; stops every trial after ``stop_after`` steps."""

    def __init__(self, problem: Any, seed: int = 0, stop_after: int | None = None,
                 sleep: float = 0.0, config: Mapping[str, Any] | None = None) -> None:
        self.space = problem.rung_space()
        self.rng = np.random.default_rng(seed)
        self.stop_after = stop_after
        self.sleep = sleep
        self.config = config
        self.finished: list[str] = []
        self.next = 0

    def ask(self) -> tuple[int, dict[str, Any]]:
        time.sleep(self.sleep)
        self.next += 1
        return self.next, dict(self.config) if self.config else self.space.sample(self.rng)

    def report(self, handle: Any, step: int, metrics: Mapping[str, Any]) -> bool:
        return self.stop_after is None or step + 1 < self.stop_after

    def finish(self, handle: Any, status: str, metrics: Mapping[str, Any] | None) -> None:
        self.finished.append(status)


class Conditional(SingleFidelity):
    """A small problem with every kind of domain: conditions, q-scales, normal, constant."""

    def __init__(self) -> None:
        super().__init__(name="conditional", metric="loss", mode="min", optimum=None,
                         optimum_note="", cost_note="1 s", seconds=1.0)

    def _make_space(self) -> dict[str, Any]:
        return {
            "kind": rung.choice(["a", "b"]),
            "x": rung.uniform(0.0, 1.0).when("kind", "==", "a"),
            "y": rung.quniform(0.0, 10.0, 0.5).when("kind", "==", "b"),
            "n": rung.qloguniform(2, 64, 2),
            "flag": rung.choice([False, True]),
            "z": rung.normal(0.0, 1.0),
            "c": 3,
            "one": rung.choice([0.5]),  # a single value: a constant
        }

    def value(self, config: Mapping[str, Any]) -> float:
        base = config["x"] if config["kind"] == "a" else config["y"] / 10
        extra = config["flag"] + config["c"] + config["one"]
        return base + config["n"] / 64 + abs(config["z"]) + extra


# -- the simulation loop --------------------------------------------------------------------
def test_loop_runs_workers_side_by_side_on_the_virtual_clock() -> None:
    problem = problems.get("branin")  # 1 s per evaluation
    budget = Budget(max_evaluations=7, n_workers=TWO)
    outcome = simulate(problem, RandomPeer(problem), 0, budget)
    result = outcome.result("test-random")
    assert [t for t, _ in result.points] == [1, 1, 2, 2, 3, 3, 4]
    assert outcome.elapsed == 4 and outcome.max_in_flight == TWO
    assert outcome.stop_reason == "max_evaluations" and outcome.clock == "simulated"
    check_outcome(outcome, result, budget)


def test_loop_time_budget_ends_the_run_and_drops_late_reports() -> None:
    problem = problems.get("mf-hartmann6-lowbias")  # 27 epochs of 5-15 s
    budget = Budget(max_evaluations=50, max_time=100.0, n_workers=3)
    outcome = simulate(problem, RandomPeer(problem), 0, budget)
    result = outcome.result("test-random")
    assert outcome.stop_reason == "max_time" and result.elapsed == 100.0
    assert result.points == []  # no trial reaches epoch 27 within 100 s
    assert all(t <= 100.0 for trial in outcome.trials for t, _ in trial.reports)
    assert len(outcome.trials) == 3  # nobody finished, so no worker was refilled
    check_outcome(outcome, result, budget)


def test_loop_stops_trials_when_the_peer_says_so() -> None:
    problem = problems.get("counting-ones-16d")
    peer = RandomPeer(problem, stop_after=2)
    budget = Budget(max_evaluations=6, n_workers=TWO)
    outcome = simulate(problem, peer, 0, budget)
    result = outcome.result("test-stop")
    assert peer.finished == [STOPPED] * 6
    assert result.points == [] and len(result.any_fidelity) >= 1
    assert result.total_resource == 6 * problem.levels[1]
    check_outcome(outcome, result, budget)


def test_loop_decision_time_is_measured_and_counted_only_when_asked() -> None:
    problem = problems.get("branin")
    for count in (False, True):
        budget = Budget(max_evaluations=4, n_workers=1, count_decision_time=count)
        outcome = simulate(problem, RandomPeer(problem, sleep=0.02), 0, budget)
        assert outcome.decision_time >= 4 * 0.02
        assert (outcome.elapsed > 4.0) is count


def test_loop_fails_a_trial_whose_config_is_invalid() -> None:
    problem = problems.get("branin")
    peer = RandomPeer(problem, config={"x1": 100.0, "x2": 1.0})
    outcome = simulate(problem, peer, 0, Budget(max_evaluations=3, n_workers=TWO))
    result = outcome.result("test-bad")
    assert peer.finished == [FAILED] * 3 and result.n_failed == 3 and result.points == []
    assert "outside" in outcome.trials[0].error


def test_loop_gives_up_when_simulated_time_stands_still(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.peers import _simloop

    monkeypatch.setattr(_simloop, "STALL_LIMIT", 50)
    problem = problems.get("branin")
    peer = RandomPeer(problem, config={"x1": 100.0, "x2": 1.0})
    with pytest.raises(RuntimeError, match="without the clock moving"):
        simulate(problem, peer, 0, Budget(max_time=10.0, n_workers=TWO))


# -- the space translation ------------------------------------------------------------------
def test_space_view_covers_every_domain_and_condition() -> None:
    view = SpaceView(Conditional().space)
    assert list(view.params) == ["kind", "x", "y", "n", "flag", "z"]
    assert view.constants == {"c": 3, "one": 0.5}
    assert view.is_conditional and not view.is_numeric
    y, n, flag, z = (view.params[k] for k in ("y", "n", "flag", "z"))
    assert (y.kind, y.low, y.high, y.log) == ("int", 0, 20, False)
    assert (n.kind, n.low, n.high, n.log) == ("int", 1, 32, True)
    assert flag.choices == ("False", "True") and flag.decode("True") is True
    assert z.encoding == "unit" and z.decode(0.5) == pytest.approx(0.0)
    raw = {"kind": "b", "x": 0.3, "y": 7, "n": 5, "flag": "False", "z": 0.5}
    assert view.config_from(raw) == {"kind": "b", "y": 3.5, "n": 10, "flag": False,
                                     "z": pytest.approx(0.0), "c": 3, "one": 0.5}
    assert SpaceView(problems.get("branin").space).is_numeric


# -- Optuna ---------------------------------------------------------------------------------
OPTUNA_SINGLE = ["optuna-random", "optuna-tpe", "optuna-gp", "optuna-cmaes"]
OPTUNA_MULTI = ["optuna-tpe-median", "optuna-tpe-hyperband"]


@pytest.mark.parametrize("name", OPTUNA_SINGLE)
def test_optuna_samplers_on_branin(name: str) -> None:
    pytest.importorskip("optuna")
    problem = problems.get("branin")
    method = method_named(problem, name)
    budget = Budget(max_evaluations=12, n_workers=TWO)
    outcome = method.simulate(problem, 0, budget)
    result = outcome.result(name)
    check_outcome(outcome, result, budget)
    assert result.n_evaluations == 12
    again = method.run(problem, 0, budget)  # same seed, same run
    assert again.method == name and again.points == result.points


@pytest.mark.parametrize("name", OPTUNA_MULTI)
def test_optuna_pruners_on_a_multi_fidelity_problem(name: str) -> None:
    pytest.importorskip("optuna")
    problem = problems.get("counting-ones-16d")
    method = method_named(problem, name)
    budget = Budget(max_evaluations=30, n_workers=TWO)
    outcome = method.simulate(problem, 0, budget)
    result = outcome.result(name)
    check_outcome(outcome, result, budget)
    assert any(t.status == STOPPED for t in outcome.trials)  # the pruner pruned
    assert method.run(problem, 0, budget).points == result.points
    assert {t.status for t in outcome.trials} <= {COMPLETED, STOPPED}


def test_optuna_time_budget_and_conditional_space() -> None:
    pytest.importorskip("optuna")
    problem = Conditional()
    method = peers.OptunaMethod("optuna-tpe", "tpe")
    budget = Budget(max_evaluations=100, max_time=15.5, n_workers=TWO)
    outcome = method.simulate(problem, 1, budget)
    result = outcome.result(method.name)
    check_outcome(outcome, result, budget)
    assert result.n_evaluations == 32 and len(result.points) == 30  # 2 cut off at 16 s
    assert {t.config["kind"] for t in outcome.trials} == {"a", "b"}


def test_optuna_cmaes_only_on_numeric_spaces() -> None:
    pytest.importorskip("optuna")
    names = [m.name for m in peers.methods(problems.get("counting-ones-16d"))]
    assert "optuna-cmaes" not in names and "optuna-tpe-hyperband" in names
    assert "optuna-tpe-median" not in [m.name for m in peers.methods(problems.get("branin"))]


# -- Syne Tune ------------------------------------------------------------------------------
SYNETUNE_SINGLE = ["synetune-random", "synetune-tpe", "synetune-bore", "synetune-rea",
                   "synetune-botorch"]
SYNETUNE_MULTI = ["synetune-asha", "synetune-bohb", "synetune-asha-bore"]


@pytest.mark.parametrize("name", SYNETUNE_SINGLE)
def test_synetune_schedulers_on_branin(name: str) -> None:
    pytest.importorskip("syne_tune")
    problem = problems.get("branin")
    method = method_named(problem, name)
    # BoTorch: 3 random configs, then a GP fit per decision; BORE: 6, then XGBoost per decision
    n = {"synetune-botorch": 6, "synetune-bore": 8}.get(name, 12)
    budget = Budget(max_evaluations=n, n_workers=TWO)
    outcome = method.simulate(problem, 0, budget)
    result = outcome.result(name)
    check_outcome(outcome, result, budget)
    assert result.n_evaluations == n
    assert method.run(problem, 0, budget).points == result.points


@pytest.mark.parametrize("name", SYNETUNE_MULTI)
def test_synetune_multi_fidelity_schedulers(name: str) -> None:
    pytest.importorskip("syne_tune")
    problem = problems.get("counting-ones-16d")
    method = method_named(problem, name)
    budget = Budget(max_evaluations=12 if "bore" in name else 20, max_time=400.0, n_workers=TWO)
    outcome = method.simulate(problem, 0, budget)
    result = outcome.result(name)
    check_outcome(outcome, result, budget)
    assert any(t.status == STOPPED for t in outcome.trials)  # successive halving stopped some
    assert method.run(problem, 0, budget).points == result.points


def test_synetune_flattens_a_conditional_space() -> None:
    pytest.importorskip("syne_tune")
    problem = Conditional()
    method = peers.SyneTuneMethod("synetune-random", "random")
    budget = Budget(max_evaluations=10, n_workers=TWO)
    outcome = method.simulate(problem, 0, budget)
    check_outcome(outcome, outcome.result(method.name), budget)
    for trial in outcome.trials:
        assert ("x" in trial.config) == (trial.config["kind"] == "a")


# -- scikit-learn ---------------------------------------------------------------------------
def test_sklearn_halving_only_on_bayesmark() -> None:
    pytest.importorskip("sklearn")
    assert "sklearn-halving" not in [m.name for m in peers.methods(problems.get("branin"))]
    assert "sklearn-halving" in [m.name for m in peers.methods(problems.get("bayesmark-knn-iris-acc"))]


def test_sklearn_halving_full_fidelity_values_are_the_problems() -> None:
    pytest.importorskip("sklearn")
    problem = problems.get("bayesmark-knn-iris-acc")
    method = method_named(problem, "sklearn-halving")
    budget = Budget(max_evaluations=3)  # iris: 40 rows, then all 120 in the last iteration
    outcome = method.search(problem, 0, budget)
    result = outcome.result(method.name, budget, {})
    full = [e for e in outcome.evaluations if outcome.full(e)]
    assert full and outcome.final is None
    assert result.n_evaluations == 3 and len(result.points) == len(full)
    for evaluation, (_, value) in zip(full, result.points, strict=True):
        assert value == pytest.approx(problem.evaluate(evaluation.config))
    times = [t for t, _ in result.points]
    assert times == sorted(times) and result.info["clock"] == "wall-clock"


def test_sklearn_halving_scores_its_pick_and_respects_the_time_budget() -> None:
    pytest.importorskip("sklearn")
    problem = problems.get("bayesmark-dt-wine-acc")
    method = method_named(problem, "sklearn-halving")
    budget = Budget(max_evaluations=8)
    outcome = method.search(problem, 0, budget)
    result = outcome.result(method.name, budget, {})
    assert outcome.final is not None  # the last iteration stopped short of all rows
    assert result.points == [pytest.approx(outcome.final[:2])]
    assert outcome.final[1] == pytest.approx(problem.evaluate(outcome.final[2]))
    slow = problems.get("bayesmark-mlp-sgd-digits-acc")  # fits of ~0.1-1 s
    budget = Budget(max_time=0.5)
    result = method.run(slow, 0, budget)
    assert result.info["timed_out"] and result.elapsed <= 0.5
    assert all(t <= 0.5 for t, _ in result.points + result.any_fidelity)
