"""Failures teach the model-based searchers (issue 13 item 11).

The GP fits a failed config at the worst value observed so far; TPE puts it in the bad
group as worse than any result. Scripted observations, exact outcomes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import rung
from rung.searchers import GP, TPE

SPACE = {"x": rung.uniform(-5, 10), "y": rung.uniform(0, 15)}


def branin(c):
    b, k, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (c["y"] - b * c["x"] ** 2 + k * c["x"] - 6) ** 2 + 10 * (1 - t) * math.cos(c["x"]) + 10


def scripted(n=6):
    space = rung.Space(SPACE)
    rng = np.random.default_rng(0)
    return [space.sample(rng) for _ in range(n)]


def test_gp_fits_a_failed_config_at_the_worst_value_seen():
    gp = GP(SPACE, metric="loss", seed=0)
    configs = scripted(6)
    for config in configs[:5]:
        gp.observe(config, {"loss": branin(config)})
    gp.on_failed(configs[5])
    X, y = gp._fitted_data()[:2]
    assert len(X) == 6
    np.testing.assert_allclose(X[-1], gp._encoding.encode(configs[5]))
    worst_observed = int(np.argmax([branin(c) for c in configs[:5]]))
    assert y[-1] == y.max() == y[worst_observed]  # the transform keeps the tie


def test_gp_counts_a_result_without_the_metric_as_a_failure():
    gp = GP(SPACE, metric="loss", seed=0)
    configs = scripted(4)
    for config in configs[:3]:
        gp.observe(config, {"loss": branin(config)})
    gp.observe(configs[3], {"accuracy": 0.5})
    gp.observe(scripted(5)[4], {"loss": float("nan")})
    X, y = gp._fitted_data()[:2]
    assert len(X) == 5 and y[-1] == y[-2] == y.max()


def test_gp_without_failures_fits_the_observations_only():
    gp = GP(SPACE, metric="loss", seed=0)
    for config in scripted(5):
        gp.observe(config, {"loss": branin(config)})
    X = gp._fitted_data()[0]
    assert len(X) == 5


def test_gp_failures_count_towards_the_initial_design(monkeypatch):
    calls = []
    monkeypatch.setattr(GP, "_model_point", lambda self: calls.append(1) or np.full(2, 0.5))
    gp = GP(SPACE, metric="loss", seed=0, n_initial=4)
    configs = scripted(4)
    for config in configs[:2]:
        gp.observe(config, {"loss": branin(config)})
    gp.suggest()
    assert calls == []  # 2 results + 1 pending < 4: still the design
    gp.on_failed(configs[2])  # not the pending one: a failure reported from elsewhere
    gp.suggest()
    assert calls == [1]  # 2 results + 1 failure + 1 pending = 4: the model


@pytest.mark.parametrize("make", [
    lambda seed: GP(SPACE, metric="loss", seed=seed),
    lambda seed: TPE(SPACE, metric="loss", seed=seed),
])
def test_searchers_leave_a_failing_region_after_learning_it(make):
    # Branin fails for x > 9 (an optimum lies there). The searcher may probe the edge of
    # the strip, but most of its trials must stay out: the GP ignoring failures (the old
    # behaviour) put 29 of these 40 trials there with this seed.
    inside = 0
    searcher = make(3)
    for _ in range(40):
        config = searcher.suggest()
        if config["x"] > 9:
            inside += 1
            searcher.on_failed(config)
        else:
            searcher.observe(config, {"loss": branin(config)})
    assert inside <= 8
