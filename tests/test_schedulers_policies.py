"""Median stopping, bandit and truncation selection on scripted report sequences."""

import pytest

from rung.schedulers import Bandit, MedianStopping, Truncation
from test_schedulers_support import Driver

MODES = [("min", 1), ("max", -1)]


def run(d, values, start_epoch=1):
    """Start a trial and report ``values`` at epochs start_epoch, start_epoch+1, ...; returns actions."""
    trial_id = d.start()
    actions = []
    for offset, value in enumerate(values):
        action = d.step(trial_id, start_epoch + offset, value)
        actions.append(action)
        if action != "continue":
            break
    return trial_id, actions


# -- median stopping ----------------------------------------------------------------------
@pytest.mark.parametrize("mode, sign", MODES)
def test_median_compares_the_best_value_with_the_median_of_others_running_averages(mode, sign):
    policy = MedianStopping()
    d = Driver(policy, mode=mode)
    # t0 alone: never compared. Running averages 1.0, 0.9, 0.8.
    assert run(d, [sign * 1.0, sign * 0.8, sign * 0.6])[1] == ["continue"] * 3
    # t1 at 1: best 1.2 vs median of [1.0] -> stop.
    trial_id = d.start()
    decision = d.report(trial_id, 1, sign * 1.2)
    assert decision.action.value == "stop"
    assert decision.details == {
        "rung": 1, "value": sign * 1.2, "threshold": sign * 1.0, "compared_with": 1, "running_average": sign * 1.2,
    }
    assert "worse than the median" in decision.reason
    d.end(trial_id)
    # t2: at 1, 0.9 vs median(1.0, 1.2) = 1.1 -> continue; at 2, best 0.85 vs t0's 0.9 ->
    # continue; at 3, best 0.84 vs t0's 0.8 -> stop.
    trial_id, actions = run(d, [sign * 0.9, sign * 0.85, sign * 0.84])
    assert actions == ["continue", "continue", "stop"]
    assert set(d.scheduler.records(3)) == {0, trial_id}
    assert d.scheduler.records(3)[trial_id].average == pytest.approx(sign * (0.9 + 0.85 + 0.84) / 3)


def test_median_uses_the_best_value_not_the_last():
    d = Driver(MedianStopping())
    run(d, [1.0, 1.0, 1.0])
    # Its latest value 2.0 is worse than the median, but its best (0.5) is not.
    assert run(d, [0.5, 2.0, 2.0])[1] == ["continue"] * 3


def test_median_ties_continue():
    d = Driver(MedianStopping())
    run(d, [1.0])
    run(d, [3.0])
    assert run(d, [2.0])[1] == ["continue"]  # median of 1.0 and 3.0 is 2.0


def test_median_evaluation_interval_and_delay():
    d = Driver(MedianStopping(evaluation_interval=2, delay_evaluation=4))
    run(d, [1.0] * 6)
    # Multiples of 2 that are >= 4: the bad trial is first judged at epoch 4.
    trial_id, actions = run(d, [5.0] * 6)
    assert actions == ["continue", "continue", "continue", "stop"]
    assert d.scheduler.records(4)[trial_id].value == 5.0


def test_median_evaluation_points_are_reached_by_crossing_a_multiple():
    d = Driver(MedianStopping(evaluation_interval=2))
    first = d.start()
    for epoch, value in [(1.5, 1.0), (2.5, 1.0)]:
        d.step(first, epoch, value)
    second = d.start()
    assert d.step(second, 1.5, 5.0) == "continue"  # before the first point
    decision = d.report(second, 2.5, 5.0)  # crosses point 2
    assert decision.action.value == "stop" and decision.details["rung"] == 2


def test_median_waits_for_min_others():
    d = Driver(MedianStopping(min_others=2))
    run(d, [1.0])
    assert run(d, [5.0])[1] == ["continue"]  # only one other trial at epoch 1
    assert run(d, [6.0])[1] == ["stop"]  # median of 1.0 and 5.0 is 3.0


def test_reports_without_the_resource_are_ignored():
    d = Driver(MedianStopping())
    run(d, [1.0])
    trial_id = d.start()
    assert d.step(trial_id, None, 100.0) == "continue"
    # The ignored report does not count in the running average or the best value.
    assert d.step(trial_id, 1, 0.5) == "continue"
    assert d.scheduler.records(1)[trial_id].average == 0.5


# -- bandit --------------------------------------------------------------------------------
def test_bandit_slack_factor_in_max_mode_follows_the_hyperdrive_example():
    # Best 0.8 at interval 10 with slack_factor 0.2: runs below 0.8 / 1.2 = 0.667 stop.
    d = Driver(Bandit(slack_factor=0.2, delay_evaluation=5), mode="max")
    assert run(d, [0.8], start_epoch=10)[1] == ["continue"]
    trial_id = d.start()
    assert d.step(trial_id, 4, 0.01) == "continue"  # before delay_evaluation
    decision = d.report(trial_id, 10, 0.66)
    assert decision.action.value == "stop"
    assert decision.details["threshold"] == pytest.approx(0.8 / 1.2)
    assert decision.details["best"] == 0.8 and decision.details["compared_with"] == 1
    assert "outside the slack" in decision.reason
    d.end(trial_id)
    assert run(d, [0.67], start_epoch=10)[1] == ["continue"]


def test_bandit_slack_factor_in_min_mode():
    d = Driver(Bandit(slack_factor=0.2))
    run(d, [0.5])
    assert run(d, [0.61])[1] == ["stop"]  # cutoff 0.5 * 1.2 = 0.6
    assert run(d, [0.59])[1] == ["continue"]


@pytest.mark.parametrize("mode, sign", MODES)
def test_bandit_slack_amount_compares_with_the_best_at_that_point(mode, sign):
    d = Driver(Bandit(slack_amount=0.1), mode=mode)
    run(d, [sign * 0.5])
    assert run(d, [sign * 0.61])[1] == ["stop"]  # cutoff 0.6
    assert run(d, [sign * 0.6])[1] == ["continue"]  # on the cutoff: within the slack
    assert run(d, [sign * 0.3])[1] == ["continue"]  # the new best
    trial_id = d.start()
    decision = d.report(trial_id, 1, sign * 0.45)  # cutoff is now 0.4
    assert decision.action.value == "stop"
    assert decision.details["threshold"] == pytest.approx(sign * 0.4)
    assert decision.details["compared_with"] == 4


def test_bandit_slack_factor_with_negative_values_stays_on_the_worse_side():
    d = Driver(Bandit(slack_factor=0.25), mode="max")
    run(d, [-1.0])
    assert d.scheduler.cutoff(-1.0) == pytest.approx(-1.2)
    assert run(d, [-1.1])[1] == ["continue"]
    assert run(d, [-1.3])[1] == ["stop"]


def test_bandit_evaluation_interval():
    d = Driver(Bandit(slack_amount=0.0, evaluation_interval=3))
    run(d, [1.0] * 6)
    assert run(d, [2.0] * 6)[1] == ["continue", "continue", "stop"]


# -- truncation ----------------------------------------------------------------------------
@pytest.mark.parametrize("mode, sign", MODES)
def test_truncation_stops_the_lowest_percentage_at_each_point(mode, sign):
    d = Driver(Truncation(truncation_percentage=50), mode=mode)
    assert run(d, [sign * 0.5])[1] == ["continue"]  # alone
    trial_id = d.start()
    decision = d.report(trial_id, 1, sign * 0.7)  # n=2, m=1: the worse of two
    assert decision.action.value == "stop"
    assert decision.details == {
        "rung": 1, "value": sign * 0.7, "threshold": sign * 0.5, "compared_with": 1, "truncated": 1,
    }
    d.end(trial_id)
    assert run(d, [sign * 0.6])[1] == ["continue"]  # n=3, m=1, 1 better
    trial_id = d.start()
    decision = d.report(trial_id, 1, sign * 0.65)  # n=4, m=2, 2 better
    assert decision.action.value == "stop" and decision.details["threshold"] == sign * 0.6


def test_truncation_rounds_the_share_down():
    d = Driver(Truncation(truncation_percentage=20))
    for value in (0.1, 0.2, 0.3):
        run(d, [value])
    assert run(d, [0.9])[1] == ["continue"]  # 20% of 4 is 0.8: nobody
    assert run(d, [0.95])[1] == ["stop"]  # 20% of 5 is 1


def test_truncation_ties_favour_the_trial():
    d = Driver(Truncation(truncation_percentage=50))
    run(d, [0.5])
    assert run(d, [0.5])[1] == ["continue"]


def test_truncation_delay_and_interval():
    d = Driver(Truncation(truncation_percentage=50, evaluation_interval=2, delay_evaluation=3))
    run(d, [1.0] * 4)
    assert run(d, [2.0] * 4)[1] == ["continue", "continue", "continue", "stop"]
