"""ASHA (stopping and promotion) and asynchronous Hyperband on scripted report sequences."""

from collections import Counter

import numpy as np
import pytest

import rung
from rung.schedulers import ASHA, Hyperband, ResumeTrial, StartTrial
from rung.searchers import Grid
from test_schedulers_support import Driver


@pytest.mark.parametrize("mode, sign", [("min", 1), ("max", -1)])
def test_stopping_keeps_a_trial_iff_fewer_than_n_over_eta_values_beat_it(mode, sign):
    asha = ASHA(min_resource=1, max_resource=9, reduction_factor=3)
    d = Driver(asha, mode=mode)
    # (value at rung 1, decision, threshold): n values so far, continue iff #better < n/3.
    script = [
        (0.5, "continue", None),  # n=1, 0 better
        (0.7, "stop", 0.5),  # n=2, 1 better, 1 < 0.67 is false
        (0.3, "continue", None),  # n=3, 0 better
        (0.4, "continue", None),  # n=4, 1 better < 1.33
        (0.6, "stop", 0.4),  # n=5, 3 better >= 1.67
        (0.45, "stop", 0.4),  # n=6, 2 better, 2 < 2 is false
        (0.35, "continue", None),  # n=7, 1 better < 2.33
    ]
    for value, expected, threshold in script:
        trial_id = d.start()
        assert d.suggestions[-1].resource == 9
        decision = d.report(trial_id, 1, sign * value)
        assert decision.action.value == expected, (trial_id, value)
        if expected == "stop":
            assert decision.details["threshold"] == sign * threshold
            assert decision.details["compared_with"] == trial_id
            assert decision.details["rung"] == 1
            assert "not in the top 1/3" in decision.reason
            d.end(trial_id)
    # Rung 3: trial 0 first (n=1), then trial 2 is worse (n=2: stop), trial 3 is best.
    assert d.step(0, 2, sign * 0.4) == "continue"
    assert d.step(0, 3, sign * 0.3) == "continue"
    assert d.step(2, 3, sign * 0.35) == "stop"
    assert d.step(3, 3, sign * 0.2) == "continue"
    # The last level: no comparison; the trial has had its budget and is done there.
    decision = d.report(0, 9, sign * 0.9)
    assert decision.action.value == "stop" and decision.completes
    assert decision.reason == "reached max_resource epoch=9"
    assert asha.recorded(9) == {0: sign * 0.9}


def test_a_report_that_passes_several_levels_is_recorded_at_the_highest():
    asha = ASHA(min_resource=1, max_resource=9)
    d = Driver(asha)
    trial_id = d.start()
    assert d.step(trial_id, 0.5, 1.0) == "continue"  # below the grace period
    assert d.step(trial_id, None, 1.0) == "continue"  # no resource: reaches nothing
    assert d.step(trial_id, 5, 0.7) == "continue"
    assert asha.recorded(1) == {} and asha.recorded(3) == {0: 0.7}
    assert d.step(trial_id, 6, 0.1) == "continue"  # level 3 was already decided
    assert asha.recorded(3) == {0: 0.7}


def test_promotion_resumes_the_top_of_each_rung_highest_level_first():
    asha = ASHA(min_resource=1, max_resource=9, reduction_factor=3, type="promotion")
    d = Driver(asha)

    def new_trial(value):
        trial_id = d.start()
        assert d.suggestions[-1].resource == 1
        decision = d.report(trial_id, 1, value)
        assert decision.action.value == "pause"
        d.end(trial_id)
        return decision

    new_trial(0.5)  # t0: n=1, top floor(1/3) = 0
    new_trial(0.2)  # t1
    decision = new_trial(0.4)  # t2: n=3, top 1 = t1
    assert decision.details["threshold"] == 0.2 and decision.details["rank"] == 2
    assert d.suggest() == ResumeTrial(1, 3)
    assert d.step(1, 2, 0.18) == "continue"
    assert d.step(1, 3, 0.15) == "pause"  # rung 3: n=1
    new_trial(0.1)  # t3: n=4, top 1 = t3
    assert d.suggest() == ResumeTrial(3, 3)
    assert d.step(3, 3, 0.05) == "pause"  # rung 3: n=2, top 0
    new_trial(0.3)  # t4: n=5, top 1 = t3, already promoted
    new_trial(0.35)  # t5: n=6, top 2 = t3, t1, both promoted
    trial_id = d.start()  # t6
    assert d.report(trial_id, 1, 0.15).action.value == "pause"  # n=7, top 2 = t3, t6
    d.end(trial_id)  # (with allow_new=False now, the end game would promote t3: see below)
    assert d.suggest() == ResumeTrial(6, 3)
    new_trial(0.01)  # t7, on a second worker: n=8, top 2 = t7, t3
    assert d.step(6, 3, 0.12) == "pause"  # rung 3: n=3, top 1 = t3
    # Level 3 is searched before level 1.
    assert d.suggest() == ResumeTrial(3, 9)
    assert d.suggest() == ResumeTrial(7, 3)
    assert d.step(3, 9, 0.01) == "stop"  # max_resource: done (completed)
    d.end(3)
    assert d.trials[3].status.value == "completed"
    assert d.step(7, 3, 0.02) == "pause"  # rung 3: n=4, top 1 = t7
    assert d.suggest(allow_new=False) == ResumeTrial(7, 9)
    assert d.suggest(allow_new=False) is None
    resumes = [(s.trial_id, s.resource) for s in d.suggestions if isinstance(s, ResumeTrial)]
    assert resumes == [(1, 3), (3, 3), (6, 3), (3, 9), (7, 3), (7, 9)]


def test_once_no_trial_can_start_the_best_of_a_small_rung_is_promoted():
    asha = ASHA(min_resource=1, max_resource=9, reduction_factor=3, type="promotion")
    d = Driver(asha)
    for value in (0.5, 0.2, 0.4):
        trial_id = d.start()
        assert d.step(trial_id, 1, value) == "pause"
    assert d.suggest() == ResumeTrial(1, 3)  # n=3, top 1
    assert d.step(1, 3, 0.15) == "pause"  # rung 3: n=1, top floor(1/3) = 0
    assert isinstance(d.suggest(allow_new=True), StartTrial)  # new trials may come: t1 waits
    assert d.step(3, 1, 0.9) == "pause"  # rung 1: n=4, top 1 = t1 (promoted already)
    assert d.suggest(allow_new=False) == ResumeTrial(1, 9)  # no new trial: the best of rung 3 goes on
    assert d.suggest(allow_new=False) is None


def test_promotion_in_max_mode():
    asha = ASHA(min_resource=1, max_resource=9, reduction_factor=2, type="promotion")
    d = Driver(asha, mode="max")
    for value in (0.3, 0.9):
        assert d.step(d.start(), 1, value) == "pause"
    assert d.suggest(allow_new=False) == ResumeTrial(1, 2)


def test_a_failed_trial_keeps_its_place_but_is_never_resumed():
    asha = ASHA(min_resource=1, max_resource=9, type="promotion")
    d = Driver(asha)
    for value in (0.1, 0.5):
        assert d.step(d.start(), 1, value) == "pause"
    d.trials[0].status = d.trials[0].status.FAILED
    asha.on_fail(d.trials[0])
    assert d.step(d.start(), 1, 0.4) == "pause"  # n=3, top 1 is the failed trial 0
    assert d.suggest(allow_new=False) is None


def test_asynchronous_hyperband_draws_brackets_in_proportion_to_their_sizes():
    def assignments(seed):
        hb = Hyperband(min_resource=1, max_resource=27, type="stopping", seed=seed)
        d = Driver(hb, n_configs=2000)
        for _ in range(1960):
            d.start()
        return hb, d, [hb.bracket_of(t) for t in d.trials]

    hb, d, drawn = assignments(7)
    assert drawn == assignments(7)[2]
    assert drawn != assignments(8)[2]
    shares = np.array([Counter(drawn)[b] for b in range(4)]) / len(drawn)
    np.testing.assert_allclose(shares, np.array([27, 12, 6, 4]) / 49, atol=0.03)
    assert {s.resource for s in d.suggestions} == {27}  # stopping variant: may run to r_max
    # A trial of the last bracket is never compared before 27.
    last = next(t for t, b in enumerate(drawn) if b == 3)
    assert all(d.step(last, epoch, 100.0) == "continue" for epoch in range(1, 27))
    assert d.step(last, 27, 100.0) == "stop"  # its whole budget: completed, never judged
    d.end(last)
    # Bracket 1 is first compared at 3, only with bracket 1's values.
    first, second = [t for t, b in enumerate(drawn) if b == 1][:2]
    assert d.step(first, 1, 0.1) == "continue" and d.step(second, 1, 0.9) == "continue"
    assert d.step(first, 3, 0.1) == "continue"
    assert d.step(second, 3, 0.9) == "stop"


def test_asynchronous_hyperband_promotion_starts_trials_at_their_bracket_level():
    hb = Hyperband(min_resource=1, max_resource=9, type="promotion", seed=3)
    d = Driver(hb)
    for _ in range(30):
        suggestion = d.suggest()
        assert isinstance(suggestion, StartTrial)
        assert suggestion.resource == hb.bracket_levels[hb.bracket_of(len(d.trials) - 1)]


def test_asha_brackets_default_to_the_searchers_seed():
    def drawn(searcher_seed):
        asha = ASHA(max_resource=9, brackets=3)
        d = Driver(asha)
        d.searcher.seed = searcher_seed
        asha.setup(d.searcher, "loss", "min")
        for _ in range(40):
            d.start()
        return [asha.bracket_of(t) for t in d.trials]

    assert drawn(1) == drawn(1)
    assert drawn(1) != drawn(2)


class _Strata(Grid):
    """A grid searcher putting the configs named in ``labels`` in a stratum (Searcher.stratum)."""

    def __init__(self, labels):
        super().__init__({"x": rung.choice(list(range(100)))}, metric="loss", mode="min")
        self.labels = labels

    def stratum(self, config):
        return self.labels.get(config["x"])


def test_stopping_judges_a_trial_with_a_stratum_only_against_its_stratum():
    asha = ASHA(min_resource=1, max_resource=9, reduction_factor=3)
    d = Driver(asha)
    d.searcher = _Strata({2: "random", 4: "random", 5: "random"})
    asha.setup(d.searcher, "loss", "min")
    # Trials 0, 1, 3: no stratum, judged against every value; 2, 4, 5: against 2, 4, 5 only.
    script = [
        (0.1, "continue"),  # t0: n=1
        (0.2, "stop"),  # t1: 1 of 2 better
        (0.9, "continue"),  # t2 (random): alone in its stratum, though 0.1 and 0.2 beat it
        (0.5, "stop"),  # t3: 2 of 4 better (t0, t1; t2's 0.9 counts here)
        (0.95, "stop"),  # t4 (random): 1 of 2 random values better
        (0.3, "continue"),  # t5 (random): 0 of 3 random values better
    ]
    for value, expected in script:
        trial_id = d.start()
        decision = d.report(trial_id, 1, value)
        assert decision.action.value == expected, (trial_id, value)
        if expected == "stop":
            d.end(trial_id)
    assert asha.recorded(1) == {0: 0.1, 1: 0.2, 2: 0.9, 3: 0.5, 4: 0.95, 5: 0.3}
    # The threshold and comparison count of a stratum's stop are its stratum's.
    trial_id = d.start()  # t6: no stratum, 0.4: 3 of 7 better (0.1, 0.2, 0.3) >= 7/3
    assert d.report(trial_id, 1, 0.4).action.value == "stop"
    d.end(trial_id)
    d.searcher.labels[7] = "random"
    trial_id = d.start()  # t7 (random), 0.92: 2 of 4 random values better (0.9, 0.3)
    decision = d.report(trial_id, 1, 0.92)
    assert decision.action.value == "stop"
    assert decision.details["compared_with"] == 3 and decision.details["threshold"] == 0.9
    assert decision.details["stratum"] == "random"
    assert decision.reason.endswith("2 of the 4 values of stratum 'random' there are better")


def test_promotion_ignores_strata():
    asha = ASHA(min_resource=1, max_resource=9, reduction_factor=3, type="promotion")
    d = Driver(asha)
    d.searcher = _Strata({0: "random"})
    asha.setup(d.searcher, "loss", "min")
    d.start()
    assert asha._trials[0].stratum is None
