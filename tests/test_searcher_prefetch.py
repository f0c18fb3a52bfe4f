"""Suggestions computed ahead (rung.searchers._prefetch) and auto's cost rule.

The wrapper's promise: the inner searcher receives the calls in one fixed order, a
function of the order of the caller's calls only (each hand-out's lookahead before the
results that arrive after it), whether the lookahead runs on the background thread or
inline; the lookahead config is pending in the model as soon as it is computed; nothing is
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
    wrapper = Prefetching(make())
    handed = drive_wrapped(wrapper, steps)
    wrapper.close()
    assert handed == drive_reference(make(), steps)
    if mode == "background":
        assert wrapper.n_background > 0 and wrapper.n_inline == 3  # the first 3 calls measure the cost
    else:
        assert wrapper.n_background == 0


def test_lookahead_config_is_pending_in_the_model(mode):
    inner = TPE(SPACE, metric="loss", seed=1, n_initial=3)
    wrapper = Prefetching(inner)
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
    wrapper = Prefetching(inner)
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
    wrapper = Prefetching(Exhausted(SPACE, seed=0, left=2))
    assert wrapper.suggest() is not None and wrapper.suggest() is not None
    assert wrapper.suggest() is None and wrapper.suggest() is None
    wrapper.close()


class Failing(Random):
    def observe(self, config, metrics):
        raise ValueError("bad result")


def test_an_error_in_a_queued_call_is_raised_by_the_next_call(monkeypatch):
    monkeypatch.setattr(_prefetch, "BACKGROUND_ABOVE", 0.0)
    wrapper = Prefetching(Failing(SPACE, seed=0))
    configs = [wrapper.suggest() for _ in range(4)]  # three inline, then background
    wrapper.observe(configs[0], {"loss": 1.0})  # queued: returns at once
    with pytest.raises(ValueError, match="bad result"):
        wrapper.drain()
    wrapper.close()


# -- through the tuner ---------------------------------------------------------------------

QUADRATIC = {"x": rung.uniform(-1, 1), "y": rung.uniform(-1, 1)}


def test_tuner_computes_ahead_on_worker_processes_and_gives_the_searcher_back(monkeypatch):
    monkeypatch.setattr(_prefetch, "BACKGROUND_ABOVE", 0.0)
    searcher = TPE(QUADRATIC, metric="loss", seed=2, n_initial=4)
    tuner = rung.Tuner(quadratic, QUADRATIC, metric="loss", searcher=searcher, max_trials=10, n_workers=1,
                       backend="process", storage=":memory:", verbose=0)
    installed = []
    real_install = _prefetch.install
    monkeypatch.setattr(_prefetch, "install", lambda *a: installed.append(real_install(*a)) or installed[-1])
    result = tuner.run()
    assert isinstance(installed[0], Prefetching) and installed[0].inner is searcher
    assert installed[0].n_background > 0
    assert tuner.scheduler.searcher is searcher  # unwrapped at the end of the run
    assert result.count("completed") == 10
    # One worker: results arrive one by one, so the configs are the reference order's.
    reference = TPE(QUADRATIC, metric="loss", seed=2, n_initial=4)
    handed, ahead = [], None
    for _ in range(10):
        config = reference.suggest() if ahead is None else ahead
        ahead = reference.suggest()
        handed.append(config)
        reference.observe(config, {"loss": quadratic(config)})
    assert [t.config for t in result.trial_records] == handed


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
    store = tmp_path / "s.db"

    def go(name, max_trials, resume=False):
        return rung.Tuner(quadratic, QUADRATIC, metric="loss", searcher="tpe", max_trials=max_trials, seed=3,
                          n_workers=1, backend="process", verbose=0, storage=store, experiment=name,
                          resume=resume).run()

    straight = go("straight", 16)
    go("halves", 9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        resumed = go("halves", 16, resume=True)
    assert [t.config for t in straight.trial_records] == [t.config for t in resumed.trial_records]


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
    # Eight intervals between nine results are needed (three decisions long before).
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
