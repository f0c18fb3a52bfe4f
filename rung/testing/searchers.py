"""Conformance checks for any :class:`rung.searchers.Searcher`.

A searcher is an ask/tell object, so the checks drive it directly, without a tuner: they
ask for configs, tell it scripted results (final results, intermediate reports after
``set_fidelity``, failures, results without the metric), and check what every searcher
promises: suggestions are valid configs of the space (conditions respected, constants
filled in), the same seed and the same calls give the same configs, ``points_to_evaluate``
come first, ``None`` only from a finite searcher that has run out, and a fresh searcher fed
the calls of an earlier one (as the tuner does on resume) makes the same choices again.

Use it on your own searcher::

    from rung.testing.searchers import check_searcher
    check_searcher(lambda space, seed, **kw: MySearcher(space, metric="loss", seed=seed, **kw))

or, one pytest test per check::

    @pytest.mark.parametrize("name, check", SEARCHER_CHECKS, ids=[n for n, _ in SEARCHER_CHECKS])
    def test_my_searcher(name, check):
        check(my_factory)

The factory is called as ``factory(space, seed)`` (and ``factory(space, seed,
points_to_evaluate=[...])`` by :func:`check_points_to_evaluate_first`) and must return a
fresh searcher minimizing the metric ``"loss"``. Each check raises AssertionError naming
itself and what went wrong; ``check_searcher(..., skip=("points_to_evaluate_first",))``
leaves out checks that do not apply (e.g. a searcher without starting points).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from ..searchers import Random, Searcher
from ..space import Space, SpaceError, choice, loguniform, quniform, randint

__all__ = ["MIXED", "SEARCHER_CHECKS", "SearcherFactory", "check_searcher", "take"]

SearcherFactory = Callable[..., Searcher]
METRIC = "loss"

#: The space the checks search: log-scaled, quantized, integer, categorical, conditional
#: (on an int and on a choice) and constant parameters.
MIXED: dict[str, Any] = {
    "lr": loguniform(1e-4, 1e-1),
    "batch": quniform(16, 256, 16),
    "layers": randint(1, 3),
    "units_3": randint(8, 64).when("layers", ">=", 3),
    "optimizer": choice(["sgd", "adam"]),
    "momentum": quniform(0.5, 0.9, 0.1).when("optimizer", "==", "sgd"),
    "epochs": 5,
}
#: A small finite space (6 configs), for exhaustion.
SMALL: dict[str, Any] = {"a": choice(["x", "y"]), "b": randint(1, 3)}


def _fail(check: str, message: str) -> AssertionError:
    return AssertionError(f"searcher check {check!r} failed: {message}")


def _loss(config: Mapping[str, Any]) -> float:
    """A deterministic loss of a MIXED config, with structure for a model to learn."""
    units = config.get("units_3", 0) / 64
    return (math.log10(config["lr"]) + 2.5) ** 2 + config["batch"] / 256 + 0.1 * config["layers"] - units


def take(searcher: Searcher, n: int) -> list[dict[str, Any]]:
    """Up to ``n`` configs, each told the loss ``1, 2, 3, ...`` before the next is asked."""
    configs = []
    for _ in range(n):
        config = searcher.suggest()
        if config is None:
            break
        configs.append(config)
        searcher.observe(config, {METRIC: float(len(configs))})
    return configs


def _check_valid(check: str, space: Space, config: Any) -> None:
    if not isinstance(config, dict):
        raise _fail(check, f"suggest() returned {config!r}, not a dict")
    try:
        valid = space.validate(config)
    except SpaceError as err:
        raise _fail(check, f"suggested an invalid config {config!r}: {err}") from None
    if valid != config:
        raise _fail(check, f"suggested {config!r}, which the space normalizes to {valid!r}")


def _script(searcher: Searcher, n: int, *, fidelity: bool, strata: list[Any] | None = None) -> list[Any]:
    """Drive ``searcher`` with batches of three pending configs, partial reports, a failure
    every fifth config and a result without the metric every seventh; the answers, in order.
    With ``strata``, each config's ``stratum`` is asked for as ASHA asks (right after the
    suggestion) and appended to it."""
    answers: list[Any] = []
    if fidelity:
        searcher.set_fidelity("epoch", levels=[1, 3, 9], max_resource=9)
    told = 0
    while len(answers) < n:
        batch = []
        for _ in range(3):
            config = searcher.suggest()
            answers.append(config)
            if config is None:
                break
            if strata is not None:
                strata.append(searcher.stratum(config))
            batch.append(config)
        if not batch:
            break
        for config in batch:
            told += 1
            loss = _loss(config)
            if told % 5 == 0:
                searcher.on_failed(config)
            elif told % 7 == 0:
                searcher.observe(config, {"other": 1.0})
            else:
                epochs = [1, 3, 9][: 1 + told % 3] if fidelity else []
                for epoch in epochs:
                    searcher.observe_partial(config, {METRIC: loss + 1.0 / epoch, "epoch": epoch})
                final: dict[str, float] = {METRIC: loss}
                if epochs:
                    final = {METRIC: loss + 1.0 / epochs[-1], "epoch": epochs[-1]}
                searcher.observe(config, final)
    return answers


# -- the checks ----------------------------------------------------------------------------


def check_valid_configs(factory: SearcherFactory) -> None:
    """Every suggestion is a valid, normalized config of the space: conditional parameters
    present exactly where their conditions hold, constants filled in."""
    name = "valid_configs"
    space = Space(MIXED)
    configs = _script(factory(MIXED, 0), 200, fidelity=False)
    for config in configs:
        if config is None:
            raise _fail(name, "suggest() returned None on an infinite space")
        _check_valid(name, space, config)
        if ("units_3" in config) != (config["layers"] >= 3) or ("momentum" in config) != (
            config["optimizer"] == "sgd"
        ):
            raise _fail(name, f"conditional parameters wrong in {config!r}")


def check_deterministic(factory: SearcherFactory) -> None:
    """The same seed and the same calls give the same configs."""
    first = take(factory(MIXED, 3), 30)
    second = take(factory(MIXED, 3), 30)
    if first != second:
        i = next((i for i, (a, b) in enumerate(zip(first, second)) if a != b), min(len(first), len(second)))
        raise _fail("deterministic", f"two searchers with seed 3 differ at suggestion {i}")


def check_seed_matters(factory: SearcherFactory) -> None:
    """Different seeds give different configs."""
    if take(factory(MIXED, 3), 30) == take(factory(MIXED, 4), 30):
        raise _fail("seed_matters", "seeds 3 and 4 gave the same 30 configs")


def check_feedback_accepted(factory: SearcherFactory) -> None:
    """``observe`` (also without the metric, and of configs it never suggested),
    ``observe_partial`` after ``set_fidelity``, and ``on_failed`` are accepted at any time,
    before the first suggestion too (warm start), and suggestions stay valid."""
    name = "feedback_accepted"
    space = Space(MIXED)
    for fidelity in (False, True):
        searcher = factory(MIXED, 2)
        donor = Random(MIXED, seed=9)
        space_sample = donor.space.sample
        for i in range(20):
            searcher.observe(space_sample(donor.rng), {METRIC: float(i)})
            searcher.on_failed(space_sample(donor.rng))
            searcher.observe(space_sample(donor.rng), {METRIC: math.nan})
        for config in _script(searcher, 30, fidelity=fidelity):
            if config is None:
                raise _fail(name, "suggest() returned None on an infinite space")
            _check_valid(name, space, config)


def check_parallel_suggestions_distinct(factory: SearcherFactory) -> None:
    """Configs asked for before any of them reports (parallel workers) are distinct."""
    searcher = factory(MIXED, 1)
    take(searcher, 12)  # past the initial design of model-based searchers
    batch = [searcher.suggest() for _ in range(8)]
    if len({repr(sorted(config.items())) for config in batch if config is not None}) != 8:
        raise _fail("parallel_suggestions_distinct", f"8 pending suggestions were not distinct: {batch!r}")


def check_points_to_evaluate_first(factory: SearcherFactory) -> None:
    """``points_to_evaluate`` are suggested first, in order, missing parameters filled in."""
    name = "points_to_evaluate_first"
    points: list[dict[str, Any]] = [
        {"lr": 0.01, "layers": 3, "units_3": 32, "optimizer": "adam", "batch": 64}, {"lr": 0.001},
    ]
    try:
        searcher = factory(MIXED, 0, points_to_evaluate=points)
    except TypeError as err:
        raise _fail(name, f"the factory does not take points_to_evaluate: {err}") from None
    first, second = searcher.suggest(), searcher.suggest()
    if first != {**points[0], "epochs": 5}:
        raise _fail(name, f"first suggestion {first!r} is not the first point {points[0]!r}")
    if second is None or second.get("lr") != 0.001:
        raise _fail(name, f"second suggestion {second!r} is not the partial point {points[1]!r}")
    _check_valid(name, Space(MIXED), second)


def check_exhaustion(factory: SearcherFactory) -> None:
    """``None`` only when ``is_finite``: a finite searcher runs out (and stays out) after at
    most as many configs as the space holds, each once; an infinite one never does."""
    name = "exhaustion"
    space = Space(SMALL)
    size = space.grid_size()
    searcher = factory(SMALL, 0)
    answers = []
    for i in range(3 * size):
        config = searcher.suggest()
        answers.append(config)
        if config is not None:
            _check_valid(name, space, config)
            searcher.observe(config, {METRIC: float(i)})
    ran_out = [i for i, config in enumerate(answers) if config is None]
    if not searcher.is_finite:
        if ran_out:
            raise _fail(name, f"is_finite is False but suggest() returned None at call {ran_out[0]}")
        return
    if not ran_out:
        raise _fail(name, f"is_finite is True but {3 * size} suggestions on a space of {size} never ran out")
    if any(config is not None for config in answers[ran_out[0]:]):
        raise _fail(name, "suggest() returned a config after returning None")
    given = [repr(sorted(c.items())) for c in answers[: ran_out[0]] if c is not None]
    if len(set(given)) != len(given) or len(given) > size:
        raise _fail(name, f"a finite searcher gave {len(given)} configs ({len(set(given))} distinct) "
                          f"on a space of {size}")


def check_replay(factory: SearcherFactory) -> None:
    """A fresh searcher with the same seed, fed the same calls as an earlier one (what the
    tuner does on resume: every stored suggestion asked again, every result told again, in
    the stored order), makes the same choices, with pending configs, partial reports and
    failures in the mix; and it goes on making the same choices afterwards."""
    for fidelity in (False, True):
        original = _script(factory(MIXED, 5), 36, fidelity=fidelity)
        replayed = _script(factory(MIXED, 5), 36, fidelity=fidelity)
        if original != replayed:
            i = next(i for i, (a, b) in enumerate(zip(original, replayed)) if a != b)
            where = "with set_fidelity" if fidelity else "without set_fidelity"
            raise _fail("replay", f"the replayed searcher ({where}) chose differently at suggestion {i}: "
                                  f"{original[i]!r} then {replayed[i]!r}")


def check_stratum(factory: SearcherFactory) -> None:
    """``stratum`` (which ASHA asks of every config it starts) gives None or a string, and
    asking for it changes none of the searcher's choices."""
    for fidelity in (False, True):
        plain = _script(factory(MIXED, 5), 36, fidelity=fidelity)
        strata: list[Any] = []
        asked = _script(factory(MIXED, 5), 36, fidelity=fidelity, strata=strata)
        if plain != asked:
            raise _fail("stratum", "asking for the stratum of each suggestion changed later suggestions")
        odd = [s for s in strata if s is not None and not isinstance(s, str)]
        if odd:
            raise _fail("stratum", f"stratum gave {odd[0]!r}; it must be None or a string")


SEARCHER_CHECKS: list[tuple[str, Callable[[SearcherFactory], None]]] = [
    ("valid_configs", check_valid_configs),
    ("deterministic", check_deterministic),
    ("seed_matters", check_seed_matters),
    ("feedback_accepted", check_feedback_accepted),
    ("parallel_suggestions_distinct", check_parallel_suggestions_distinct),
    ("points_to_evaluate_first", check_points_to_evaluate_first),
    ("exhaustion", check_exhaustion),
    ("replay", check_replay),
    ("stratum", check_stratum),
]


def check_searcher(factory: SearcherFactory, *, skip: tuple[str, ...] = ()) -> None:
    """Run every check in :data:`SEARCHER_CHECKS` except those named in ``skip``."""
    unknown = set(skip) - {name for name, _ in SEARCHER_CHECKS}
    if unknown:
        raise ValueError(f"unknown checks in skip: {sorted(unknown)}")
    for name, check in SEARCHER_CHECKS:
        if name not in skip:
            check(factory)
