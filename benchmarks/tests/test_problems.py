"""The benchmark problems of issue 5 (``benchmarks/problems``): registry, spaces, optima,
the ``steps`` protocol and resuming, table lookups, a real Bayesmark evaluation, MNIST-1D
and pickling."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import rung

# benchmarks/ is a folder of the repository, not part of the installed package

from benchmarks import problems
from benchmarks.problems import bayesmark, tabulated
from benchmarks.problems._functions import BRANIN_ARGMINS, HARTMANN6_ARGMIN
from benchmarks.problems.multifidelity import MultiFidelityHartmann6
from benchmarks.problems.synthetic import Hartmann6

HAVE_TABLES = (tabulated.data_root() / "lcbench" / "space.json").exists()
needs_tables = pytest.mark.skipif(not HAVE_TABLES, reason="shared/bench-data not found")


def _usable(name: str) -> bool:
    return HAVE_TABLES or name not in problems.names("tabulated")


CHEAP = [n for n in problems.names() if not n.startswith("bayesmark-") and n != "mnist1d-mlp"]


# -- registry ---------------------------------------------------------------------------


def test_registry_lists_every_family_by_kind():
    synthetic = problems.names("synthetic")
    assert {"branin", "hartmann6", "ackley5", "rastrigin5", "mf-hartmann6-lowbias",
            "mf-hartmann6-highbias", "mf-hartmann6-noisy", "counting-ones-16d"} <= set(synthetic)
    assert problems.names("tabulated") == [
        "lcbench-3945", "lcbench-34539", "lcbench-126026", "lcbench-146212", "lcbench-167104",
        "xgboost-1489", "lcbench-sf-3945", "lcbench-sf-34539", "lcbench-sf-126026",
        "lcbench-sf-146212", "lcbench-sf-167104", "xgboost-sf-1489"]
    real = problems.names("real")
    assert "mnist1d-mlp" in real
    bayes = [n for n in real if n.startswith("bayesmark-")]
    assert len(bayes) == 9 * 4 * 2 + 9 * 2  # 9 models; 4 clf data sets x 2 metrics; diabetes x 2
    assert not any("boston" in n for n in bayes)
    assert sorted(problems.names()) == sorted(synthetic + problems.names("tabulated") + real)
    for name in problems.names():
        problem = problems.get(name)
        assert problem.name == name and problem.kind in problems.KINDS
    with pytest.raises(KeyError, match="did you mean branin"):
        problems.get("branen")
    with pytest.raises(ValueError, match="unknown kind"):
        problems.names("surrogate")


@pytest.mark.parametrize("name", [n for n in problems.names() if _usable(n)])
def test_every_space_is_a_valid_rung_space(name):
    problem = problems.get(name)
    space = rung.Space(problem.space)
    assert len(space.tunable_names) >= 2
    assert problem.mode in ("min", "max") and isinstance(problem.metric, str)
    assert problem.min_resource <= problem.max_resource
    assert (problem.fidelity is None) == (problem.n_steps == 1)
    assert isinstance(problem.optimum_note, str) and problem.optimum_note
    space.validate(problem.default_config())
    sample = space.sample(np.random.default_rng(0))
    assert space.validate(sample) == sample


# -- values -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in CHEAP if _usable(n)])
def test_sampled_configs_evaluate_to_finite_values(name):
    problem = problems.get(name)
    rng = np.random.default_rng(1)
    for _ in range(5):
        value = problem.evaluate(problem.rung_space().sample(rng))
        assert math.isfinite(value)
        if problem.optimum is not None:  # nothing beats the optimum
            sign = 1.0 if problem.mode == "min" else -1.0
            assert sign * (value - problem.optimum) >= -1e-9


def test_known_optima_reproduce():
    branin = problems.get("branin")
    for x1, x2 in BRANIN_ARGMINS:
        assert branin.evaluate({"x1": x1, "x2": x2}) == pytest.approx(0.397887, abs=1e-5)
    assert branin.optimum == 0.397887
    hartmann = problems.get("hartmann6")
    x_star = {f"x{i}": v for i, v in enumerate(HARTMANN6_ARGMIN)}
    assert hartmann.evaluate(x_star) == pytest.approx(-3.32237, abs=1e-5)
    assert hartmann.optimum == -3.32237
    for name in ("ackley5", "rastrigin5"):
        problem = problems.get(name)
        assert problem.evaluate({f"x{i}": 0.0 for i in range(5)}) == pytest.approx(0.0, abs=1e-12)
        assert problem.optimum == 0.0
        assert problem.evaluate({f"x{i}": 1.0 for i in range(5)}) > 1.0


@pytest.mark.parametrize("n", [8, 16, 32])
def test_counting_ones_optimum_is_exact_at_every_budget(n):
    problem = problems.get(f"counting-ones-{2 * n}d")
    ones = {**{f"b{i}": 1 for i in range(n)}, **{f"x{i}": 1.0 for i in range(n)}}
    values = [m["value"] for _, m in problem.steps(ones)]
    assert values == [-2.0 * n] * problem.n_steps and problem.optimum == -2.0 * n
    half = {**{f"b{i}": 0 for i in range(n)}, **{f"x{i}": 0.5 for i in range(n)}}
    final = problem.evaluate(half)  # mean of 729 samples per dim: close to -n / 2
    assert final == pytest.approx(problem.expected_value(half), abs=0.1 * n)


@pytest.mark.parametrize("name", ["mf-hartmann6-lowbias", "mf-hartmann6-highbias",
                                  "mf-hartmann6-noisy"])
def test_multifidelity_hartmann_at_full_fidelity_is_hartmann(name):
    problem, plain = problems.get(name), Hartmann6()
    rng = np.random.default_rng(2)
    configs = [{f"x{i}": v for i, v in enumerate(HARTMANN6_ARGMIN)}]
    configs += [problem.rung_space().sample(rng) for _ in range(5)]
    for config in configs:
        curve = [m["value"] for _, m in problem.steps(config)]
        assert curve[-1] == pytest.approx(plain.evaluate(config), abs=1e-12)
    assert problem.optimum == plain.optimum
    # low epochs differ from the final value (bias and/or noise)
    assert curve[0] != pytest.approx(curve[-1], abs=1e-6)


def test_high_bias_points_low_fidelity_to_the_wrong_basin():
    problem = problems.get("mf-hartmann6-highbias")
    x_star = np.array(HARTMANN6_ARGMIN)
    local = np.array([0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381])  # centre of term 4
    assert problem.value_at(x_star, 1.0) < problem.value_at(local, 1.0)
    assert problem.value_at(x_star, 1 / 27) > problem.value_at(local, 1 / 27)


def test_noise_is_fixed_per_config_and_seed():
    config = {f"x{i}": 0.3 for i in range(6)}
    a = MultiFidelityHartmann6(0.1, 0.3)
    b = MultiFidelityHartmann6(0.1, 0.3, seed=1)
    first = [m["value"] for _, m in a.steps(config)]
    assert first == [m["value"] for _, m in a.steps(config)]
    assert first[:-1] != [m["value"] for _, m in b.steps(config)][:-1]
    assert first[-1] == [m["value"] for _, m in b.steps(config)][-1]


# -- steps protocol ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in CHEAP if _usable(n)])
def test_steps_reach_max_resource_and_resume(name):
    problem = problems.get(name)
    config = problem.rung_space().sample(np.random.default_rng(3))
    steps = list(problem.steps(config, 0))
    assert len(steps) == problem.n_steps
    assert all(seconds > 0 and math.isfinite(seconds) for seconds, _ in steps)
    assert all(math.isfinite(m[problem.metric]) for _, m in steps)
    if problem.fidelity is not None:
        resources = [m[problem.fidelity] for _, m in steps]
        assert resources == list(problem.levels)
        assert all(b > a for a, b in zip(resources, resources[1:]))
        assert resources[0] == problem.min_resource and resources[-1] == problem.max_resource
    for start in {1, problem.n_steps // 2, problem.n_steps - 1, problem.n_steps}:
        assert list(problem.steps(config, start)) == steps[start:]
    with pytest.raises(ValueError):
        problem.steps(config, problem.n_steps + 1)
    with pytest.raises(rung.SpaceError):
        problem.steps({**config, "not_a_parameter": 1})


def test_synthetic_cost_models():
    assert [d for d, _ in problems.get("branin").steps({"x1": 0.0, "x2": 0.0})] == [1.0]
    mf = problems.get("mf-hartmann6-lowbias")
    cheap, dear = {f"x{i}": 0.0 for i in range(6)}, {f"x{i}": 1.0 for i in range(6)}
    assert sum(d for d, _ in mf.steps(cheap)) == pytest.approx(27 * 5.0)
    assert sum(d for d, _ in mf.steps(dear)) == pytest.approx(27 * 15.0)
    ones = problems.get("counting-ones-16d")
    durations = [d for d, _ in ones.steps(ones.default_config())]
    assert durations == pytest.approx([0.9, 1.8, 5.4, 16.2, 48.6])


# -- tabulated --------------------------------------------------------------------------


MULTI_FIDELITY_TABLES = [n for n in problems.names("tabulated") if "-sf-" not in n]
SINGLE_FIDELITY_TABLES = [n for n in problems.names("tabulated") if "-sf-" in n]


@needs_tables
@pytest.mark.parametrize("name", MULTI_FIDELITY_TABLES)
def test_tabulated_configs_get_their_own_rows(name):
    problem = problems.get(name)
    table = problem.table()
    assert np.allclose(table.fidelities, problem.levels)
    assert len(problem.configs()) == 2000
    final = table.metrics[problem.metric][:, -1]
    assert problem.optimum == (final.max() if problem.mode == "max" else final.min())
    for row in (0, 1, 7, 1234, 1999):
        config = table.configs[row]
        assert problem.nearest(config)[0] == row
        values = [m[problem.metric] for _, m in problem.steps(config)]
        assert values == pytest.approx(table.metrics[problem.metric][row].tolist())
        assert problem.evaluate(config) == pytest.approx(problem.table_value(row))


@needs_tables
@pytest.mark.parametrize("name", SINGLE_FIDELITY_TABLES)
def test_single_fidelity_tables_answer_the_last_level_in_one_step(name):
    problem = problems.get(name)
    full = problems.get(name.replace("-sf-", "-"))
    assert problem.fidelity is None and problem.levels == (1,) and problem.kind == "tabulated"
    assert problem.space.keys() == full.space.keys()
    assert problem.optimum == full.optimum
    table = problem.table()
    rng = np.random.default_rng(11)
    configs = [table.configs[row] for row in (0, 3, 1999)]
    configs += [problem.rung_space().sample(rng) for _ in range(5)]
    for config in configs:
        row, _ = problem.nearest(config)
        assert row == full.nearest(config)[0]
        steps = list(problem.steps(config))
        assert len(steps) == 1
        seconds, metrics = steps[0]
        assert problem.fidelity not in metrics and set(metrics) == {problem.metric, *problem.extra_metrics}
        assert metrics[problem.metric] == pytest.approx(full.table_value(row))
        assert metrics[problem.metric] == pytest.approx(full.evaluate(config))
        # the whole evaluation's cost: every level's step of the multi-fidelity problem, or,
        # for XGBoost (a new training per level), the training at the full training set
        full_steps = [d for d, _ in full.steps(config)]
        expected = sum(full_steps) if problem.cumulative_time else full_steps[-1]
        assert seconds == pytest.approx(expected)
    assert list(problem.steps(configs[0], start_step=1)) == []


@needs_tables
def test_lcbench_charges_the_monotone_cumulative_time():
    problem = problems.get("lcbench-146212")  # the task with most non-monotone times
    times = problem.table().metrics["time"]
    for row in range(0, 2000, 97):
        durations = [d for d, _ in problem.steps(problem.table().configs[row])]
        assert sum(durations) == pytest.approx(np.max(times[row]), abs=52e-3 + 1e-6)
        assert sum(durations[:10]) == pytest.approx(np.max(times[row, :10]), abs=10e-3 + 1e-6)


@needs_tables
def test_xgboost_is_conditional_and_answers_with_a_matching_booster():
    problem = problems.get("xgboost-1489")
    space = problem.rung_space()
    rng = np.random.default_rng(4)
    seen = set()
    for _ in range(60):
        config = space.sample(rng)
        seen.add(config["booster"])
        assert ("eta" in config) == (config["booster"] != "gblinear")
        assert ("rate_drop" in config) == (config["booster"] == "dart")
        row, answer = problem.nearest(config)
        assert answer["booster"] == config["booster"]
        steps = list(problem.steps(config))
        assert [d for d, _ in steps] == pytest.approx(problem.table().metrics["timetrain"][row])
    assert seen == {"gblinear", "gbtree", "dart"}
    assert problem.default_config()["booster"] == "gblinear"


@needs_tables
def test_nearest_row_is_nearest_in_the_unit_cube():
    problem = problems.get("lcbench-34539")
    table = problem.table()
    config = problem.rung_space().sample(np.random.default_rng(5))
    row, _ = problem.nearest(config)
    unit = problem.rung_space().to_unit(config)
    distances = np.sum((table.numeric - unit) ** 2, axis=1)
    assert row == int(np.argmin(distances))


# -- real problems ----------------------------------------------------------------------


def test_bayesmark_problem_evaluates_a_default_config():
    problem = problems.get("bayesmark-svm-wine-acc")
    assert problem.kind == "real" and problem.metric == "cv_error" and problem.mode == "min"
    config = problem.default_config()
    (seconds, metrics), = list(problem.steps(config))
    assert seconds > 0 and 0.0 <= metrics["cv_error"] <= 1.0
    assert problem.evaluate(config) == metrics["cv_error"]  # seeded: reproducible


@pytest.mark.parametrize("model", bayesmark.MODELS)
def test_every_bayesmark_model_trains_on_iris(model):
    problem = problems.get(f"bayesmark-{model}-iris-nll")
    assert math.isfinite(problem.evaluate(problem.default_config()))


def test_bayesmark_regression_with_the_old_normalize_option():
    problem = problems.get("bayesmark-lasso-diabetes-mse")
    config = {**problem.default_config(), "normalize": True, "alpha": 0.05}
    normalized = problem.evaluate(config)
    plain = problem.evaluate({**config, "normalize": False})
    assert math.isfinite(normalized) and normalized != plain
    ridge = problems.get("bayesmark-linear-diabetes-mae")
    assert 0 < ridge.evaluate(ridge.default_config()) < 100


def test_mnist1d_mlp_trains_by_epochs_and_resumes():
    pytest.importorskip("torch")
    pytest.importorskip("mnist1d")
    from benchmarks.problems.mnist1d import Mnist1dMLP, cache_path

    problem = Mnist1dMLP(max_epochs=3)
    assert problems.get("mnist1d-mlp").max_resource == 27
    config = {**problem.default_config(), "batch_size": 256}
    steps = list(problem.steps(config))
    assert cache_path().exists()  # generated once under RUNG_HOME
    assert [m["epoch"] for _, m in steps] == [1, 2, 3]
    assert all(seconds > 0 and 0.0 <= m["val_error"] <= 1.0 for seconds, m in steps)
    assert steps[-1][1]["val_error"] < 0.85  # it learns something
    resumed = list(problem.steps(config, 2))
    assert [m for _, m in resumed] == [m for _, m in steps[2:]]


# -- pickling and use with rung ---------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in problems.names() if _usable(n)])
def test_problems_pickle(name):
    problem = problems.get(name)
    problem.rung_space()  # a cached space must not make pickling fail or grow
    data = pickle.dumps(problem)
    assert len(data) < 4000
    copy = pickle.loads(data)
    assert (copy.name, copy.metric, copy.levels, copy.optimum) == (
        problem.name, problem.metric, problem.levels, problem.optimum)
    if name in CHEAP:
        config = problem.default_config()
        assert copy.evaluate(config) == problem.evaluate(config)


def test_a_problem_drives_a_rung_tuner():
    problem = problems.get("mf-hartmann6-noisy")

    def objective(config):
        for _, metrics in problem.steps(config):
            rung.report(**metrics)

    result = rung.Tuner(objective, problem.space, metric=problem.metric, mode=problem.mode,
                        max_trials=3, backend="inprocess", verbose=0, storage=":memory:",
                        seed=0).run()
    assert len(result.reports) == 3 * 27
    assert result.best_value >= problem.optimum
