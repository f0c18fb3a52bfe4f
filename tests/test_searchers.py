"""Conformance suite: every searcher passes the same tests, plus each one's own behaviour."""

import itertools
import warnings

import numpy as np
import pytest

import rung
from rung.searchers import BOHB, GP, MOBSTER, TPE, Auto, Grid, Random
from rung.testing.searchers import (
    SEARCHER_CHECKS,
    check_deterministic,
    check_exhaustion,
    check_searcher,
    take,
)

MIXED = {
    "lr": rung.loguniform(1e-4, 1e-1),
    "batch": rung.quniform(16, 256, 16),
    "layers": rung.randint(1, 3),
    "units_3": rung.randint(8, 64).when("layers", ">=", 3),
    "optimizer": rung.choice(["sgd", "adam"]),
    "momentum": rung.quniform(0.5, 0.9, 0.1).when("optimizer", "==", "sgd"),
    "epochs": 5,
}
FACTORIES = {
    "random": lambda space, seed, **kw: Random(space, metric="loss", mode="min", seed=seed, **kw),
    "grid": lambda space, seed, **kw: Grid(space, metric="loss", mode="min", seed=seed, num_points=4, shuffle=True,
                                           **kw),
    "tpe": lambda space, seed, **kw: TPE(space, metric="loss", mode="min", seed=seed, n_initial=5, **kw),
    "gp": lambda space, seed, **kw: GP(space, metric="loss", mode="min", seed=seed, n_initial=5, **kw),
    # Multi-fidelity searchers without a multi-fidelity scheduler: final results only.
    "bohb": lambda space, seed, **kw: BOHB(space, metric="loss", mode="min", seed=seed, min_points=5, **kw),
    "mobster": lambda space, seed, **kw: MOBSTER(space, metric="loss", mode="min", seed=seed, n_initial=5, **kw),
    # The default: on MIXED (conditional parameters) it delegates to TPE with its defaults.
    "auto": lambda space, seed, **kw: Auto(space, metric="loss", mode="min", seed=seed, **kw),
}
#: Checks of the shipped suite that do not apply to a searcher (Grid has no starting points).
SKIP = {"grid": ("points_to_evaluate_first",)}


@pytest.mark.parametrize(
    ("name", "check"),
    [(name, check) for name in FACTORIES for check_name, check in SEARCHER_CHECKS
     if check_name not in SKIP.get(name, ())],
    ids=[f"{name}-{check_name}" for name in FACTORIES for check_name, _ in SEARCHER_CHECKS
         if check_name not in SKIP.get(name, ())],
)
def test_conformance(name, check):
    check(FACTORIES[name])


def test_same_seed_same_configs_with_the_suites_driver():
    a = take(FACTORIES["tpe"](MIXED, 3), 30)
    assert a == take(FACTORIES["tpe"](MIXED, 3), 30)
    assert a != take(FACTORIES["tpe"](MIXED, 4), 30)


class _Forgetful(Random):
    """Broken on purpose: ignores its seed after the first config."""

    def suggest(self):
        config = super().suggest()
        self.rng = np.random.default_rng()
        return config


class _Endless(Grid):
    """Broken on purpose: claims to be infinite but runs out."""

    @property
    def is_finite(self):
        return False


def test_the_suite_catches_broken_searchers():
    with pytest.raises(AssertionError, match="'deterministic'"):
        check_deterministic(lambda space, seed, **kw: _Forgetful(space, metric="loss", seed=seed, **kw))
    with pytest.raises(AssertionError, match="'exhaustion'"):
        check_exhaustion(lambda space, seed, **kw: _Endless(space, metric="loss", seed=seed, **kw))
    with pytest.raises(AssertionError, match="'points_to_evaluate_first'"):
        check_searcher(FACTORIES["grid"])
    check_searcher(FACTORIES["random"])


def mixed_loss(config):
    units = config.get("units_3", 0) / 64
    return (np.log10(config["lr"]) + 2.5) ** 2 + config["batch"] / 256 + 0.1 * config["layers"] - units


@pytest.mark.parametrize("name", FACTORIES)
def test_resumed_experiment_replays_the_searchers_choices(name, tmp_path, monkeypatch):
    """Also for ``auto``, whose cost rule hands the GP over to TPE at a point that depends
    on timing: here it always hands over (share 0), after its 10th suggestion, and the
    resumed run repeats the logged handover instead of measuring again."""
    from rung.searchers import _auto

    monkeypatch.setattr(_auto, "MAX_DECISION_SHARE", 0.0)
    url = tmp_path / "s.db"
    searchers = []

    def go(experiment, max_trials, resume=False):
        searchers.append(FACTORIES[name](MIXED, 3))
        return rung.Tuner(mixed_loss, MIXED, metric="loss", searcher=searchers[-1],
                          max_trials=max_trials, seed=3, backend="inprocess", verbose=0, storage=url,
                          experiment=experiment, resume=resume).run()

    straight = go("straight", 20)
    go("halves", 11)  # past the initial design of the model-based searchers (5 configs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a replayed suggestion that differs from the log warns
        resumed = go("halves", 20, resume=True)
    columns = ["trial_id", *[f"config/{key}" for key in MIXED], "loss"]
    assert straight.trials[columns].equals(resumed.trials[columns])
    if name == "auto":
        assert [[c.name for c in s.picks] for s in searchers] == [["gp", "tpe"]] * 3
        assert searchers[1].handovers == searchers[2].handovers  # repeated, reason and all


@pytest.mark.parametrize("cls", [Random, Grid, TPE, GP, BOHB, MOBSTER])
def test_searcher_rejects_a_bad_mode_and_metric(cls):
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        cls({"k": rung.choice([1, 2])}, metric="loss", mode="up")
    with pytest.raises(ValueError, match="metric must be a non-empty string"):
        cls({"k": rung.choice([1, 2])}, metric=3)


def test_random_evaluates_starting_points_first_and_fills_in_missing_parameters():
    points = [{"lr": 0.01, "layers": 3, "units_3": 32, "optimizer": "adam", "batch": 64}, {"lr": 0.001}]
    searcher = Random(MIXED, seed=0, points_to_evaluate=points)
    first, second, third = searcher.suggest(), searcher.suggest(), searcher.suggest()
    assert first == {**points[0], "epochs": 5}
    assert second["lr"] == 0.001 and set(second) >= {"batch", "layers", "optimizer", "epochs"}
    assert third["lr"] != 0.001


@pytest.mark.parametrize(
    ("point", "param"),
    [({"lr": 5.0}, "lr"), ({"depth": 3}, "depth"), ({"layers": 1, "units_3": 8}, "units_3"), ({"optimizer": "sgdd"}, "optimizer")],
)
def test_random_refuses_bad_starting_points_naming_the_parameter(point, param):
    with pytest.raises(rung.SpaceError, match=f"'{param}'") as info:
        Random(MIXED, points_to_evaluate=[point])
    assert "points_to_evaluate[0]" in str(info.value)
    assert info.value.param == param


def test_random_covers_the_space():
    configs = take(Random({"x": rung.uniform(0, 1)}, seed=0), 2000)
    xs = np.array([c["x"] for c in configs])
    counts, _ = np.histogram(xs, bins=10, range=(0, 1))
    assert counts.min() > 150


def test_grid_is_the_cartesian_product_once_each_in_order():
    space = {"a": rung.choice(["x", "y"]), "b": rung.randint(1, 3), "c": rung.quniform(0, 1, 0.5), "d": "const"}
    searcher = Grid(space)
    configs = take(searcher, 100)
    expected = [
        {"a": a, "b": b, "c": c, "d": "const"}
        for a, b, c in itertools.product(["x", "y"], [1, 2, 3], [0.0, 0.5, 1.0])
    ]
    assert configs == expected
    assert searcher.suggest() is None
    assert searcher.size == 18


def test_grid_with_conditions_has_no_duplicates():
    space = {"layers": rung.randint(1, 3), "units_3": rung.choice([8, 16]).when("layers", ">=", 3)}
    configs = take(Grid(space), 100)
    assert configs == [{"layers": 1}, {"layers": 2}, {"layers": 3, "units_3": 8}, {"layers": 3, "units_3": 16}]


def test_grid_refuses_a_continuous_domain_unless_given_points():
    with pytest.raises(rung.SpaceError, match="'lr'.*num_points"):
        Grid({"lr": rung.loguniform(1e-3, 1e-1), "k": rung.choice([1, 2])})
    configs = take(Grid({"lr": rung.loguniform(1e-3, 1e-1)}, num_points=3), 10)
    assert [c["lr"] for c in configs] == pytest.approx([1e-3, 1e-2, 1e-1])


def test_grid_shuffle_is_a_seeded_permutation():
    space = {"a": rung.randint(0, 9), "b": rung.choice([0, 1])}
    ordered = take(Grid(space), 100)
    shuffled = take(Grid(space, shuffle=True, seed=1), 100)
    assert shuffled != ordered
    assert sorted(map(str, shuffled)) == sorted(map(str, ordered))
    assert shuffled == take(Grid(space, shuffle=True, seed=1), 100)


def test_tuner_with_a_finished_grid_stops_as_exhausted():
    result = rung.Tuner(lambda c: c["a"], {"a": rung.choice([3, 1, 2])}, metric="loss", searcher="grid",
                        backend="inprocess", verbose=0).run()
    assert result.stop_reason == "search_exhausted"
    assert result.best_config == {"a": 1}
