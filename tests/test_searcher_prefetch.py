"""Suggestions computed ahead (rung.searchers._prefetch) and auto's cost rule.

The wrapper's promise: the inner searcher receives the calls in one order, a function of
the caller's calls and of each hand-out's ahead-or-fresh decision only (a suggestion
computed ahead is computed before the results that arrive after its hand-out), whether it
runs on the background thread or inline; the decisions are logged with each start and
replayed on resume; a config computed ahead is pending in the model at once; nothing is
lost or handed out twice.
"""

from __future__ import annotations

import random
import warnings

import pytest

import rung
from objectives import quadratic
from rung.searchers import GP, TPE, Auto, Random
from rung.searchers import _auto, _prefetch
from rung.searchers._prefetch import Prefetching

SPACE = {"x": rung.uniform(-5, 10), "y": rung.uniform(0, 15), "n": rung.randint(1, 6),
         "act": rung.choice(["relu", "tanh"])}


def loss(config):
    return (config["x"] - 1) ** 2 + 0.1 * (config["y"] - 3) ** 2 + abs(config["n"] - 3) + (config["act"] == "tanh")


def script(seed: int, n: int) -> list[str]:
    """A random interleaving of suggestions and results with at most two pending configs."""
    rng = random.Random(seed)
    steps, pending = [], 0
    while n or pending:
        if n and (pending < 2) and (pending == 0 or rng.random() < 0.5):
            steps.append("suggest")
            n -= 1
            pending += 1
        else:
            steps.append("observe")
            pending -= 1
    return steps


def drive_wrapped(searcher, steps):
    """Play ``steps`` on ``searcher`` (results come back oldest first); the configs handed out."""
    handed, running = [], []
    for step in steps:
        if step == "suggest":
            config = searcher.suggest()
            handed.append(config)
            running.append(config)
        else:
            config = running.pop(0)
            searcher.observe(config, {"loss": loss(config)})
    return handed


def drive_reference(searcher, steps):
    """The same steps, calls reordered by hand as the wrapper promises: every hand-out
    computes the next suggestion at once, before later results."""
    handed, running = [], []
    ahead = None
    for step in steps:
        if step == "suggest":
            config = searcher.suggest() if ahead is None else ahead
            ahead = searcher.suggest()
            handed.append(config)
            running.append(config)
        else:
            config = running.pop(0)
            searcher.observe(config, {"loss": loss(config)})
    return handed


@pytest.fixture(params=["background", "inline"])
def mode(request, monkeypatch):
    monkeypatch.setattr(_prefetch, "BACKGROUND_ABOVE", 0.0 if request.param == "background" else float("inf"))
    return request.param


@pytest.mark.parametrize("make", [
    lambda: TPE(SPACE, metric="loss", seed=4, n_initial=4),
    lambda: GP(SPACE, metric="loss", seed=4, n_initial=4),
])
def test_wrapped_searcher_sees_the_promised_call_order_in_either_mode(make, mode):
    steps = script(0, 14)
    wrapper = Prefetching(make(), policy="ahead")
    handed = drive_wrapped(wrapper, steps)
    wrapper.close()
    assert handed == drive_reference(make(), steps)
    if mode == "background":
        assert wrapper.n_background > 0 and wrapper.n_inline == 3  # the first 3 calls measure the cost
    else:
        assert wrapper.n_background == 0


def test_lookahead_config_is_pending_in_the_model(mode):
    inner = TPE(SPACE, metric="loss", seed=1, n_initial=3)
    wrapper = Prefetching(inner, policy="ahead")
    first = wrapper.suggest()
    wrapper.drain()
    assert inner.n_pending == 2  # the config handed out and the one computed ahead
    wrapper.observe(first, {"loss": loss(first)})
    wrapper.drain()
    assert inner.n_pending == 1 and inner.n_observed == 1
    second = wrapper.suggest()
    wrapper.drain()
    assert inner.n_pending == 2 and second != first
    wrapper.close()


class Recording(Random):
    """Random search that remembers every config it produced."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.produced = []

    def suggest(self):
        config = super().suggest()
        self.produced.append(config)
        return config


@pytest.mark.parametrize("seed", range(5))
def test_no_suggestion_is_lost_or_handed_out_twice(seed, mode):
    inner = Recording(SPACE, metric="loss", seed=seed)
    wrapper = Prefetching(inner, policy="ahead")
    handed = drive_wrapped(wrapper, script(seed, 30))
    wrapper.close()
    assert len(handed) == 30
    assert handed == inner.produced[:30]  # in order, none skipped
    assert len(inner.produced) == 31  # exactly one computed ahead and not (yet) needed
    assert len({tuple(sorted(c.items())) for c in handed}) == 30


class Exhausted(Random):
    def __init__(self, *args, left, **kwargs):
        super().__init__(*args, **kwargs)
        self.left = left

    def suggest(self):
        if self.left == 0:
            return None
        self.left -= 1
        return super().suggest()


def test_an_exhausted_searcher_stays_exhausted(mode):
    wrapper = Prefetching(Exhausted(SPACE, seed=0, left=2), policy="ahead")
    assert wrapper.suggest() is not None and wrapper.suggest() is not None
    assert wrapper.suggest() is None and wrapper.suggest() is None
    wrapper.close()


class Failing(Random):
    def observe(self, config, metrics):
        raise ValueError("bad result")


def test_an_error_in_a_queued_call_is_raised_by_the_next_call(monkeypatch):
    monkeypatch.setattr(_prefetch, "BACKGROUND_ABOVE", 0.0)
    wrapper = Prefetching(Failing(SPACE, seed=0), policy="ahead")
    configs = [wrapper.suggest() for _ in range(4)]  # three inline, then background
    wrapper.observe(configs[0], {"loss": 1.0})  # queued: returns at once
    with pytest.raises(ValueError, match="bad result"):
        wrapper.drain()
    wrapper.close()


# -- through the tuner ---------------------------------------------------------------------

QUADRATIC = {"x": rung.uniform(-1, 1), "y": rung.uniform(-1, 1)}


def logged(result):
    """The ahead-or-fresh decisions stored with the start events, in order."""
    return [d for e in result.log_entries if getattr(e, "kind", None) == "start" for d in e.payload.get("ahead", [])]


def drive_as_logged(searcher, decisions, n):
    """One worker: each hand-out computes the next suggestion at once when it decided so."""
    handed, ahead = [], None
    for i in range(n):
        config = searcher.suggest() if ahead is None else ahead
        ahead = searcher.suggest() if decisions[i] else None
        handed.append(config)
        searcher.observe(config, {"loss": quadratic(config)})
    return handed


def test_tuner_logs_each_decision_and_the_configs_follow_from_them(tmp_path, monkeypatch):
    monkeypatch.setattr(_prefetch, "BACKGROUND_ABOVE", 0.0)
    monkeypatch.setattr(_prefetch, "AHEAD_SHARE", 0.0)  # ahead as soon as costs are measured
    store = tmp_path / "s.db"
    searcher = TPE(QUADRATIC, metric="loss", seed=2, n_initial=4)
    tuner = rung.Tuner(quadratic, QUADRATIC, metric="loss", searcher=searcher, max_trials=14, n_workers=1,
                       backend="process", storage=store, experiment="e", verbose=0)
    tuner.run()
    assert tuner.scheduler.searcher is searcher  # unwrapped at the end of the run
    result = rung.load("e", storage=store)
    decisions = logged(result)
    assert len(decisions) == 14
    # Fresh until 3 decision costs and 9 results are measured, then ahead.
    assert decisions == [False] * 9 + [True] * 5
    reference = drive_as_logged(TPE(QUADRATIC, metric="loss", seed=2, n_initial=4), decisions, 14)
    assert [t.config for t in result.trial_records] == reference


def test_no_lookahead_in_process_or_under_a_simulated_clock():
    from rung.backends._inprocess import InProcessBackend

    class Scheduler:
        searcher = TPE(SPACE, metric="loss", seed=0)

    class Simulated:
        clock = staticmethod(lambda: 0.0)

    assert _prefetch.install(Scheduler, InProcessBackend()) is None
    assert _prefetch.install(Scheduler, Simulated()) is None
    assert isinstance(Scheduler.searcher, TPE)


def test_resume_replays_through_the_wrapper_without_mismatch(tmp_path, monkeypatch):
    monkeypatch.setattr(_prefetch, "BACKGROUND_ABOVE", 0.0)
    monkeypatch.setattr(_prefetch, "AHEAD_SHARE", 0.0)
    store = tmp_path / "s.db"

    def go(name, max_trials, resume=False):
        return rung.Tuner(quadratic, QUADRATIC, metric="loss", searcher="tpe", max_trials=max_trials, seed=3,
                          n_workers=1, backend="process", verbose=0, storage=store, experiment=name,
                          resume=resume).run()

    straight = go("straight", 16)
    go("halves", 12)  # computing ahead from its 10th hand-out on
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        resumed = go("halves", 16, resume=True)
    decisions = logged(rung.load("halves", storage=store))
    assert True in decisions[:12] and False in decisions[:12]
    # The resumed run measures again from scratch (fresh first), so its decisions and
    # configs after trial 12 may differ from the straight run's; the first 12 replay exactly.
    assert [t.config for t in straight.trial_records][:12] == [t.config for t in resumed.trial_records][:12]
    assert len(resumed.trial_records) == 16


def test_resume_repeats_autos_handover_through_the_wrapper(tmp_path, monkeypatch):
    """auto hands its GP over to TPE (always, at share 0) while suggestions are computed
    ahead on the wrapper's thread; the handover is logged with the next start, and the
    resumed run repeats it where it happened: every stored config replays."""
    from rung.searchers import _auto

    monkeypatch.setattr(_prefetch, "BACKGROUND_ABOVE", 0.0)
    monkeypatch.setattr(_prefetch, "AHEAD_SHARE", 0.0)
    monkeypatch.setattr(_auto, "MAX_DECISION_SHARE", 0.0)
    store = tmp_path / "s.db"

    def go(max_trials, resume=False):
        tuner = rung.Tuner(quadratic, QUADRATIC, metric="loss", max_trials=max_trials, seed=3, n_workers=1,
                           backend="process", verbose=0, storage=store, experiment="e", resume=resume)
        return tuner, tuner.run()

    first, _ = go(14)
    assert [c.name for c in first.searcher.picks] == ["gp", "tpe"]
    handovers = [e.payload["handovers"] for e in rung.load("e", storage=store).log_entries
                 if getattr(e, "kind", None) == "start" and "handovers" in e.payload]
    assert len(handovers) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a replayed config unlike the stored one
        resumed, result = go(18, resume=True)
    assert [c.name for c in resumed.searcher.picks] == ["gp", "tpe"]
    assert resumed.searcher.handovers == first.searcher.handovers
    assert len(result.trial_records) == 18


def test_auto_policy_computes_ahead_only_when_decisions_are_slow_against_results(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(_prefetch.time, "perf_counter", clock)

    class Slow(Random):
        def suggest(self):
            clock.now += 0.010  # 10 ms per decision
            return super().suggest()

    def decisions_at(gap):
        wrapper = Prefetching(Slow(SPACE, seed=0))
        wrapper.go_live()
        for _ in range(15):
            config = wrapper.suggest()
            clock.now += gap
            wrapper.observe(config, {"loss": 1.0})
        wrapper.close()
        return wrapper.take_decisions()

    fast = decisions_at(0.1)  # 10 ms is more than 5% of the ~110 ms between results
    slow = decisions_at(1.0)  # and less than 5% of ~1 s
    assert fast[:9] == [False] * 9 and all(fast[9:])
    assert slow == [False] * 15


def test_a_log_without_decisions_replays_fresh():
    inner = Recording(SPACE, metric="loss", seed=0)
    wrapper = Prefetching(inner)  # policy auto, not live: as during the replay of an old log
    wrapper.replay_decisions(None)
    for _ in range(5):
        wrapper.suggest()
    assert len(inner.produced) == 5 and wrapper.take_decisions() == [False] * 5


# -- auto's cost rule ------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_auto_hands_over_to_tpe_when_gp_decisions_cost_more_than_their_share(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(_auto.time, "perf_counter", clock)
    real_suggest = GP.suggest

    def slow_suggest(self):
        clock.now += 0.010  # every GP decision "takes" 10 ms
        return real_suggest(self)

    monkeypatch.setattr(GP, "suggest", slow_suggest)
    auto = Auto(SPACE, metric="loss", seed=0)
    auto.measure_costs()
    running = [auto.suggest()]
    observed = 0
    while len(auto.picks) == 1:
        clock.now += 0.020  # a result every 30 ms with the decision: 10 > 25% of 30
        config = running.pop(0)
        auto.observe(config, {"loss": loss(config)})
        observed += 1
        running.append(auto.suggest())
        assert observed < 20
    # Eight intervals between nine results are needed (five decisions long before).
    assert observed == _auto.RESULT_WINDOW + 1
    assert [p.name for p in auto.picks] == ["gp", "tpe"] and auto.chosen.name == "tpe"
    assert "10.0 ms" in auto.handovers[0] and "30.0 ms" in auto.handovers[0]
    assert isinstance(auto.delegate, TPE)
    assert auto.delegate.n_observed == observed  # every result so far was handed over
    # The config running when the pick changed is pending in TPE (the suggestion that
    # triggered the handover came from the GP, and is running too).
    assert auto.delegate.n_pending == 1


def test_auto_keeps_the_gp_when_decisions_are_a_small_share(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(_auto.time, "perf_counter", clock)
    real_suggest = GP.suggest

    def suggest(self):
        clock.now += 0.010
        return real_suggest(self)

    monkeypatch.setattr(GP, "suggest", suggest)
    auto = Auto(SPACE, metric="loss", seed=0)
    auto.measure_costs()
    for _ in range(12):
        config = auto.suggest()
        clock.now += 0.5  # a 1 s trial on two workers
        auto.observe(config, {"loss": loss(config)})
    assert [p.name for p in auto.picks] == ["gp"] and auto.handovers == []


def test_auto_measures_the_rate_of_results_not_the_gap_between_two(monkeypatch):
    # Two workers started together finish together: results come in pairs 1 ms apart,
    # pairs 1 s apart. Decisions of 100 ms are 20% of the 0.5 s between results: keep the GP.
    clock = FakeClock()
    monkeypatch.setattr(_auto.time, "perf_counter", clock)
    real_suggest = GP.suggest

    def suggest(self):
        clock.now += 0.100
        return real_suggest(self)

    monkeypatch.setattr(GP, "suggest", suggest)
    auto = Auto(SPACE, metric="loss", seed=0)
    auto.measure_costs()
    running = [auto.suggest(), auto.suggest()]
    for _ in range(10):
        clock.now += 1.0
        for gap in (0.0, 0.001):
            clock.now += gap
            config = running.pop(0)
            auto.observe(config, {"loss": loss(config)})
        running += [auto.suggest(), auto.suggest()]
    assert auto.handovers == [] and auto.chosen.name == "gp"


def test_auto_without_the_cost_rule_never_hands_over():
    auto = Auto(SPACE, metric="loss", seed=0)
    for _ in range(15):
        config = auto.suggest()
        auto.observe(config, {"loss": loss(config)})
    assert auto.handovers == [] and auto.chosen.name == "gp"
