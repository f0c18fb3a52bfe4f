"""Issue 13, items 4 and 5: trials are told their budget and never run past it; ASHA with
promotion carries the best configs to the top rung once no new trial can start."""

from __future__ import annotations

import collections
import json

import pytest

import rung
from rung.schedulers import ASHA, Hyperband, ResumeTrial, StartTrial, SuccessiveHalving
from test_schedulers_support import Driver

SPACE = {"x": rung.uniform(0, 1)}


def _tune(objective, scheduler, max_trials=12, backend="inprocess", **options):
    return rung.Tuner(objective, SPACE, metric="loss", scheduler=scheduler, max_trials=max_trials,
                      backend=backend, storage=":memory:", verbose=0, seed=3, searcher="random",
                      **options).run()


def ignores_the_cap(config):
    """Trains 10 epochs whatever it is told (today's README objective)."""
    for epoch in range(1, 11):
        rung.report(epoch=epoch, loss=(config["x"] - 0.3) ** 2 + 1.0 / epoch)


TOLD: list[tuple[float, int, int | float | None]] = []  # (x, config["max_epochs"], resource_limit())


def d2l_style(config):
    """Reads its budget from the config, as d2l's ``config["max_epochs"]`` (in-process: TOLD)."""
    TOLD.append((config["x"], config["max_epochs"], rung.resource_limit()))
    for epoch in range(1, config["max_epochs"] + 1):
        rung.report(epoch=epoch, loss=(config["x"] - 0.3) ** 2 + 1.0 / epoch)


SCHEDULERS = {
    "asha-stopping": lambda **kw: ASHA(max_resource=5, reduction_factor=2, **kw),
    "asha-promotion": lambda **kw: ASHA(max_resource=5, reduction_factor=2, type="promotion", **kw),
    "successive-halving": lambda **kw: SuccessiveHalving(max_resource=5, reduction_factor=2, **kw),
    "hyperband": lambda **kw: Hyperband(max_resource=5, reduction_factor=2, **kw),
    "hyperband-stopping": lambda **kw: Hyperband(max_resource=5, reduction_factor=2, type="stopping", **kw),
    "hyperband-promotion": lambda **kw: Hyperband(max_resource=5, reduction_factor=2, type="promotion", **kw),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_no_trial_reports_past_max_resource_and_trials_there_are_completed(name):
    result = _tune(ignores_the_cap, SCHEDULERS[name]())
    epochs = collections.defaultdict(list)
    for report in result.report_records:
        epochs[report.trial_id].append(report.metrics["epoch"])
    assert max(max(e) for e in epochs.values()) == 5  # never epoch 6 with max_resource=5
    at_max = {t for t, e in epochs.items() if max(e) == 5}
    assert at_max, "some trial must reach max_resource"
    for trial in result.trial_records:
        if trial.trial_id in at_max:
            assert trial.status is rung.TrialStatus.COMPLETED, (trial.trial_id, trial.status, trial.end_reason)
            assert trial.end_reason == "reached max_resource epoch=5"
        else:
            assert trial.status is not rung.TrialStatus.COMPLETED


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_trials_are_told_their_limit_in_the_config_and_by_resource_limit(name):
    scheduler = SCHEDULERS[name](max_resource_attr="max_epochs")
    TOLD.clear()
    result = _tune(d2l_style, scheduler)
    assert all("max_epochs" not in t.config for t in result.trial_records)  # the searcher's view is the space's
    assert len(TOLD) == sum(t.n_starts for t in result.trial_records)  # one entry per launch
    assert all(cap == limit and isinstance(cap, int) for _, cap, limit in TOLD)
    assert {cap for _, cap, _ in TOLD} <= set(scheduler.levels)
    # Each trial not stopped early ran exactly to what it was last told; the last rung is 5.
    for trial in result.trial_records:
        if trial.status is not rung.TrialStatus.STOPPED:
            assert trial.last_metrics["epoch"] == trial.resource, trial
    assert max(r.metrics["epoch"] for r in result.report_records) == 5
    if name == "asha-stopping" or name == "hyperband-stopping":
        assert {cap for _, cap, _ in TOLD} == {5}  # stopping variants may run to max_resource
    else:
        assert 1 in {cap for _, cap, _ in TOLD} and 5 in {cap for _, cap, _ in TOLD}


def test_the_cap_follows_the_rung_under_promotion():
    """ASHA promotion: a new trial is told the first rung, a promoted one the next rung."""
    TOLD.clear()
    _tune(d2l_style, ASHA(max_resource=4, reduction_factor=2, type="promotion", max_resource_attr="max_epochs"),
          max_trials=8)
    assert {cap for _, cap, _ in TOLD} == {1, 2, 4}
    launches = collections.defaultdict(list)
    for x, cap, _ in TOLD:
        launches[x].append(cap)
    for caps in launches.values():
        assert caps == [1, 2, 4][: len(caps)]  # first rung, then one rung per promotion


def test_resource_limit_outside_a_trial_and_without_a_cap():
    assert rung.resource_limit() is None
    assert rung.resource_limit(10) == 10
    seen = []

    def objective(config):
        seen.append(rung.resource_limit(default="none"))
        return config["x"]

    _tune(objective, None, max_trials=2)
    assert seen == ["none", "none"]  # FIFO: no cap


def test_max_resource_attr_that_is_a_parameter_is_refused_before_any_trial():
    space = {"x": rung.uniform(0, 1), "max_epochs": rung.randint(1, 5)}
    calls = []
    tuner = rung.Tuner(lambda c: calls.append(c) or 0.0, space, metric="loss", max_trials=2, backend="inprocess",
                       storage=":memory:", verbose=0,
                       scheduler=ASHA(max_resource=5, max_resource_attr="max_epochs"))
    with pytest.raises(ValueError, match="max_resource_attr='max_epochs' is also a parameter of the space"):
        tuner.run()
    assert calls == []


@pytest.mark.parametrize("bad", ["", 3])
def test_max_resource_attr_must_be_a_name(bad):
    with pytest.raises(ValueError, match="max_resource_attr must be a non-empty string"):
        ASHA(max_resource=5, max_resource_attr=bad)


# -- item 5: promotion goes on once no new trial can start -------------------------------------------------
def test_a_rung_of_fewer_than_eta_values_promotes_its_best_once_no_trial_can_start():
    asha = ASHA(min_resource=1, max_resource=9, reduction_factor=3, type="promotion")
    d = Driver(asha)
    a, b = d.start(), d.start()
    assert d.step(a, 1, 0.5) == "pause"
    assert d.step(b, 1, 0.4) == "pause"
    # floor(2/3) = 0: while new trials may come, nobody is promoted (a new trial starts).
    assert isinstance(d.suggest(allow_new=True), StartTrial)
    c = len(d.trials) - 1
    assert d.step(c, 1, 0.6) == "pause"
    # n=3: the top 1 (b) is promoted as usual.
    assert d.suggest(allow_new=True) == ResumeTrial(b, 3)
    assert d.step(b, 3, 0.3) == "pause"
    # Budget spent: rung 3 holds one value; its best (b) goes on to 9, then rung 1's next best stays:
    # at rung 1 the top is max(1, floor(3/3)) = 1, and b was that one.
    assert d.suggest(allow_new=False) == ResumeTrial(b, 9)
    assert d.step(b, 9, 0.2) == "stop"  # (step also ends the trial)
    assert d.trials[b].status.value == "completed"
    assert d.suggest(allow_new=False) is None


def test_an_exhausted_searcher_also_ends_the_waiting():
    asha = ASHA(min_resource=1, max_resource=3, reduction_factor=3, type="promotion")
    d = Driver(asha, n_configs=2)  # the grid holds two configs
    a, b = d.start(), d.start()
    assert d.step(a, 1, 0.5) == "pause"
    assert d.step(b, 1, 0.4) == "pause"
    assert d.suggest(allow_new=True) == ResumeTrial(b, 3)  # nothing new: the best goes on


def test_asha_promotion_with_40_trials_carries_the_best_to_max_resource():
    def train(config):
        done = (rung.load_checkpoint() or {"epoch": 0})["epoch"]
        for epoch in range(done + 1, 28):
            try:
                rung.report(epoch=epoch, loss=(config["x"] - 0.3) ** 2 + 1.0 / epoch)
            finally:
                rung.save_checkpoint({"epoch": epoch})

    scheduler = ASHA(max_resource=27, reduction_factor=3, type="promotion")
    result = rung.Tuner(train, SPACE, metric="loss", scheduler=scheduler, max_trials=40, backend="inprocess",
                        storage=":memory:", verbose=0, seed=5, searcher="random").run()
    statuses = collections.Counter(t.status.value for t in result.trial_records)
    top = [t for t in result.trial_records if t.last_metrics.get("epoch") == 27]
    assert top and all(t.status is rung.TrialStatus.COMPLETED for t in top)
    assert statuses["completed"] == len(top)
    best = result.best_trial
    assert best.last_metrics["epoch"] == 27 and best.status is rung.TrialStatus.COMPLETED
    # Nothing promotable is left: at every rung the top max(1, floor(n/3)) went on.
    assert scheduler.suggest(allow_new=False) is None
    levels = scheduler.levels
    for k, level in enumerate(levels[:-1]):
        values = scheduler.recorded(level)
        ranked = sorted(values, key=values.__getitem__)
        top_k = ranked[: max(1, len(ranked) // 3)]
        for trial_id in top_k:
            assert result.trial_records[trial_id].last_metrics["epoch"] >= levels[k + 1], (level, trial_id)
    assert "paused" in _summary_of(result, scheduler)


def _summary_of(result, scheduler):
    from rung.tuner._paused import paused_note

    return paused_note(result.trial_records, scheduler)


def reports_what_it_is_told(config):
    """Reports its budget with every epoch, so a test can read it from another process."""
    for epoch in range(1, config["max_epochs"] + 1):
        rung.report(epoch=epoch, loss=(config["x"] - 0.3) ** 2 + 1.0 / epoch,
                    told=config["max_epochs"], limit=rung.resource_limit())


def test_worker_processes_are_told_their_limit_too():
    scheduler = ASHA(max_resource=4, reduction_factor=2, type="promotion", max_resource_attr="max_epochs")
    result = _tune(reports_what_it_is_told, scheduler, max_trials=6, backend="process", n_workers=2)
    assert result.report_records
    for report in result.report_records:
        assert report.metrics["told"] == report.metrics["limit"]
        assert report.metrics["epoch"] <= report.metrics["limit"] <= 4
    assert {r.metrics["limit"] for r in result.report_records} == {1, 2, 4}
    assert max(r.metrics["epoch"] for r in result.report_records) == 4
