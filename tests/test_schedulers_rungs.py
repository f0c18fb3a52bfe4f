"""Rung levels, Hyperband bracket sizes, argument checks and the scheduler name table."""

import pytest

from rung.schedulers import (
    ASHA, FIFO, Bandit, Hyperband, MedianStopping, SuccessiveHalving, Truncation, make_scheduler,
)
from rung.schedulers._rungs import highest_reached, hyperband_sizes, rung_levels


@pytest.mark.parametrize(
    "r_min, r_max, eta, expected",
    [
        (2, 10, 2, [2, 4, 8, 10]),
        (1, 9, 3, [1, 3, 9]),
        (1, 27, 3, [1, 3, 9, 27]),
        (1, 10, 3, [1, 3, 9, 10]),
        (5, 5, 3, [5]),
        (0.1, 0.9, 3, [0.1, pytest.approx(0.3), 0.9]),
    ],
)
def test_rung_levels(r_min, r_max, eta, expected):
    assert rung_levels(r_min, r_max, eta) == expected


def test_a_trial_reaches_the_highest_level_at_or_below_its_resource():
    levels = [1, 3, 9]
    assert highest_reached(levels, 0.5) is None
    assert highest_reached(levels, 1) == 0
    assert highest_reached(levels, 2.9) == 0
    assert highest_reached(levels, 5) == 1
    assert highest_reached(levels, 9) == 2
    assert highest_reached([0.1, 0.3, 0.9], 0.1 * 3) == 1  # rounding forgiven


def test_hyperband_bracket_sizes_and_starting_levels():
    assert hyperband_sizes(4, 3) == [27, 12, 6, 4]
    assert hyperband_sizes(5, 3) == [81, 34, 15, 8, 5]
    for kind in ("synchronous", "stopping", "promotion"):
        hyperband = Hyperband(min_resource=1, max_resource=27, reduction_factor=3, type=kind)
        assert hyperband.bracket_sizes == [27, 12, 6, 4]
        assert hyperband.bracket_levels == [1, 3, 9, 27]


def test_successive_halving_bracket_size():
    assert SuccessiveHalving(min_resource=2, max_resource=10, reduction_factor=2).num_trials == 8
    assert SuccessiveHalving(max_resource=9).num_trials == 9
    assert SuccessiveHalving(max_resource=9, prefactor=2).num_trials == 18
    assert SuccessiveHalving(max_resource=9, num_trials=5).num_trials == 5


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: ASHA(max_resource=9, reduction_factor=1), r"reduction_factor must be >= 2, got reduction_factor=1"),
        (lambda: SuccessiveHalving(), r"needs max_resource"),
        (lambda: ASHA(), r"ASHA needs max_resource"),
        (lambda: Hyperband(), r"Hyperband needs max_resource"),
        (lambda: ASHA(max_resource=9, min_resource=0), r"min_resource must be a number > 0"),
        (lambda: ASHA(max_resource=2, min_resource=3), r"max_resource must be >= min_resource"),
        (lambda: ASHA(max_resource=9, type="fast"), r"type must be 'stopping' or 'promotion'"),
        (lambda: ASHA(max_resource=9, brackets=4), r"brackets must be at most the number of rung levels \(3"),
        (lambda: ASHA(max_resource=9, brackets=0), r"brackets must be an integer >= 1"),
        (lambda: ASHA(max_resource=9, grace_period=2, min_resource=1), r"grace_period is an alias of min_resource"),
        (lambda: ASHA("", max_resource=9), r"resource_attr must be a non-empty string"),
        (lambda: Hyperband(max_resource=9, type="async"), r"type must be one of"),
        (lambda: SuccessiveHalving(max_resource=9, num_trials=0), r"num_trials must be an integer > 0"),
        (lambda: MedianStopping(evaluation_interval=0), r"evaluation_interval must be a number > 0"),
        (lambda: MedianStopping(delay_evaluation=-1), r"delay_evaluation must be a number >= 0"),
        (lambda: MedianStopping(min_others=0), r"min_others must be an integer >= 1"),
        (lambda: Bandit(), r"exactly one of slack_factor or slack_amount"),
        (lambda: Bandit(slack_factor=0.1, slack_amount=0.1), r"exactly one of slack_factor or slack_amount"),
        (lambda: Bandit(slack_factor=-0.1), r"slack_factor must be a number >= 0"),
        (lambda: Truncation(), r"truncation_percentage must be an integer from 1 to 99"),
        (lambda: Truncation(truncation_percentage=100), r"got truncation_percentage=100"),
        (lambda: Truncation(truncation_percentage=12.5), r"got truncation_percentage=12.5"),
    ],
)
def test_constructor_arguments_are_checked(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_grace_period_is_an_alias_of_min_resource():
    assert ASHA(max_resource=27, grace_period=3).levels == [3, 9, 27]
    assert ASHA(max_resource=27, grace_period=3, min_resource=3).min_resource == 3


def test_make_scheduler_names():
    assert isinstance(make_scheduler("fifo"), FIFO)
    assert isinstance(make_scheduler(None), FIFO)
    assert isinstance(make_scheduler("median"), MedianStopping)
    assert isinstance(make_scheduler("MEDIAN"), MedianStopping)
    asha = ASHA(max_resource=9)
    assert make_scheduler(asha) is asha
    for name in ("sh", "successive_halving", "asha", "hyperband"):
        with pytest.raises(ValueError, match=r"needs max_resource.*pass an instance"):
            make_scheduler(name)
    with pytest.raises(ValueError, match=r"needs slack_factor or slack_amount.*Bandit\(slack_factor"):
        make_scheduler("bandit")
    with pytest.raises(ValueError, match=r"needs truncation_percentage.*Truncation\("):
        make_scheduler("truncation")
    with pytest.raises(ValueError, match=r"not known; choose one of \['asha', 'bandit', 'fifo'"):
        make_scheduler("pbt")
    with pytest.raises(ValueError, match="ASHA needs max_resource"):
        make_scheduler(ASHA)


def test_tuner_refuses_a_bare_name_that_needs_settings():
    import rung

    with pytest.raises(ValueError, match="scheduler='asha' needs max_resource"):
        rung.Tuner(lambda c: 1.0, {}, metric="loss", scheduler="asha", max_trials=1, backend="inprocess", verbose=0)
