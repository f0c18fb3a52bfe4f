"""Issue 13, item 7: warm start. A searcher warm-started from parents that hold the optimum
region does at least as well as a cold one; a new parameter does not drop the parents; the
console and ``result.warm_start`` say what was used and dropped; the best parent is shown
next to the new best."""

from __future__ import annotations

import warnings

import pytest

import rung
from rung.storage import MemoryStorage

SPACE = {"x": rung.uniform(-2, 2), "y": rung.uniform(-2, 2)}
NEAR_OPTIMUM = {"x": rung.uniform(0.1, 0.5), "y": rung.uniform(-0.4, 0.0)}  # where the parents ran


def bowl(config):
    return (config["x"] - 0.31) ** 2 + (config["y"] + 0.2) ** 2


def _run(store, name, objective=bowl, space=SPACE, **options):
    options = {"metric": "loss", "backend": "inprocess", "storage": store, "verbose": 0, "seed": 0,
               "max_trials": 10, "experiment": name, **options}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return rung.Tuner(objective, space, **options).run()


def _own_best(result):
    return min(t.metric_value for t in result.trial_records if t.metric_value is not None)


# "auto" is left out: it hands the GP over to TPE by measured decision cost, so a run depends
# on the machine's speed (benchmarks/warm_start.py reports it: 5 and 6 of 6 seeds).
@pytest.mark.parametrize("searcher", ["random", "tpe", "gp"])
@pytest.mark.parametrize("seed", [0, 1])
def test_warm_start_does_at_least_as_well_as_cold_when_the_parents_hold_the_optimum_region(searcher, seed):
    store = MemoryStorage()
    _run(store, "parent", space=NEAR_OPTIMUM, searcher="random", max_trials=14, seed=seed + 100)
    # 20 trials, as in benchmarks/warm_start.py (which runs 6 seeds and Branin too).
    cold = _run(store, "cold", searcher=searcher, seed=seed, max_trials=20)
    warm = _run(store, "warm", searcher=searcher, seed=seed, warm_start="parent", max_trials=20)
    assert warm.warm_start["used"] == 14
    assert _own_best(warm) <= _own_best(cold), (searcher, seed, _own_best(warm), _own_best(cold))
    # The first own trial re-measures the best parent config.
    best = warm.warm_start["best_parent"]
    assert warm.trial_records[0].config == best["config"]
    assert warm.trial_records[0].metric_value == pytest.approx(best["value"])


def test_warm_start_under_asha_feeds_every_report_and_starts_from_the_best_parent():
    from rung.schedulers import ASHA

    def curve(config):
        for epoch in range(1, 10):
            rung.report(epoch=epoch, loss=bowl(config) + 1.0 / epoch)

    store = MemoryStorage()
    parent = _run(store, "parent", objective=curve, space=NEAR_OPTIMUM, searcher="random", max_trials=12,
                  scheduler=ASHA(max_resource=9))
    stopped = parent.count("stopped")
    warm = _run(store, "warm", objective=curve, searcher="bohb", scheduler=ASHA(max_resource=9),
                warm_start="parent")
    summary = warm.warm_start
    assert summary["used"] == 12
    assert summary["by_status"] == {k: v for k, v in (("completed", parent.count("completed")),
                                                     ("stopped", stopped)) if v}
    assert warm.trial_records[0].config == summary["best_parent"]["config"]


def test_a_new_parameter_keeps_every_parent_trial():
    store = MemoryStorage()
    _run(store, "parent", objective=lambda c: (c["x"] - 0.31) ** 2, space={"x": rung.uniform(-2, 2)},
         searcher="random", max_trials=14)
    wider = {**SPACE, "layers": rung.randint(1, 5), "act": rung.choice(["relu", "tanh", "gelu"]), "bias": 1.0}
    warm = _run(store, "warm", space=wider, searcher="tpe", warm_start="parent", max_trials=3)
    summary = warm.warm_start
    assert summary["used"] == 14 and summary["dropped"] == []
    imputed = summary["imputed_parameters"]["parent"]
    assert imputed == {"y": 0.0, "act": "tanh", "bias": 1.0, "layers": imputed["layers"]}
    assert imputed["layers"] in (2, 3)  # the middle of 1..4 (randint's high is exclusive)
    assert warm.trial_records[0].config["x"] == summary["best_parent"]["config"]["x"]


def test_dropped_parents_are_listed_with_their_reason_and_failures_are_fed_as_failures():
    def sometimes_fails(config):
        if config["x"] > 1.5:
            raise ValueError("diverged")
        return bowl(config)

    store = MemoryStorage()
    parent = _run(store, "parent", objective=sometimes_fails, searcher="random", max_trials=20,
                  max_initial_failures=None)
    narrower = {"x": rung.uniform(-1, 1), "y": rung.uniform(-2, 2)}
    warm = _run(store, "warm", space=narrower, searcher="gp", warm_start="parent", max_trials=2)
    summary = warm.warm_start
    inside = [t for t in parent.trial_records if -1 <= t.config["x"] <= 1]
    assert summary["used"] == len(inside)
    assert len(summary["dropped"]) == 20 - len(inside)
    assert all("'x'" in item["reason"] for item in summary["dropped"])
    failed_outside = [t for t in parent.trial_records if t.status is rung.TrialStatus.FAILED]
    assert failed_outside and all(t.config["x"] > 1.5 for t in failed_outside)  # all dropped: outside


def test_the_console_says_what_was_used_and_shows_the_best_parent_next_to_the_new_best(capsys):
    store = MemoryStorage()
    _run(store, "parent", space=NEAR_OPTIMUM, searcher="random", max_trials=14)
    capsys.readouterr()
    warm = _run(store, "warm", searcher="gp", warm_start="parent", max_trials=3, verbose=1)
    err = capsys.readouterr().err
    best = warm.warm_start["best_parent"]
    assert "warm start: 14 parent trial(s) used (14 completed)" in err
    assert f"best parent: {best['value']:.6g} (parent trial {best['trial_id']}), tried first" in err
    assert f"best warm-start parent {best['value']:.6g} (parent trial {best['trial_id']})" in err
