"""Tests for rung.space: domains, conditions, spaces, grids and serialization."""

from __future__ import annotations

import itertools
import json
import math
import pickle
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rung.space as rs
from rung.space import (
    Constant,
    Domain,
    Space,
    SpaceError,
    choice,
    loguniform,
    lognormal,
    normal,
    qloguniform,
    qlognormal,
    qnormal,
    quniform,
    randint,
    uniform,
)

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
seeds = st.integers(0, 2**32 - 1)


# -- strategies: one per domain kind, each giving the factory arguments ---------------------


@dataclass
class Case:
    """A generated domain together with the arguments it was made from."""

    kind: str
    args: tuple
    kwargs: dict

    @property
    def domain(self) -> Domain:
        return getattr(rs, self.kind)(*self.args, **self.kwargs)


def _case(kind: str, *args: Any, **kwargs: Any) -> Case:
    return Case(kind, args, kwargs)


nice_q = st.sampled_from([0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])


@st.composite
def uniform_cases(draw):
    low = draw(st.floats(-1e6, 1e6))
    return _case("uniform", low, low + draw(st.floats(1e-3, 1e6)))


@st.composite
def loguniform_cases(draw):
    low = draw(st.floats(1e-8, 1e3))
    return _case("loguniform", low, low * draw(st.floats(1.01, 1e6)))


@st.composite
def normal_cases(draw):
    return _case("normal", draw(st.floats(-1e3, 1e3)), draw(st.floats(1e-3, 1e3)))


@st.composite
def lognormal_cases(draw):
    return _case("lognormal", draw(st.floats(-5, 5)), draw(st.floats(1e-2, 2)))


@st.composite
def quniform_cases(draw):
    if draw(st.booleans()):
        q = draw(st.integers(1, 20))
        low = draw(st.integers(-100, 100))
        return _case("quniform", low, low + q * draw(st.integers(2, 50)), q)  # >= 2 multiples
    q = draw(nice_q)
    low = draw(st.floats(-100, 100))
    return _case("quniform", low, low + q * draw(st.floats(2, 50)), q)


@st.composite
def qloguniform_cases(draw):
    if draw(st.booleans()):
        q = draw(st.integers(1, 8))
        low = draw(st.integers(1, 50))
        return _case("qloguniform", low, low + q * draw(st.integers(2, 100)), q)
    q = draw(nice_q)
    low = draw(st.floats(1e-3, 10))
    return _case("qloguniform", low, low + q * draw(st.floats(2, 100)), q)


@st.composite
def qnormal_cases(draw):
    if draw(st.booleans()):
        return _case(
            "qnormal", draw(st.integers(-100, 100)), draw(st.integers(1, 50)), draw(st.integers(1, 10))
        )
    sigma = draw(st.floats(0.1, 50))
    return _case("qnormal", draw(st.floats(-100, 100)), sigma, sigma * draw(st.floats(0.01, 2)))


@st.composite
def qlognormal_cases(draw):
    if draw(st.booleans()):
        return _case("qlognormal", draw(st.integers(0, 4)), 1, draw(st.integers(1, 5)))
    return _case(
        "qlognormal", draw(st.floats(-2, 4)), draw(st.floats(0.1, 1.5)), draw(nice_q)
    )


@st.composite
def randint_cases(draw):
    if draw(st.booleans()):
        low = draw(st.integers(1, 1000))
        return _case("randint", low, low + draw(st.integers(1, 100_000)), log=True)
    low = draw(st.integers(-1000, 1000))
    return _case("randint", low, low + draw(st.integers(1, 1000)))


def _choice_key(value):
    return (type(value) is bool, value)


choice_values = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.text(alphabet="abcxyz019 _-.:", max_size=6),
    st.booleans(),
    st.none(),
    st.tuples(st.integers(1, 512), st.integers(1, 512)),
)


@st.composite
def choice_cases(draw):
    values = draw(st.lists(choice_values, min_size=1, max_size=8, unique_by=_choice_key))
    return _case("choice", values)


CASES = {
    "uniform": uniform_cases(),
    "loguniform": loguniform_cases(),
    "normal": normal_cases(),
    "lognormal": lognormal_cases(),
    "quniform": quniform_cases(),
    "qloguniform": qloguniform_cases(),
    "qnormal": qnormal_cases(),
    "qlognormal": qlognormal_cases(),
    "randint": randint_cases(),
    "choice": choice_cases(),
}
KINDS = list(CASES)
QUANTIZED = {"quniform", "qloguniform", "qnormal", "qlognormal"}


def _is_multiple(value: float, q: float) -> bool:
    k = round(value / q)
    return abs(value - k * q) <= 1e-9 * max(1.0, abs(value))


def assert_in_domain(case: Case, value: Any) -> None:
    """Checks ``value`` against the factory arguments, independently of the domain code."""
    kind, args = case.kind, case.args
    if kind == "choice":
        assert any(_choice_key(value) == _choice_key(v) for v in args[0])
        assert any(value is v for v in args[0]), "choice must return the given objects"
        return
    assert type(value) in (int, float), f"{value!r} is {type(value)}, not a Python number"
    assert math.isfinite(value)
    if kind in ("uniform", "loguniform"):
        assert type(value) is float and args[0] <= value <= args[1]
    elif kind == "normal":
        assert type(value) is float
    elif kind == "lognormal":
        assert type(value) is float and value > 0
    elif kind in ("quniform", "qloguniform"):
        low, high, q = args
        assert low <= value <= high
        assert _is_multiple(value, q)
        all_int = all(type(a) is int for a in args)
        assert type(value) is (int if all_int else float)
    elif kind in ("qnormal", "qlognormal"):
        q = args[2]
        assert _is_multiple(value, q)
        assert type(value) is (int if all(type(a) is int for a in args) else float)
        if kind == "qlognormal":
            assert value >= 0
    elif kind == "randint":
        low, high = args
        assert type(value) is int and low <= value <= high
    else:  # pragma: no cover
        raise AssertionError(kind)


def assert_same(case: Case, got: Any, expected: Any) -> None:
    """Exact equality, except for continuous floats (tiny relative tolerance)."""
    if case.kind in ("uniform", "loguniform", "normal", "lognormal"):
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    else:
        assert type(got) is type(expected)
        assert got == expected


# -- per-kind properties --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data(), seed=seeds)
def test_samples_lie_in_the_domain_and_validate(kind, data, seed):
    case = data.draw(CASES[kind])
    domain = case.domain
    rng = np.random.default_rng(seed)
    for _ in range(30):
        value = domain.sample(rng)
        assert_in_domain(case, value)
        assert domain.contains(value)
        assert_same(case, domain.validate(value), value)
        assert domain.validate(value) == value


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data(), seed=seeds)
def test_unit_round_trip(kind, data, seed):
    case = data.draw(CASES[kind])
    domain = case.domain
    rng = np.random.default_rng(seed)
    for _ in range(30):
        value = domain.sample(rng)
        u = domain.to_unit(value)
        assert type(u) is float and 0.0 <= u <= 1.0
        assert_same(case, domain.from_unit(u), value)
    for u in rng.random(10).tolist() + [0.0, 1.0]:
        assert_in_domain(case, domain.from_unit(u))


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data(), seed=seeds)
def test_space_json_and_yaml_round_trip(kind, data, seed):
    case = data.draw(CASES[kind])
    domain = case.domain
    space = Space({"x": domain, "flag": choice([True, False]), "y": domain.when("flag", "==", True), "c": 3})
    from_json = Space.from_json(space.to_json())
    from_yaml = Space.from_yaml(space.to_yaml())
    assert from_json == space
    assert from_yaml == space
    json.loads(space.to_json())  # really JSON
    assert yaml.safe_load(space.to_yaml()) == json.loads(space.to_json())
    # Restored spaces draw exactly the same configs.
    expected = [space.sample(np.random.default_rng(seed)) for _ in range(3)]
    for restored in (from_json, from_yaml):
        assert [restored.sample(np.random.default_rng(seed)) for _ in range(3)] == expected


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_repr_reads_like_the_factory_call(kind, data):
    case = data.draw(CASES[kind])
    domain = case.domain
    assert repr(domain).startswith(kind + "(")
    assert eval(repr(domain), vars(rs)) == domain
    conditioned = domain.when("a", ">=", 3).when("b", "in", ["x", "y"])
    assert eval(repr(conditioned), vars(rs)) == conditioned
    assert rs.domain_from_dict(conditioned.to_dict()) == conditioned
    assert conditioned != domain


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data(), seed=seeds)
def test_seeded_sampling_is_deterministic(kind, data, seed):
    case = data.draw(CASES[kind])
    space = Space({"x": case.domain, "n": randint(1, 4), "m": uniform(0, 1).when("n", ">", 2)})
    first = [space.sample(np.random.default_rng(seed)) for _ in range(2)]
    rng_a, rng_b = np.random.default_rng(seed), np.random.default_rng(seed)
    assert [space.sample(rng_a) for _ in range(20)] == [space.sample(rng_b) for _ in range(20)]
    assert first[0] == first[1]


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data(), seed=seeds)
def test_space_unit_round_trip(kind, data, seed):
    case = data.draw(CASES[kind])
    space = Space(
        {"x": case.domain, "n": randint(1, 4), "y": case.domain.when("n", ">=", 3), "c": "const"}
    )
    rng = np.random.default_rng(seed)
    for _ in range(10):
        config = space.sample(rng)
        x = space.to_unit(config)
        assert x.shape == (3,)
        assert np.isnan(x[2]) == ("y" not in config)
        back = space.from_unit(x)
        assert list(back) == list(config)
        for name in ("x", "y"):
            if name in config:
                assert_same(case, back[name], config[name])
        assert back["n"] == config["n"] and back["c"] == "const"


@pytest.mark.parametrize("kind", ["quniform", "qloguniform", "randint", "choice"])
@SETTINGS
@given(data=st.data())
def test_finite_domain_grid_lists_every_value_once(kind, data):
    case = data.draw(CASES[kind])
    domain = case.domain
    assert domain.is_finite
    values = domain.grid()
    assert len(values) == domain.grid_size() == len({_choice_key(v) for v in values})
    assert domain.grid(3) == values  # num_points is ignored for finite domains
    for value in values:
        assert_in_domain(case, value)
        assert_same(case, domain.validate(value), value)
    if kind != "choice":
        assert values == sorted(values)
        low, high, *rest = case.args
        step = rest[0] if rest else 1
        # Every multiple of q inside [low, high] is there, and nothing else (decimal
        # arithmetic, so that 0.7 counts as 7 * 0.1).
        low, high, step = (Decimal(repr(v)) for v in (low, high, step))
        first, last = math.ceil(low / step), math.floor(high / step)
        assert [Decimal(repr(v)) for v in values] == [k * step for k in range(first, last + 1)]


@pytest.mark.parametrize("kind", ["uniform", "loguniform", "normal", "lognormal", "qnormal", "qlognormal"])
@SETTINGS
@given(data=st.data(), n=st.integers(1, 12))
def test_infinite_domain_grid_needs_num_points(kind, data, n):
    case = data.draw(CASES[kind])
    domain = case.domain
    assert not domain.is_finite
    with pytest.raises(SpaceError, match="continuous.*num_points"):
        domain.grid()
    values = domain.grid(n)
    if kind in QUANTIZED:
        assert 1 <= len(values) <= n and len(set(values)) == len(values)
    else:
        assert len(values) == n
    assert values == sorted(values)
    for value in values:
        assert_in_domain(case, value)


# -- distributions --------------------------------------------------------------------------


def _draw(domain, n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    return np.array([domain.sample(rng) for _ in range(n)])


def test_distributions_match_their_definitions():
    x = _draw(uniform(2, 4))
    assert abs(x.mean() - 3) < 0.03
    x = _draw(loguniform(1e-4, 1))
    assert abs(np.log10(x).mean() + 2) < 0.05 and x.min() >= 1e-4 and x.max() <= 1
    x = _draw(normal(5, 2))
    assert abs(x.mean() - 5) < 0.06 and abs(x.std() - 2) < 0.06
    x = _draw(lognormal(1, 0.5))
    assert abs(np.log(x).mean() - 1) < 0.02 and abs(np.log(x).std() - 0.5) < 0.02
    # Rounding a uniform draw gives the end points half weight (hyperopt semantics).
    x = _draw(quniform(0, 10, 5))
    share = {v: np.mean(x == v) for v in (0, 5, 10)}
    assert share[0] == pytest.approx(0.25, abs=0.02) and share[5] == pytest.approx(0.5, abs=0.02)
    # A value rounded out of range moves inward by q.
    assert set(_draw(quniform(0.5, 3, 1)).tolist()) == {1, 2, 3}
    assert set(_draw(qloguniform(1, 100, 10)).tolist()) <= set(range(10, 101, 10))
    x = _draw(randint(1, 4))
    assert set(x.tolist()) == {1, 2, 3, 4}
    assert all(abs(np.mean(x == k) - 0.25) < 0.02 for k in (1, 2, 3, 4))
    x = _draw(randint(1, 1000, log=True))
    assert np.mean(x <= 22) == pytest.approx(0.5, abs=0.02)  # log-uniform on [0.5, 1000.5]
    x = _draw(qnormal(0, 1, 0.5))
    assert set(np.round(x / 0.5, 9).tolist()) <= set(range(-20, 21))
    assert _draw(qlognormal(-3, 1, 1)).min() == 0  # rounding can give 0, as in hyperopt
    x = _draw(choice(["a", "b", "c"]))
    assert all(abs(np.mean(x == v) - 1 / 3) < 0.02 for v in "abc")


def test_unit_encoding_details():
    assert uniform(0, 10).to_unit(2.5) == 0.25
    assert loguniform(1, 100).to_unit(10) == pytest.approx(0.5)
    assert loguniform(1, 100).from_unit(0.5) == pytest.approx(10)
    assert normal(3, 2).to_unit(3) == 0.5 and normal(3, 2).from_unit(0.5) == 3
    assert 0 < normal(0, 1).to_unit(-1e9) < 1e-9 and 1 - 1e-9 < normal(0, 1).to_unit(1e9) < 1
    assert [randint(1, 4).to_unit(k) for k in (1, 2, 3, 4)] == [0.125, 0.375, 0.625, 0.875]
    assert [randint(1, 4).from_unit(u) for u in (0, 0.249, 0.25, 0.99, 1.0)] == [1, 1, 2, 4, 4]
    assert [choice(["a", "b"]).to_unit(v) for v in "ab"] == [0.25, 0.75]
    assert choice(["a", "b"]).from_unit(0.5) == "b"
    assert uniform(0, 1).from_unit(1.5) == 1.0 and uniform(0, 1).from_unit(-1) == 0.0
    with pytest.raises(SpaceError):
        randint(1, 3).from_unit(math.nan)
    with pytest.raises(SpaceError):
        normal(0, 1).from_unit(math.nan)


def test_validate_normalizes_and_refuses():
    assert uniform(0, 2).validate(1) == 1.0 and type(uniform(0, 2).validate(1)) is float
    assert randint(1, 5).validate(3.0) == 3 and type(randint(1, 5).validate(3.0)) is int
    assert randint(1, 5).validate(np.int64(4)) == 4 and type(randint(1, 5).validate(np.int64(4))) is int
    assert type(uniform(0, 2).validate(np.float32(1.5))) is float
    assert quniform(16, 256, 16).validate(32.0) == 32
    assert quniform(0, 1, 0.1).validate(0.1 + 0.2) == 0.3
    assert qnormal(0, 1, 0.25).validate(-0.75) == -0.75
    assert qlognormal(0, 1, 1).validate(0) == 0
    assert choice([(1, 2), "a"]).validate((1, 2)) == (1, 2)
    assert choice([1, 2]).validate(2.0) == 2
    assert Constant(3).validate(3) == 3
    bad = [
        (uniform(0, 1), 1.5),
        (uniform(0, 1), math.nan),
        (uniform(0, 1), "0.5"),
        (uniform(0, 1), True),
        (loguniform(1e-3, 1), 0),
        (normal(0, 1), math.inf),
        (lognormal(0, 1), -1.0),
        (randint(1, 5), 6),
        (randint(1, 5), 2.5),
        (randint(1, 5), True),
        (quniform(16, 256, 16), 40),
        (quniform(16, 256, 16), 272),
        (quniform(0, 1, 0.1), 0.35),
        (qnormal(0, 1, 0.5), 0.2),
        (qlognormal(0, 1, 1), -1),
        (choice(["a", "b"]), "c"),
        (choice([1, 2]), True),
        (Constant(3), 4),
    ]
    for domain, value in bad:
        assert not domain.contains(value), (domain, value)
        with pytest.raises(SpaceError):
            domain.validate(value)


def test_quantized_int_and_float_types():
    assert quniform(16, 256, 16).grid()[:3] == [16, 32, 48]
    assert all(type(v) is int for v in quniform(16, 256, 16).grid())
    assert all(type(v) is float for v in quniform(16, 256, 16.0).grid())
    assert quniform(0, 1, 0.1).grid() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert qloguniform(1, 20, 5).grid() == [5, 10, 15, 20]
    assert type(qnormal(0, 1, 1).sample(np.random.default_rng(0))) is int
    assert type(qnormal(0.0, 1, 1).sample(np.random.default_rng(0))) is float


# -- spaces ----------------------------------------------------------------------------------


def conditional_space():
    return Space(
        {
            "lr": loguniform(1e-4, 1.0),
            "num_layers": randint(1, 4),
            "units_3": randint(16, 256).when("num_layers", ">=", 3),
            "optimizer": choice(["adam", "sgd", "rmsprop"]),
            "momentum": uniform(0, 1).when("optimizer", "in", ["sgd", "rmsprop"]),
            "nesterov": choice([True, False]).when("momentum", ">", 0.5),
            "epochs": 10,
        }
    )


def test_space_is_an_ordered_mapping_of_domains():
    space = conditional_space()
    assert space.names == list(space) == [
        "lr", "num_layers", "units_3", "optimizer", "momentum", "nesterov", "epochs"
    ]
    assert len(space) == 7 and space["epochs"] == Constant(10) and "lr" in space
    assert space.tunable_names == space.names[:-1]
    assert not space.is_finite and Space({"a": randint(1, 2), "b": 3}).is_finite
    assert Space.coerce(space) is space
    assert Space.coerce({"a": 1}) == Space({"a": 1})
    assert space == conditional_space() and space != Space({"lr": loguniform(1e-4, 1.0)})
    assert Space({"a": 1, "b": 2}) != Space({"b": 2, "a": 1})
    assert "'units_3': randint(16, 256).when('num_layers', '>=', 3)" in repr(space)
    assert "'epochs': 10" in repr(space)
    assert eval(repr(space), vars(rs)) == space
    assert pickle.loads(pickle.dumps(space)) == space


def test_conditional_parameters_in_samples():
    space = conditional_space()
    rng = np.random.default_rng(1)
    seen_units = seen_nesterov = 0
    for _ in range(500):
        config = space.sample(rng)
        assert list(config) == [name for name in space.names if name in config]
        assert ("units_3" in config) == (config["num_layers"] >= 3)
        assert ("momentum" in config) == (config["optimizer"] != "adam")
        # Nested: nesterov needs momentum, which needs a non-adam optimizer.
        assert ("nesterov" in config) == ("momentum" in config and config["momentum"] > 0.5)
        assert config["epochs"] == 10
        assert space.validate(config) == config
        for name in space.names:
            assert space.is_active(name, config) == (name in config)
        seen_units += "units_3" in config
        seen_nesterov += "nesterov" in config
    assert 0 < seen_units < 500 and 0 < seen_nesterov < 500


def test_sample_with_fixed_values():
    space = conditional_space()
    rng = np.random.default_rng(0)
    for _ in range(20):
        config = space.sample(rng, fixed={"num_layers": 3, "optimizer": "sgd", "momentum": 0.9})
        assert config["num_layers"] == 3 and config["momentum"] == 0.9
        assert "units_3" in config and "nesterov" in config
    assert space.sample(rng, fixed={"num_layers": 4.0})["num_layers"] == 4
    with pytest.raises(SpaceError, match="units_3") as err:
        space.sample(rng, fixed={"num_layers": 1, "units_3": 32})
    assert err.value.param == "units_3" and "inactive" in str(err.value)
    with pytest.raises(SpaceError, match="num_layers") as err:
        space.sample(rng, fixed={"num_layers": 7})
    assert err.value.param == "num_layers"
    with pytest.raises(SpaceError, match="'bogus'") as err:
        space.sample(rng, fixed={"bogus": 1})
    assert err.value.param == "bogus"


def test_validate_config_errors_name_the_parameter():
    space = conditional_space()
    good = {"lr": 0.01, "num_layers": 3, "units_3": 64, "optimizer": "adam"}
    assert space.validate(good) == {**good, "epochs": 10}
    cases = [
        ({**good, "bogus": 1}, "bogus", "unknown"),
        ({"lr": 0.01, "num_layers": 3, "optimizer": "adam"}, "units_3", "missing"),
        ({**good, "num_layers": 1}, "units_3", "inactive"),
        ({**good, "momentum": 0.3}, "momentum", "inactive"),
        ({**good, "lr": 2.0}, "lr", "outside"),
        ({**good, "optimizer": "adamw"}, "optimizer", "not one of"),
        ({**good, "epochs": 11}, "epochs", "constant"),
    ]
    for config, name, fragment in cases:
        with pytest.raises(SpaceError) as err:
            space.validate(config)
        assert err.value.param == name
        assert f"'{name}'" in str(err.value) and fragment in str(err.value)


def test_to_unit_marks_inactive_parameters_nan():
    space = conditional_space()
    config = {"lr": 0.01, "num_layers": 1, "optimizer": "adam", "epochs": 10}
    x = space.to_unit(config)
    assert x.shape == (6,)
    inactive = [space.tunable_names[i] for i in np.flatnonzero(np.isnan(x))]
    assert inactive == ["units_3", "momentum", "nesterov"]
    # Coordinates of inactive parameters are ignored when decoding.
    x[np.isnan(x)] = 0.7
    decoded = space.from_unit(x)
    assert decoded == {**config, "lr": pytest.approx(0.01)}
    assert list(decoded) == list(config)
    x[1] = 0.99  # num_layers -> 4 activates units_3 (coordinate 0.7)
    assert space.from_unit(x)["units_3"] == randint(16, 256).from_unit(0.7)
    with pytest.raises(SpaceError, match="expected 6"):
        space.from_unit([0.5] * 5)
    with pytest.raises(SpaceError, match="'lr'"):
        space.from_unit([math.nan] + [0.5] * 5)


def test_condition_operators():
    parent = randint(0, 5)
    tests = {
        "==": (2, lambda v: v == 2),
        "!=": (2, lambda v: v != 2),
        "<": (2, lambda v: v < 2),
        "<=": (2, lambda v: v <= 2),
        ">": (2, lambda v: v > 2),
        ">=": (2, lambda v: v >= 2),
        "in": ([1, 4], lambda v: v in (1, 4)),
        "not in": ((1, 4), lambda v: v not in (1, 4)),
    }
    for op, (value, expected) in tests.items():
        space = Space({"p": parent, "c": choice(["x"]).when("p", op, value)})
        configs = list(space.grid())
        assert [("c" in c) for c in configs] == [expected(v) for v in range(6)], op


def test_several_conditions_are_anded():
    space = Space({"a": randint(0, 3), "b": randint(0, 3).when("a", ">", 0).when("a", "<", 3)})
    assert [c["a"] for c in space.grid() if "b" in c] == [1] * 4 + [2] * 4


def test_domains_are_immutable_under_when():
    base = randint(1, 3)
    child = base.when("x", "==", 1)
    assert base.conditions == () and len(child.conditions) == 1
    assert len(child.when("y", "!=", 2).conditions) == 2 and len(child.conditions) == 1


# -- grids -----------------------------------------------------------------------------------


def test_grid_order_is_declaration_order_last_fastest():
    space = Space({"a": choice(["x", "y"]), "b": randint(1, 3), "c": 7})
    assert list(space.grid()) == [
        {"a": a, "b": b, "c": 7} for a in ("x", "y") for b in (1, 2, 3)
    ]
    assert space.grid_size() == 6


def test_grid_of_conditional_space():
    space = Space({"num_layers": randint(1, 3), "units_3": randint(1, 2).when("num_layers", ">=", 3)})
    assert list(space.grid()) == [
        {"num_layers": 1},
        {"num_layers": 2},
        {"num_layers": 3, "units_3": 1},
        {"num_layers": 3, "units_3": 2},
    ]
    assert space.grid_size() == 4
    # The same space with the child declared first gives the same configs, in its own order.
    flipped = Space({"units_3": randint(1, 2).when("num_layers", ">=", 3), "num_layers": randint(1, 3)})
    configs = list(flipped.grid())
    assert len(configs) == 4 == flipped.grid_size()
    assert sorted(map(repr, configs)) == sorted(
        repr({k: c[k] for k in flipped.names if k in c}) for c in space.grid()
    )
    assert all(list(c) == [n for n in flipped.names if n in c] for c in configs)


def test_grid_nested_conditions():
    space = Space(
        {
            "a": choice([0, 1]),
            "b": choice([0, 1]).when("a", "==", 1),
            "c": choice(["p", "q"]).when("b", "==", 1),
        }
    )
    assert list(space.grid()) == [
        {"a": 0},
        {"a": 1, "b": 0},
        {"a": 1, "b": 1, "c": "p"},
        {"a": 1, "b": 1, "c": "q"},
    ]
    assert space.grid_size() == 4


def test_grid_continuous_needs_num_points():
    space = Space({"b": randint(1, 2), "lr": loguniform(1e-4, 1.0)})
    with pytest.raises(SpaceError, match="num_points") as err:
        space.grid()
    assert err.value.param == "lr" and "'lr'" in str(err.value) and "continuous" in str(err.value)
    with pytest.raises(SpaceError, match="'lr'"):
        space.grid_size()
    with pytest.raises(SpaceError, match="'lr'"):
        space.grid(num_points={"b": 3})
    with pytest.raises(SpaceError, match="'nope'"):
        space.grid(num_points={"nope": 3})
    configs = list(space.grid(num_points=5))
    assert len(configs) == 10 == space.grid_size(num_points=5)
    assert [c["lr"] for c in configs[:5]] == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert [c["b"] for c in configs] == [1] * 5 + [2] * 5
    by_name = list(Space({"x": uniform(0, 1), "y": uniform(0, 1)}).grid(num_points={"x": 3, "y": 2}))
    assert [(c["x"], c["y"]) for c in by_name] == [
        (0.0, 0.0), (0.0, 1.0), (0.5, 0.0), (0.5, 1.0), (1.0, 0.0), (1.0, 1.0)
    ]
    assert uniform(0, 1).grid(1) == [0.5]
    assert normal(3, 1).grid(3)[1] == 3 and normal(3, 1).grid(3) == pytest.approx([3 - 0.6745, 3, 3.6745], abs=1e-4)
    with pytest.raises(SpaceError):
        uniform(0, 1).grid(0)


@st.composite
def finite_conditional_spaces(draw):
    """Small spaces of choices/randints where any parameter may depend on any other."""
    count = draw(st.integers(1, 5))
    names = [f"p{i}" for i in range(count)]
    domains = {}
    for name in names:
        size = draw(st.integers(1, 3))
        domains[name] = choice(list(range(size))) if size > 1 or draw(st.booleans()) else randint(0, 1)
    order = draw(st.permutations(names))  # parents must come earlier in this order: no cycles
    for i, name in enumerate(order):
        for parent in draw(st.lists(st.sampled_from(order[:i]), max_size=2, unique=True)) if i else []:
            op = draw(st.sampled_from(["==", "!=", "<", ">=", "in"]))
            value = [0] if op == "in" else draw(st.integers(0, 2))
            domains[name] = domains[name].when(parent, op, value)
    return Space(domains)


@settings(max_examples=60, deadline=None)
@given(space=finite_conditional_spaces())
def test_grid_is_exactly_the_valid_configs(space):
    configs = list(space.grid())
    keys = [tuple(sorted(c.items())) for c in configs]
    assert len(keys) == len(set(keys)), "duplicate configs"
    assert len(configs) == space.grid_size()
    for config in configs:
        assert space.validate(config) == config
        assert list(config) == [n for n in space.names if n in config]
    # Brute force: every assignment of values-or-absent that validates is in the grid.
    absent = object()
    options = [space[n].grid() + [absent] for n in space.names]
    valid = set()
    for combo in itertools.product(*options):
        config = {n: v for n, v in zip(space.names, combo) if v is not absent}
        try:
            space.validate(config)
        except SpaceError:
            continue
        valid.add(tuple(sorted(config.items())))
    assert valid == set(keys)
    # Order: last parameter varies fastest among configs that share earlier values.
    if not any(space[n].conditions for n in space.names):
        assert keys == sorted(keys)


def test_grid_size_counts_without_listing():
    space = Space(
        {
            "opt": choice(["adam", "sgd"]),
            "momentum": quniform(0, 0.99, 0.01).when("opt", "==", "sgd"),
            "a": randint(1, 1000),
            "b": randint(1, 1000),
        }
    )
    assert space.grid_size() == (1 + 100) * 1000 * 1000  # counted, not listed: a list would not fit in memory


def test_empty_space():
    space = Space({})
    assert space.sample(np.random.default_rng(0)) == {}
    assert list(space.grid()) == [{}] and space.grid_size() == 1
    assert space.to_unit({}).shape == (0,) and space.from_unit([]) == {}


# -- serialization -----------------------------------------------------------------------------


def test_serialization_round_trip_of_a_rich_space():
    space = Space(
        {
            **conditional_space(),
            "sizes": choice([(64, 64), (128,), [1, 2], None, {"k": 1}]),
            "meta": {"note": "fixed", "n": [1, 2.5]},
            "qs": quniform(0, 1, 0.05).when("num_layers", "not in", (1, 2)),
            "bs": qloguniform(16, 512, 16),
        }
    )
    for restored in (Space.from_json(space.to_json()), Space.from_yaml(space.to_yaml()), Space.from_dict(space.to_dict())):
        assert restored == space
        assert restored["sizes"].grid()[0] == (64, 64)  # tuples stay tuples
    data = json.loads(space.to_json())
    assert data["lr"] == {"type": "loguniform", "low": 1e-4, "high": 1.0}
    assert data["units_3"]["conditions"] == [{"parent": "num_layers", "op": ">=", "value": 3}]
    assert data["epochs"] == {"type": "constant", "value": 10}


def test_unserializable_values_name_the_parameter():
    for space, name in [
        (Space({"ok": 1, "f": choice([len, 1])}), "f"),
        (Space({"g": lambda x: x}), "g"),
        (Space({"h": {1: "non-str key"}}), "h"),
        (Space({"o": object()}), "o"),
    ]:
        for dump in (space.to_json, space.to_yaml, space.to_dict):
            with pytest.raises(SpaceError) as err:
                dump()
            assert err.value.param == name and f"'{name}'" in str(err.value)


def test_from_dict_errors_name_the_parameter():
    for data, name in [
        ({"lr": {"type": "loguniform", "low": 0, "high": 1}}, "lr"),
        ({"x": {"type": "nope"}}, "x"),
        ({"x": {"type": "uniform", "low": 0}}, "x"),
        ({"x": {"type": "uniform", "low": 0, "high": 1, "extra": 2}}, "x"),
        ({"x": 3}, "x"),
        ({"x": {"type": "uniform", "low": 0, "high": 1, "conditions": [{"parent": "y"}]}}, "x"),
    ]:
        with pytest.raises(SpaceError) as err:
            Space.from_dict(data)
        assert err.value.param == name, data
    with pytest.raises(SpaceError):
        Space.from_json("{not json")
    with pytest.raises(SpaceError):
        Space.from_yaml("a: [unclosed")


# -- construction errors ---------------------------------------------------------------------

INVALID = [
    (lambda: loguniform(0, 1), "loguniform needs low > 0, got low=0"),
    (lambda: loguniform(-1, 1), "low > 0"),
    (lambda: uniform(1, 1), "low < high"),
    (lambda: uniform(2, 1), "low < high"),
    (lambda: uniform(0, math.inf), "finite high"),
    (lambda: uniform(math.nan, 1), "finite low"),
    (lambda: uniform("a", 1), "number for low"),
    (lambda: uniform(True, 2), "number for low"),
    (lambda: normal(0, 0), "sigma > 0"),
    (lambda: normal(math.inf, 1), "finite mu"),
    (lambda: lognormal(0, -1), "sigma > 0"),
    (lambda: quniform(0, 1, 0), "q > 0"),
    (lambda: quniform(0, 10, -1), "q > 0"),
    (lambda: quniform(5, 1, 1), "low < high"),
    (lambda: quniform(0.1, 0.2, 1), "multiple of q"),
    (lambda: quniform(0.1, 0.9, 0.5), "single multiple of q"),
    (lambda: quniform(1, 9, 5), "single multiple of q"),
    (lambda: qloguniform(3, 9, 5), "single multiple of q"),
    (lambda: qloguniform(0, 10, 1), "low > 0"),
    (lambda: qloguniform(1, 10, 0), "q > 0"),
    (lambda: qnormal(0, 1, 0), "q > 0"),
    (lambda: qnormal(0, 0, 1), "sigma > 0"),
    (lambda: qlognormal(0, -1, 1), "sigma > 0"),
    (lambda: randint(5, 1), "low < high"),
    (lambda: randint(3, 3), "low < high"),
    (lambda: randint(1.5, 3), "integer bounds"),
    (lambda: randint(0, 10, log=True), "low >= 1"),
    (lambda: randint(1, math.inf), "finite high"),
    (lambda: choice([]), "at least one"),
    (lambda: choice("abc"), "not a string"),
    (lambda: choice({1, 2}), "sequence"),
    (lambda: choice([1, 2, 1]), "distinct"),
    (lambda: randint(1, 3).when("a", "=>", 2), "unknown condition operator '=>'"),
    (lambda: randint(1, 3).when("a", "in", 2), "list of values"),
    (lambda: randint(1, 3).when("", "==", 2), "parent"),
]


@pytest.mark.parametrize("make, fragment", INVALID)
def test_invalid_domains_are_refused_naming_the_parameter(make, fragment):
    domain = make()
    with pytest.raises(SpaceError) as err:
        Space({"ok": 1, "lr": domain})
    assert err.value.param == "lr"
    assert str(err.value).startswith("parameter 'lr': ") and fragment in str(err.value)
    # Used on its own the domain raises the same problem, without a parameter name.
    with pytest.raises(SpaceError) as err:
        domain.sample(np.random.default_rng(0))
    assert err.value.param is None and fragment in str(err.value)
    with pytest.raises(SpaceError):
        domain.to_dict()
    assert isinstance(err.value, ValueError)


def test_domain_classes_raise_at_once():
    with pytest.raises(SpaceError, match="loguniform needs low > 0, got low=0"):
        rs.Uniform(0, 1, log=True)
    with pytest.raises(SpaceError, match="at least one"):
        rs.Choice([])
    assert repr(loguniform(0, 1)) == "loguniform(0, 1)"


def test_condition_errors_name_parameter_and_parent():
    with pytest.raises(SpaceError) as err:
        Space({"units": randint(1, 3).when("layers", ">=", 2)})
    assert err.value.param == "units" and "'layers'" in str(err.value) and "unknown" in str(err.value)
    with pytest.raises(SpaceError) as err:
        Space({"a": randint(1, 3).when("b", "==", 1), "b": randint(1, 3).when("a", "==", 1)})
    assert err.value.param == "a" and "cycle" in str(err.value) and "'b'" in str(err.value)
    with pytest.raises(SpaceError) as err:
        Space({"c": randint(1, 3), "a": randint(1, 3).when("a", "==", 1)})
    assert err.value.param == "a" and "cycle" in str(err.value)
    with pytest.raises(SpaceError) as err:
        Space(
            {
                "x": randint(1, 3).when("z", "==", 1),
                "y": randint(1, 3).when("x", "==", 1),
                "z": randint(1, 3).when("y", "==", 1),
            }
        )
    assert "cycle" in str(err.value) and err.value.param in ("x", "y", "z")
    with pytest.raises(SpaceError) as err:
        Space({"opt": choice(["a", "b"]), "m": uniform(0, 1).when("opt", "<", 3)})
    assert err.value.param == "m" and "opt" in str(err.value)
    with pytest.raises(SpaceError) as err:
        Space({"lr": uniform(0, 1), "m": uniform(0, 1).when("lr", "<", "x")}).sample(
            np.random.default_rng(0)
        )
    assert err.value.param == "m"


def test_bad_names_and_specs():
    with pytest.raises(SpaceError, match="non-empty"):
        Space({"": uniform(0, 1)})
    with pytest.raises(SpaceError, match="non-empty"):
        Space({3: uniform(0, 1)})
    with pytest.raises(SpaceError, match="mapping"):
        Space([("a", 1)])
    with pytest.raises(SpaceError, match="'nope'") as err:
        conditional_space().is_active("nope", {})
    assert err.value.param == "nope"


def test_space_error_survives_pickling():
    err = pickle.loads(pickle.dumps(SpaceError("bad", "lr")))
    assert err.param == "lr" and str(err) == "parameter 'lr': bad" and err.reason == "bad"


# -- many samples ----------------------------------------------------------------------------


def test_ten_thousand_samples_are_valid_and_respect_the_condition():
    # How fast sampling is belongs to benchmarks/overhead.py, not to a unit test.
    space = Space(
        {
            "lr": loguniform(1e-5, 1),
            "wd": uniform(0, 0.1),
            "layers": randint(1, 4),
            "units": randint(16, 512, log=True),
            "act": choice(["relu", "tanh", "gelu"]),
            "drop": quniform(0, 0.5, 0.05),
            "bs": qloguniform(16, 512, 16),
            "init": normal(0, 1),
            "scale": lognormal(0, 1),
            "units_3": randint(16, 256).when("layers", ">=", 3),
        }
    )
    rng = np.random.default_rng(0)
    samples = [space.sample(rng) for _ in range(10_000)]
    assert all(("units_3" in s) == (s["layers"] >= 3) for s in samples)
    assert all(space.validate(s) == s for s in samples[:500])


# -- order and the vectorised unit-cube view ------------------------------------------------

_VIEW = {
    "lr": rs.loguniform(1e-4, 1e-1),
    "units": rs.randint(8, 64).when("layers", ">=", 3),  # declared before its parent
    "layers": rs.randint(1, 3),
    "wide": rs.randint(1, 1000, log=True),
    "batch": rs.quniform(16, 256, 16),
    "q": rs.qloguniform(1, 1000, 1),
    "opt": rs.choice(["sgd", "adam"]),
    "momentum": rs.quniform(0.5, 0.9, 0.1).when("opt", "==", "sgd"),
    "w": rs.normal(0, 1).when("momentum", ">", 0.6),
    "epochs": 5,
}


def test_order_puts_parents_before_children_else_declaration_order():
    space = rs.Space(_VIEW)
    order = space.order
    assert sorted(order) == sorted(space.names)
    assert order.index("layers") < order.index("units")
    assert order.index("opt") < order.index("momentum") < order.index("w")
    assert order == ["lr", "layers", "units", "wide", "batch", "q", "opt", "momentum", "w", "epochs"]


def test_unit_array_matches_the_scalar_view_and_round_trips():
    space = rs.Space(_VIEW)
    rng = np.random.default_rng(0)
    configs = [space.sample(rng) for _ in range(300)]
    U = space.to_unit_array(configs)
    scalar = np.array([space.to_unit(c) for c in configs])
    assert U.shape == (300, len(space.tunable_names))
    assert np.array_equal(np.isnan(U), np.isnan(scalar))  # NaN exactly where inactive
    assert np.nanmax(np.abs(U - scalar)) < 1e-12
    assert np.nanmin(U) >= 0.0 and np.nanmax(U) <= 1.0
    # numpy's exp may differ from math's in the last bit: floats agree to rounding, the rest exactly.
    back = space.from_unit_array(scalar)
    expected = [space.from_unit(u) for u in scalar]
    for got, want in zip(back, expected):
        assert got.keys() == want.keys()
        for key in want:
            if isinstance(want[key], float):
                assert got[key] == pytest.approx(want[key], rel=1e-12)
            else:
                assert got[key] == want[key]
    R = rng.random((300, len(space.tunable_names)))
    decoded = space.from_unit_array(R)
    assert all(space.validate(c) == c for c in decoded)
    assert [set(c) for c in decoded] == [set(space.from_unit(r)) for r in R]


def test_unit_array_errors_name_the_parameter():
    space = rs.Space(_VIEW)
    with pytest.raises(rs.SpaceError, match="'lr'"):
        space.to_unit_array([{"layers": 1}])
    with pytest.raises(rs.SpaceError, match="expected an \\(n, 9\\) array"):
        space.from_unit_array(np.zeros((2, 3)))
    U = space.to_unit_array([space.sample(np.random.default_rng(1))])
    U[0, space.tunable_names.index("lr")] = np.nan
    with pytest.raises(rs.SpaceError, match="'lr'.*NaN"):
        space.from_unit_array(U)
    assert space.to_unit_array([]).shape == (0, 9)


def test_unit_table_and_snap_unit():
    domain = rs.randint(1, 1000, log=True)
    positions, values = domain.unit_table()
    assert values == sorted(values) and len(values) == 1000
    assert np.all(np.diff(positions) > 0)
    u = np.random.default_rng(0).random(50)
    snapped = domain.snap_unit(u)
    assert snapped.tolist() == [domain.to_unit(domain.from_unit(x)) for x in u.tolist()]
    choice_positions, choice_values = rs.choice(["a", "b", "c"]).unit_table()
    assert choice_values == ["a", "b", "c"] and choice_positions.tolist() == [1 / 6, 0.5, 5 / 6]
