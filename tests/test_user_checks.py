"""Nothing silently wrong (issue 13, items 8, 9 and 15): a searcher for another problem, a
scheduler whose resource no report holds or whose maximum no trial reaches, Grid's hint."""

import warnings

import pytest

import rung
from rung.schedulers import ASHA, MedianStopping
from rung.searchers import GP, TPE, Grid, Random
from rung.space import SpaceError

SPACE = {"x": rung.uniform(0, 1), "units": rung.choice(16, 32)}


def _value(config):
    return config["x"] + config["units"] / 100


def _tuner(searcher, mode="min", **kwargs):
    return rung.Tuner(_value, SPACE, metric="score", mode=mode, searcher=searcher, max_trials=4,
                      backend="inprocess", storage=":memory:", verbose=0, **kwargs)


# -- item 8 ------------------------------------------------------------------------------------------


def test_a_searcher_built_without_metric_takes_the_tuners_metric_and_mode():
    finite = {"units": rung.choice(16, 32, 64)}
    result = rung.Tuner(lambda c: c["units"], finite, metric="score", mode="max", searcher=Grid(finite),
                        backend="inprocess", storage=":memory:", verbose=0).run()
    assert result.best_value == 64 and result.best_config == {"units": 64}
    searcher = Random(SPACE, seed=0)
    tuner = _tuner(searcher, mode="max")
    assert tuner.searcher is searcher and (searcher.metric, searcher.mode) == ("score", "max")
    assert _tuner(TPE(SPACE, metric="score", mode="max"), mode="max").searcher.mode == "max"


@pytest.mark.parametrize(
    "searcher, expected",
    [
        (Grid({"units": rung.choice(16, 32)}), "only in the tuner's: x"),
        (Random({**SPACE, "extra": rung.uniform(0, 1)}), "only in the searcher's: extra"),
        (TPE({"x": rung.uniform(0, 2), "units": rung.choice(16, 32)}, metric="score"),
         "x: uniform(0.0, 2.0) in the searcher's, uniform(0.0, 1.0) in the tuner's"),
    ],
)
def test_a_searcher_built_on_another_space_is_refused_saying_what_differs(searcher, expected):
    with pytest.raises(ValueError) as info:
        _tuner(searcher)
    message = str(info.value)
    assert "built on another space than the tuner's" in message and expected in message
    assert f"{type(searcher).__name__}(space, ...)" in message


def test_a_searcher_built_for_another_metric_or_mode_is_refused_saying_which():
    with pytest.raises(ValueError, match="built with metric='loss' but the tuner's metric is 'score'"):
        _tuner(TPE(SPACE, metric="loss"))
    with pytest.raises(ValueError, match="built with mode='min' but the tuner's mode is 'max'"):
        _tuner(GP(SPACE, metric="score", mode="min"), mode="max")


def test_the_same_space_written_again_is_the_same_space():
    copy = {"x": rung.uniform(0, 1), "units": rung.choice([16, 32])}
    assert _tuner(TPE(copy, metric="score")).run().count("completed") == 4


# -- item 9 ------------------------------------------------------------------------------------------


def _epochs(config):
    for epoch in range(1, 11):
        rung.report(epoch=epoch, loss=config["x"] / epoch)


def _run(scheduler, objective=_epochs, n_workers=1):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = rung.Tuner(objective, {"x": rung.uniform(0, 1)}, metric="loss", mode="min", scheduler=scheduler,
                            max_trials=8, backend="inprocess", storage=":memory:", verbose=0, seed=0).run()
    return result, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("scheduler", [ASHA("epochs", max_resource=10),
                                       MedianStopping("epochs")], ids=["asha", "median"])
def test_a_resource_name_no_report_holds_stops_the_experiment_at_the_first_report(scheduler):
    result, messages = _run(scheduler)
    assert result.stop_reason == "resource_missing"
    assert len(result.trial_records) == 1  # stopped at the first report, before any other trial
    trial = result.trial_records[0]
    assert trial.status.value == "failed" and trial.n_reports == 0
    for text in (trial.error, messages[0]):
        assert "report field 'epochs'" in text and "has no 'epochs'" in text
        assert f"did you mean {type(scheduler).__name__}(resource_attr='epoch')?" in text
    assert len([m for m in messages if "'epochs'" in m]) == 1


def test_without_a_close_name_the_message_says_how_to_report_the_resource():
    def no_resource(config):
        rung.report(loss=config["x"])

    result, messages = _run(ASHA("epoch", max_resource=10), objective=no_resource)
    assert result.stop_reason == "resource_missing"
    assert "rung.report(epoch=..., ...)" in messages[0]


def test_a_report_lacking_the_resource_after_others_had_it_is_not_fatal():
    def summary_report(config):
        for epoch in range(1, 4):
            rung.report(epoch=epoch, loss=config["x"] / epoch)
        rung.report(loss=config["x"] / 4)  # a last report without the resource

    result, messages = _run(ASHA("epoch", max_resource=3), objective=summary_report)
    assert result.stop_reason == "max_trials"
    assert not any("resource" in m and "has no" in m for m in messages)


def test_a_max_resource_no_trial_reaches_is_warned_about_once():
    result, messages = _run(ASHA("epoch", max_resource=27))
    assert result.stop_reason == "max_trials" and result.count("completed") >= 1
    unreached = [m for m in messages if "max_resource=27" in m]
    assert len(unreached) == 1
    assert "no trial reported epoch >= 27" in unreached[0] and "the highest was epoch=10" in unreached[0]
    assert "set max_resource=10" in unreached[0]
    _, fine = _run(ASHA("epoch", max_resource=10))
    assert not any("max_resource" in m for m in fine)


# -- item 15 -----------------------------------------------------------------------------------------


def test_grids_hint_names_a_call_that_exists():
    with pytest.raises(SpaceError) as info:
        Grid({"lr": rung.loguniform(1e-3, 1)})
    message = str(info.value)
    assert "rung.searchers.Grid(space, num_points=5)" in message and "num_points={'lr': 5}" in message
    # and the call it names works
    assert Grid({"lr": rung.loguniform(1e-3, 1)}, num_points=5).size == 5
    assert Grid({"lr": rung.loguniform(1e-3, 1)}, num_points={"lr": 3}).size == 3
