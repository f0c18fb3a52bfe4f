"""Synchronous successive halving and synchronous Hyperband on scripted report sequences."""

from rung.schedulers import Hyperband, ResumeTrial, StartTrial, SuccessiveHalving
from test_schedulers_support import Driver


def observed_by(driver):
    seen = []
    driver.searcher.observe = lambda config, metrics: seen.append((config["x"], metrics["loss"]))
    return seen


def test_levels_2_4_8_10_promote_the_top_half_at_each_rung():
    sh = SuccessiveHalving(min_resource=2, max_resource=10, reduction_factor=2)
    d = Driver(sh)
    seen = observed_by(d)
    assert sh.levels == [2, 4, 8, 10]
    at_2 = [0.8, 0.3, 0.5, 0.9, 0.1, 0.7, 0.4, 0.6]
    for value in at_2:
        trial_id = d.start()
        assert d.suggestions[-1].resource == 2
        assert d.step(trial_id, 1, value + 1) == "continue"
        decision = d.report(trial_id, 2, value)
        assert decision.action.value == "pause"
        assert decision.details["rung"] == 2 and decision.details["value"] == value
        d.end(trial_id)
    # 8 values at rung 2: the top floor(8/2) = 4 go on to 4, best first.
    resumes = [d.suggest() for _ in range(4)]
    assert resumes == [ResumeTrial(4, 4), ResumeTrial(1, 4), ResumeTrial(6, 4), ResumeTrial(2, 4)]
    assert set(sh.notes) == {0, 3, 5, 7}
    assert "ranked 8 of 8" in sh.notes[3] and "the top 4" in sh.notes[3]
    # Trials that will never run again are told to the searcher, as stopped ones would be.
    assert sorted(seen) == [(0, 0.8), (3, 0.9), (5, 0.7), (7, 0.6)]

    at_4 = {4: 0.5, 1: 0.2, 6: 0.45, 2: 0.3}
    for trial_id in (4, 1, 6):
        assert d.step(trial_id, 3, 1.0) == "continue"
        assert d.step(trial_id, 4, at_4[trial_id]) == "pause"
    # While rung 4 waits for trial 2, a free worker starts bracket 1 instead of idling.
    straggler_fill = d.start()
    assert straggler_fill == 8 and sh.bracket_of(8) == 1
    assert d.suggestions[-1].resource == 2
    assert d.step(8, 2, 0.05) == "pause"
    assert d.step(2, 4, at_4[2]) == "pause"
    # Promotions of bracket 0 come before any new trial.
    assert [d.suggest(), d.suggest()] == [ResumeTrial(1, 8), ResumeTrial(2, 8)]
    assert set(sh.notes) == {0, 3, 5, 7, 4, 6}

    assert d.step(1, 8, 0.25) == "pause"
    assert d.step(2, 8, 0.15) == "pause"
    assert d.suggest() == ResumeTrial(2, 10)
    assert "not promoted at rung epoch=8" in sh.notes[1]
    assert d.step(2, 9, 0.12) == "continue"
    assert d.step(2, 10, 0.11) == "stop"  # the last level: done there, recorded as completed
    d.end(2)
    assert d.trials[2].status.value == "completed"
    # Bracket 1 keeps filling its first rung.
    assert isinstance(d.suggest(), StartTrial) and sh.bracket_of(9) == 1


def test_max_mode_promotes_the_largest_values():
    sh = SuccessiveHalving(min_resource=1, max_resource=4, reduction_factor=2)
    d = Driver(sh, mode="max")
    for value in (0.1, 0.9, 0.5, 0.7):
        trial_id = d.start()
        assert d.step(trial_id, 1, value) == "pause"
    assert [d.suggest(), d.suggest(), d.suggest(False)] == [ResumeTrial(1, 2), ResumeTrial(3, 2), None]


def test_failed_trials_leave_the_rung_and_an_exhausted_searcher_closes_the_bracket():
    sh = SuccessiveHalving(min_resource=1, max_resource=4, reduction_factor=2)  # 4 trials per bracket
    d = Driver(sh, n_configs=3)
    a, b, c = d.start(), d.start(), d.start()
    assert d.step(a, 1, 0.5) == "pause"
    d.fail(b)
    assert d.step(c, 1, 0.3) == "pause"
    # The grid has nothing left: the bracket is judged with its 2 values; top max(1, 2 // 2) = 1.
    assert d.suggest() == ResumeTrial(c, 2)
    assert d.suggest() is None
    assert d.step(c, 2, 0.2) == "pause"
    assert d.suggest() == ResumeTrial(c, 4)
    assert d.step(c, 3, 0.15) == "continue"
    assert d.step(c, 4, 0.1) == "stop"
    d.end(c)
    assert d.suggest() is None
    assert "ranked 2 of 2" in sh.notes[a]


def test_a_spent_trial_budget_closes_the_bracket():
    sh = SuccessiveHalving(min_resource=1, max_resource=9)  # 9 trials per bracket
    d = Driver(sh)
    for value in (0.4, 0.2):
        assert d.step(d.start(), 1, value) == "pause"
    assert d.suggest(allow_new=False) == ResumeTrial(1, 3)
    assert d.suggest(allow_new=False) is None


def test_a_promotion_waits_until_the_trial_has_left_its_worker():
    sh = SuccessiveHalving(min_resource=1, max_resource=4, reduction_factor=2, num_trials=2)
    d = Driver(sh)
    a, b = d.start(), d.start()
    assert d.step(a, 1, 0.9) == "pause"
    assert d.report(b, 1, 0.1).action.value == "pause"  # decided, but b still holds its worker
    assert d.suggest(allow_new=False) is None
    d.end(b)
    assert d.suggest(allow_new=False) == ResumeTrial(b, 2)


def test_reports_without_the_resource_continue_and_reports_past_max_resource_stop():
    sh = SuccessiveHalving(min_resource=1, max_resource=9, num_trials=1)
    d = Driver(sh)
    trial_id = d.start()
    assert d.step(trial_id, None, 0.5) == "continue"
    assert d.step(trial_id, 1, 0.5) == "pause"
    assert d.suggest() == ResumeTrial(trial_id, 3)  # a bracket of one: max(1, 0) = 1 goes on
    assert d.step(trial_id, 3, 0.4) == "pause"
    assert d.suggest() == ResumeTrial(trial_id, 9)
    decision = d.report(trial_id, 10, 0.29)  # past max_resource in one step: done all the same
    assert decision.action.value == "stop" and decision.completes
    assert decision.reason == "reached max_resource epoch=9"
    assert decision.details["rung"] == 9 and decision.details["value"] == 10


def test_synchronous_hyperband_cycles_through_its_brackets():
    hb = Hyperband(min_resource=1, max_resource=4, reduction_factor=2)
    d = Driver(hb)
    assert hb.bracket_sizes == [4, 3, 3] and hb.bracket_levels == [1, 2, 4]
    # Bracket s=2: 4 trials from level 1.
    for value in (0.4, 0.2, 0.3, 0.1):
        trial_id = d.start()
        assert d.suggestions[-1].resource == 1 and hb.bracket_of(trial_id) == 0
        assert d.step(trial_id, 1, value) == "pause"
    assert d.suggest() == ResumeTrial(3, 2)
    assert d.step(3, 2, 0.15) == "pause"
    assert d.suggest() == ResumeTrial(1, 2)
    assert d.step(1, 2, 0.12) == "pause"
    assert d.suggest() == ResumeTrial(1, 4)
    assert d.step(1, 3, 0.11) == "continue"
    assert d.step(1, 4, 0.1) == "stop"
    d.end(1)
    # Bracket s=1: 3 trials from level 2; top max(1, floor(3/2)) = 1 goes on to 4.
    for value in (0.5, 0.3, 0.4):
        trial_id = d.start()
        assert d.suggestions[-1].resource == 2 and hb.bracket_of(trial_id) == 1
        assert d.step(trial_id, 1, value + 1) == "continue"
        assert d.step(trial_id, 2, value) == "pause"
    assert d.suggest() == ResumeTrial(5, 4)
    assert d.step(5, 4, 0.2) == "stop"
    d.end(5)
    # Bracket s=0: 3 trials run to r_max without any comparison.
    for _ in range(3):
        trial_id = d.start()
        assert d.suggestions[-1].resource == 4 and hb.bracket_of(trial_id) == 2
        assert [d.step(trial_id, epoch, 9.0) for epoch in (1, 2, 3, 4)] == ["continue"] * 3 + ["stop"]
        d.end(trial_id)
    # ... and the cycle starts again with s=2.
    trial_id = d.start()
    assert d.suggestions[-1].resource == 1 and hb.bracket_of(trial_id) == 0
