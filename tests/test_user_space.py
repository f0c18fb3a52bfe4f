"""Seed code's spaces work unchanged (issue 13, items 1, 3, 10): scipy.stats distributions,
HyperDrive's choice(16, 32, 64), and lists or tuples refused with the fix."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import rung
from rung.searchers import BOHB, GP, MOBSTER, TPE, Grid, Random
from rung.space import Normal, RandInt, ScipyDomain, Space, SpaceError, Uniform, from_scipy

# -- item 1: exact mapping -------------------------------------------------------------------


@pytest.mark.parametrize(
    "dist, expected",
    [
        (stats.uniform(2, 3), Uniform(2.0, 5.0)),
        (stats.uniform(loc=-1, scale=0.5), Uniform(-1.0, -0.5)),
        (stats.loguniform(1e-2, 1), Uniform(1e-2, 1.0, log=True)),  # d2l
        (stats.reciprocal(1e-4, 1e-1), Uniform(1e-4, 1e-1, log=True)),
        (stats.loguniform(1, 10, scale=2), Uniform(2.0, 20.0, log=True)),
        (stats.randint(32, 256), RandInt(32, 255)),  # d2l; scipy's high is exclusive
        (stats.randint(0, 4, loc=10), RandInt(10, 13)),
        (stats.norm(1.5, 2), Normal(1.5, 2.0)),
        (stats.norm(), Normal(0.0, 1.0)),
        (stats.lognorm(0.5, scale=math.e), Normal(1.0, 0.5, log=True)),
        (stats.lognorm(s=0.25), Normal(0.0, 0.25, log=True)),
    ],
)
def test_common_scipy_distributions_map_to_the_exact_rung_domain(dist, expected):
    domain = Space({"p": dist})["p"]
    assert domain == expected
    assert from_scipy(dist) == expected
    # stored as the rung domain: loading needs no scipy object
    assert Space.from_dict(Space({"p": dist}).to_dict())["p"] == expected


def test_the_mapped_domains_have_the_scipy_distributions_support_and_quantiles():
    for dist in (stats.uniform(2, 3), stats.loguniform(1e-2, 1), stats.norm(1.5, 2), stats.lognorm(0.5, scale=2.0)):
        domain = from_scipy(dist)
        for u in (0.1, 0.5, 0.9):
            assert domain.from_unit(u) == pytest.approx(dist.ppf(u), rel=1e-9)
    randint = from_scipy(stats.randint(32, 256))
    assert randint.grid() == list(range(32, 256))


def test_a_location_shifted_loguniform_is_not_forced_onto_the_exact_mapping():
    domain = from_scipy(stats.loguniform(1, 10, loc=5))
    assert isinstance(domain, ScipyDomain)
    assert domain.from_unit(0.5) == pytest.approx(stats.loguniform(1, 10, loc=5).ppf(0.5))


# -- item 1: any other distribution, via ppf / cdf ------------------------------------------------

OTHERS = [
    stats.gamma(2.0, scale=3.0),
    stats.beta(2, 5),
    stats.expon(scale=0.1),
    stats.truncnorm(-1, 2, loc=0.5, scale=0.2),
    stats.poisson(4),
    stats.binom(10, 0.3),
    stats.geom(0.2),
]


@pytest.mark.parametrize("dist", OTHERS, ids=lambda d: d.dist.name)
def test_any_other_distribution_samples_from_itself_and_round_trips(dist):
    domain = Space({"p": dist})["p"]
    assert isinstance(domain, ScipyDomain)
    discrete = isinstance(dist.dist, stats.rv_discrete)
    rng = np.random.default_rng(0)
    draws = [domain.sample(rng) for _ in range(2000)]
    low, high = dist.support()
    assert all(low <= x <= high for x in draws)
    assert all(isinstance(x, int) for x in draws) if discrete else all(isinstance(x, float) for x in draws)
    # the draws follow the distribution (a fixed seed: the test is exact, not flaky)
    if discrete:
        assert abs(np.mean(draws) - dist.mean()) < 4 * dist.std() / math.sqrt(len(draws))
    else:
        assert stats.kstest(draws, dist.cdf).pvalue > 1e-3
    for x in draws[:50]:
        assert domain.validate(x) == x
        if discrete:
            assert domain.from_unit(domain.to_unit(x)) == x
        else:
            assert domain.from_unit(domain.to_unit(x)) == pytest.approx(x, rel=1e-6, abs=1e-9)
    restored = Space.from_json(Space({"p": dist}).to_json())["p"]
    assert restored == domain and repr(restored) == repr(domain)
    assert restored.from_unit(0.3) == domain.from_unit(0.3)


@settings(max_examples=60, deadline=None)
@given(u=st.floats(0.0, 1.0))
def test_unit_mapping_of_a_generic_distribution_is_monotone_and_inverts(u):
    domain = from_scipy(stats.gamma(2.0, scale=3.0))
    x = domain.from_unit(u)
    assert math.isfinite(x)
    assert domain.from_unit(min(1.0, u + 0.01)) >= x
    assert domain.from_unit(domain.to_unit(x)) == pytest.approx(x, rel=1e-6, abs=1e-9)
    ints = from_scipy(stats.binom(10, 0.3))
    k = ints.from_unit(u)
    assert ints.from_unit(ints.to_unit(k)) == k


def test_finite_discrete_distributions_grid_their_support_and_continuous_ones_need_num_points():
    assert from_scipy(stats.binom(4, 0.5)).grid() == [0, 1, 2, 3, 4]
    assert from_scipy(stats.binom(4, 0.5)).is_finite
    assert not from_scipy(stats.poisson(3)).is_finite
    gamma = from_scipy(stats.gamma(2.0))
    assert gamma.grid(3) == pytest.approx([stats.gamma(2.0).ppf(q) for q in (0.25, 0.5, 0.75)])
    with pytest.raises(SpaceError, match="num_points"):
        Space({"g": stats.gamma(2.0)}).grid_size()


def test_values_outside_a_scipy_domain_are_refused_with_its_support():
    space = Space({"p": stats.poisson(4), "b": stats.beta(2, 5)})
    with pytest.raises(SpaceError, match="parameter 'p'.*integer"):
        space.validate({"p": 2.5, "b": 0.5})
    with pytest.raises(SpaceError, match=r"parameter 'b'.*outside the support \[0, 1\]"):
        space.validate({"p": 2, "b": 1.5})


def test_invalid_scipy_parameters_are_refused_naming_the_parameter():
    with pytest.raises(SpaceError, match=r"parameter 'lr': scipy\.stats\.norm\(0, -1\).*sigma > 0"):
        Space({"lr": stats.norm(0, -1)})
    with pytest.raises(SpaceError, match=r"parameter 'n'.*single value 5.*constant"):
        Space({"n": stats.randint(5, 6)})
    with pytest.raises(SpaceError, match=r"parameter 'g'.*invalid parameters"):
        Space({"g": stats.gamma(-1.0)})
    with pytest.raises(SpaceError, match="scipy.stats has no distribution named 'os'"):
        Space.from_dict({"g": {"type": "scipy", "name": "os", "args": []}})


def test_a_scipy_domain_can_be_conditional_through_from_scipy():
    space = Space({"deep": rung.choice([True, False]),
                   "width": rung.from_scipy(stats.poisson(30)).when("deep", "==", True)})
    configs = [space.sample(np.random.default_rng(i)) for i in range(20)]
    assert all(("width" in c) == c["deep"] for c in configs)


# -- item 1: every searcher ---------------------------------------------------------------------

SCIPY_SPACE = {
    "learning_rate": stats.loguniform(1e-2, 1),
    "batch_size": stats.randint(32, 256),
    "dropout": stats.beta(2, 5),
    "layers": stats.poisson(3),
}


def _loss(config):
    return ((math.log10(config["learning_rate"]) + 1) ** 2 + (config["batch_size"] - 64) ** 2 / 1e4
            + (config["dropout"] - 0.2) ** 2 + 0.01 * config["layers"])


@pytest.mark.parametrize("cls", [Random, TPE, GP])
def test_single_fidelity_searchers_search_a_scipy_space(cls):
    space = Space(SCIPY_SPACE)
    searcher = cls(space, metric="loss", mode="min", seed=0)
    seen = []
    for _ in range(14):
        config = searcher.suggest()
        assert space.validate(config) == config
        seen.append(config)
        searcher.observe(config, {"loss": _loss(config)})
    assert len({json.dumps(c, sort_keys=True) for c in seen}) == len(seen)  # something is tuned


def test_grid_walks_a_finite_scipy_space():
    space = Space({"batch_size": stats.randint(32, 36), "k": stats.binom(2, 0.5)})
    grid = Grid(space)
    configs = []
    while (config := grid.suggest()) is not None:
        configs.append(config)
    assert configs == [{"batch_size": b, "k": k} for b in range(32, 36) for k in (0, 1, 2)]


def _epochs(config):
    for epoch in range(1, 5):
        rung.report(epoch=epoch, loss=_loss(config) + 1.0 / epoch)


@pytest.mark.parametrize("cls", [BOHB, MOBSTER])
def test_multi_fidelity_searchers_search_a_scipy_space_under_asha(cls):
    searcher = cls(Space(SCIPY_SPACE), seed=0)
    result = rung.Tuner(_epochs, SCIPY_SPACE, metric="loss", mode="min", searcher=searcher,
                        scheduler=rung.schedulers.ASHA("epoch", max_resource=4), max_trials=12,
                        backend="inprocess", storage=":memory:", verbose=0, seed=0).run()
    assert result.count("failed") == 0 and len(result.trial_records) == 12
    space = Space(SCIPY_SPACE)
    for trial in result.trial_records:
        assert space.validate(trial.config) == trial.config


def test_the_tuner_stores_and_reloads_a_scipy_space(tmp_path):
    store = tmp_path / "s.db"
    space = {"g": stats.gamma(2.0, scale=0.1), "lr": stats.loguniform(1e-3, 1)}
    rung.Tuner(lambda c: c["g"] + c["lr"], space, metric="loss", max_trials=3, storage=str(store),
               experiment="scipy-space", verbose=0, backend="inprocess").run()
    loaded = rung.load("scipy-space", storage=str(store))
    assert Space.from_dict(loaded.space) == Space(space)


# -- item 3: choice(16, 32, 64) ------------------------------------------------------------------


def test_hyperdrive_choice_form_is_the_same_domain_as_the_list_form():
    assert rung.choice(16, 32, 64, 128) == rung.choice([16, 32, 64, 128])
    assert rung.choice("adam", "sgd").grid() == ["adam", "sgd"]
    assert repr(rung.choice(16, 32)) == "choice([16, 32])"
    assert rung.choice([1, 2], [3]).grid() == [[1, 2], [3]]  # several lists: each is an option
    with pytest.raises(SpaceError, match="parameter 'b'.*distinct"):
        Space({"b": rung.choice(16, 16)})


# -- item 10: lists and tuples --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, fixes",
    [
        ((1e-3, 1e-1), ["rung.uniform(0.001, 0.1)", "rung.choice([0.001, 0.1])", "rung.constant((0.001, 0.1))"]),
        ([16, 32, 64], ["rung.choice([16, 32, 64])", "rung.constant([16, 32, 64])"]),
        (["adam", "sgd"], ["rung.choice(['adam', 'sgd'])", "rung.constant(['adam', 'sgd'])"]),
        (np.array([1, 2, 3]), ["rung.choice([1, 2, 3])"]),
    ],
)
def test_lists_and_tuples_in_a_space_are_refused_with_the_fixes(value, fixes):
    with pytest.raises(SpaceError) as info:
        Space({"lr": value})
    message = str(info.value)
    assert message.startswith("parameter 'lr': ")
    for fix in fixes:
        assert fix in message
    if isinstance(value, list) and len(value) == 3:
        assert "rung.uniform" not in message  # a range needs exactly two numbers


def test_constant_passes_a_sequence_itself_to_every_trial():
    space = Space({"sizes": rung.constant([64, 64]), "pair": rung.constant((1, 2)), "x": rung.uniform(0, 1)})
    config = space.sample(np.random.default_rng(0))
    assert config["sizes"] == [64, 64] and config["pair"] == (1, 2)
    restored = Space.from_yaml(space.to_yaml())
    assert restored == space and restored["pair"].value == (1, 2)
    assert "Constant([64, 64])" in repr(space)
    assert rung.Space(eval(repr(space).replace("Constant", "rung.constant").replace("uniform", "rung.uniform")
                           .removeprefix("Space(").removesuffix(")"))) == space


def test_a_list_in_a_yaml_spec_space_is_refused_with_the_fixes(tmp_path):
    from rung.spec import SpecError, load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text("name: x\ntrial:\n  function: user_objectives:syne_tune_function\n"
                    "space:\n  x: {type: uniform, low: 0, high: 1}\n  width: [16, 32]\nmetric: loss\n")
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    message = str(info.value)
    assert "spec.yaml:6: space.width: a list is ambiguous" in message
    assert "{type: choice, values: [16, 32]}" in message and "{type: constant, value: [16, 32]}" in message
    spec.write_text(spec.read_text().replace("width: [16, 32]", "width: {type: constant, value: [16, 32]}"))
    assert load_spec(spec).space["width"].value == [16, 32]


def test_a_yaml_spec_can_name_a_scipy_distribution(tmp_path):
    from rung.spec import SpecError, load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text("name: x\ntrial:\n  function: user_objectives:syne_tune_function\nspace:\n"
                    "  x: {type: scipy, name: beta, args: [2, 5]}\n  width: {type: choice, values: [16, 32]}\n"
                    "metric: loss\n")
    assert load_spec(spec).space["x"] == from_scipy(stats.beta(2, 5))
    spec.write_text(spec.read_text().replace("name: beta", "name: not_a_distribution"))
    with pytest.raises(SpecError, match="space.x: scipy.stats has no distribution named 'not_a_distribution'"):
        load_spec(spec)


def test_scipy_objects_that_are_not_frozen_distributions_are_refused_not_taken_as_constants():
    with pytest.raises(SpaceError, match=r"parameter 'lr': scipy.stats.loguniform is a distribution family.*call it"):
        Space({"lr": stats.loguniform})
    with pytest.raises(SpaceError, match="parameter 'x': Normal .*not supported as a domain"):
        Space({"x": stats.Normal(mu=0, sigma=1)})


def test_a_dict_of_domains_is_refused_rather_than_taken_as_a_constant():
    with pytest.raises(SpaceError, match=r"parameter 'optimizer': a dict holding domains \(lr\).*'optimizer.lr'"):
        Space({"optimizer": {"name": "adam", "lr": rung.loguniform(1e-4, 1e-1)}})
    assert Space({"optimizer": {"name": "adam", "betas": [0.9, 0.99]}})["optimizer"].value["name"] == "adam"
