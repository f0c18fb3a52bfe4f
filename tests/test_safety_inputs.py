"""Malformed inputs are refused before anything runs, by an error that names what is wrong.

Issue 12, items 5 (the YAML alias bomb), 8 (inputs) and 9. One table per way in: Tuner
arguments, space factories, spec files, the command line (``python -m rung.cli``) and
script parameters. Each case gives the input, the exact exception type (or exit code) and a
substring that names the field or the value at fault.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

import rung
from rung.script._arguments import config_flags
from rung.space import (
    Space,
    SpaceError,
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from rung.spec import SpecError, load_spec

NAN, INF = math.nan, math.inf


def objective(config: dict) -> float:
    return 0.0


def tuner(**overrides: Any) -> rung.Tuner:
    """A Tuner whose other arguments are all fine (nothing runs: run() is never called)."""
    kwargs: dict[str, Any] = dict(objective=objective, space={"x": uniform(0, 1)}, metric="loss",
                                  max_trials=2, backend="inprocess", storage=":memory:", verbose=0)
    kwargs.update(overrides)
    return rung.Tuner(**kwargs)


# -- Tuner arguments --------------------------------------------------------------------------
def _file(tmp_path: Path) -> Path:
    path = tmp_path / "a_file.txt"
    path.write_text("not a directory")
    return path


TUNER_CASES: list[tuple[str, Callable[[Path], dict[str, Any]], type, str]] = [
    ("seed=str", lambda t: {"seed": "abc"}, TypeError, "seed='abc'"),
    ("seed=float", lambda t: {"seed": 1.5}, TypeError, "seed=1.5"),
    ("seed=bool", lambda t: {"seed": True}, TypeError, "seed=True"),
    ("seed<0", lambda t: {"seed": -1}, ValueError, "seed=-1"),
    ("seed=list", lambda t: {"seed": [1]}, TypeError, "seed=[1]"),
    ("storage=int", lambda t: {"storage": 123}, TypeError, "storage=123"),
    ("storage=list", lambda t: {"storage": ["a.db"]}, TypeError, "storage=['a.db']"),
    ("storage=empty", lambda t: {"storage": ""}, ValueError, "storage must not be empty"),
    ("warm_start=int", lambda t: {"warm_start": 5}, TypeError, "warm_start=5"),
    ("warm_start=[str, int]", lambda t: {"warm_start": ["a", 3]}, TypeError, "warm_start[1] must be a string"),
    ("warm_start=traversal", lambda t: {"warm_start": ["../x"]}, ValueError, "warm_start[0] must not contain path"),
    ("warm_start=empty name", lambda t: {"warm_start": [""]}, ValueError, "warm_start[0] must not be empty"),
    ("warm_start=dict", lambda t: {"warm_start": {"a": 1}}, TypeError, "warm_start="),
    ("workdir=file", lambda t: {"workdir": _file(t)}, ValueError, "a_file.txt' exists and is not a directory"),
    ("workdir=int", lambda t: {"workdir": 7}, TypeError, "workdir=7"),
    ("workdir=empty", lambda t: {"workdir": ""}, ValueError, "workdir must not be empty"),
    ("experiment=empty", lambda t: {"experiment": ""}, ValueError, "experiment must not be empty"),
    ("experiment=../..", lambda t: {"experiment": "../.."}, ValueError, "experiment must not contain path separators"),
    ("experiment=abs", lambda t: {"experiment": "/etc"}, ValueError, "experiment must not contain path separators"),
    ("experiment=int", lambda t: {"experiment": 5}, TypeError, "experiment must be a string"),
    ("experiment=space", lambda t: {"experiment": "a b"}, ValueError, "experiment may hold only"),
    ("n_workers=str", lambda t: {"n_workers": "4"}, ValueError, "n_workers='4'"),
    ("n_workers=0", lambda t: {"n_workers": 0}, ValueError, "n_workers=0"),
    ("n_workers=float", lambda t: {"n_workers": 1.5}, ValueError, "n_workers=1.5"),
    ("n_workers=bool", lambda t: {"n_workers": True}, ValueError, "n_workers=True"),
    ("max_trials=0", lambda t: {"max_trials": 0}, ValueError, "max_trials=0"),
    ("max_trials=str", lambda t: {"max_trials": "10"}, ValueError, "max_trials='10'"),
    ("max_wallclock=nan", lambda t: {"max_wallclock": NAN}, ValueError, "max_wallclock=nan"),
    ("max_wallclock=inf", lambda t: {"max_wallclock": INF}, ValueError, "max_wallclock=inf"),
    ("metric_threshold=nan", lambda t: {"metric_threshold": NAN}, ValueError, "metric_threshold=nan"),
    ("metric_threshold=inf", lambda t: {"metric_threshold": INF}, ValueError, "metric_threshold=inf"),
    ("metric_threshold=-inf", lambda t: {"metric_threshold": -INF}, ValueError, "metric_threshold=-inf"),
    ("metric_threshold=str", lambda t: {"metric_threshold": "0.5"}, ValueError, "metric_threshold='0.5'"),
    ("max_failures=0", lambda t: {"max_failures": 0}, ValueError, "max_failures=0"),
    ("trial_timeout=nan", lambda t: {"trial_timeout": NAN}, ValueError, "trial_timeout=nan"),
    ("trial_timeout<0", lambda t: {"trial_timeout": -1}, ValueError, "trial_timeout=-1"),
    ("verbose=str", lambda t: {"verbose": "yes"}, TypeError, "verbose='yes'"),
    ("verbose<0", lambda t: {"verbose": -1}, TypeError, "verbose=-1"),
    ("resume=str", lambda t: {"resume": "no"}, TypeError, "resume='no'"),
    ("force_resume=float", lambda t: {"force_resume": 1.5}, TypeError, "force_resume=1.5"),
    ("callbacks=int", lambda t: {"callbacks": 5}, TypeError, "callbacks=5"),
    ("callbacks=[str]", lambda t: {"callbacks": ["progress"]}, TypeError, "callbacks must be rung.Callback"),
    ("objective=int", lambda t: {"objective": 3}, TypeError, "objective must be callable"),
    ("metric=empty", lambda t: {"metric": ""}, ValueError, "metric=''"),
    ("mode=typo", lambda t: {"mode": "minimize"}, ValueError, "mode='minimize'"),
    ("space=int", lambda t: {"space": 5}, SpaceError, "a space is a mapping"),
    ("space name empty", lambda t: {"space": {"": uniform(0, 1)}}, SpaceError, "parameter ''"),
    ("backend=unknown", lambda t: {"backend": "nope"}, ValueError, "backend='nope'"),
    ("searcher=unknown", lambda t: {"searcher": "nope"}, ValueError, "searcher='nope'"),
    ("scheduler=unknown", lambda t: {"scheduler": "nope"}, ValueError, "scheduler='nope'"),
    ("resources cpus<0", lambda t: {"resources_per_trial": {"cpus": -1}}, ValueError, "cpus=-1"),
    ("resources=int", lambda t: {"resources_per_trial": 5}, ValueError, "resources must be"),
]


@pytest.mark.parametrize("label, make, error, fragment", TUNER_CASES, ids=[c[0] for c in TUNER_CASES])
def test_tuner_refuses(tmp_path, label, make, error, fragment):
    with pytest.raises(Exception) as caught:
        tuner(**make(tmp_path))
    assert type(caught.value) is error, f"{label}: {type(caught.value).__name__}: {caught.value}"
    assert fragment in str(caught.value)


def test_tuner_refuses_nothing_that_is_fine(tmp_path):
    built = tuner(seed=3, storage=str(tmp_path / "s.db"), warm_start=["older"], workdir=tmp_path,
                  experiment="exp-1", metric_threshold=0.1, verbose=True, resume=False)
    assert (built.seed, built.warm_start, built.experiment, built.verbose) == (3, ["older"], "exp-1", 1)
    import numpy as np

    assert tuner(seed=np.int64(4)).seed == 4


# -- space factories --------------------------------------------------------------------------
SPACE_CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("uniform(1, 1)", lambda: uniform(1, 1), "uniform needs low < high"),
    ("uniform(0, nan)", lambda: uniform(0, NAN), "high=nan"),
    ("uniform('a', 1)", lambda: uniform("a", 1), "low='a'"),
    ("loguniform(0, 1)", lambda: loguniform(0, 1), "low=0"),
    ("quniform(0, 1, 5)", lambda: quniform(0, 1, 5), "quniform has a single multiple of q"),
    ("quniform(0.2, 0.7, 0.75)", lambda: quniform(0.2, 0.7, 0.75), "q=0.75"),
    ("quniform(0, 1, 0)", lambda: quniform(0, 1, 0), "q=0"),
    ("quniform(0.1, 0.2, 0.5)", lambda: quniform(0.1, 0.2, 0.5), "needs a multiple of q"),
    ("qloguniform(1, 2, 5)", lambda: qloguniform(1, 2, 5), "needs a multiple of q"),
    ("qloguniform(4, 6, 5)", lambda: qloguniform(4, 6, 5), "qloguniform has a single multiple of q in [low, high] (5)"),
    ("qloguniform(0, 10, 1)", lambda: qloguniform(0, 10, 1), "low=0"),
    ("randint(3, 3)", lambda: randint(3, 3), "low=3, high=3"),
    ("randint(1.5, 3)", lambda: randint(1.5, 3), "low=1.5"),
    ("randint(0, 5, log)", lambda: randint(0, 5, log=True), "low=0"),
    ("choice([])", lambda: choice([]), "at least one value"),
    ("choice([1, 1])", lambda: choice([1, 1]), "1 twice"),
    ("normal(0, 0)", lambda: normal(0, 0), "sigma=0"),
    ("lognormal(0, -1)", lambda: lognormal(0, -1), "sigma=-1"),
    ("qnormal(0, 1, 0)", lambda: qnormal(0, 1, 0), "q=0"),
    ("qlognormal(0, 1, -1)", lambda: qlognormal(0, 1, -1), "q=-1"),
]


@pytest.mark.parametrize("label, make, fragment", SPACE_CASES, ids=[c[0] for c in SPACE_CASES])
def test_space_refuses(label, make, fragment):
    with pytest.raises(SpaceError) as caught:
        Space({"p": make()})
    assert type(caught.value) is SpaceError
    assert "parameter 'p'" in str(caught.value) and fragment in str(caught.value)


def test_quantized_domains_with_at_least_two_values_are_fine():
    assert quniform(0, 1, 0.5).grid() == [0.0, 0.5, 1.0]
    assert qloguniform(1, 10, 5).grid() == [5, 10]


# -- spec files -------------------------------------------------------------------------------
BOMB = "lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{level}: &{chr(98 + level)} [{', '.join(['*' + chr(97 + level)] * 9)}]\n" for level in range(8)
)

SPEC_HEAD = """\
name: demo
trial: {function: "m:f"}
metric: loss
space: {x: {type: uniform, low: 0.0, high: 1.0}}
"""

SPEC_CASES: list[tuple[str, str, str]] = [
    ("alias bomb", SPEC_HEAD + BOMB, "aliases expand to more than"),
    ("recursive alias", SPEC_HEAD + "extra: &r [1, *r]\n", ":5: not valid YAML: an alias refers to a node that contains it"),
    ("deep nesting", SPEC_HEAD + "extra: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ("name traversal", SPEC_HEAD.replace("name: demo", "name: ../.."), ":1: name: must not contain path separators"),
    ("name empty", SPEC_HEAD.replace("name: demo", "name: ''"), ":1: name: must be a non-empty string"),
    ("name dot", SPEC_HEAD.replace("name: demo", "name: .demo"), ":1: name: must not start with '.'"),
    ("name spaces", SPEC_HEAD.replace("name: demo", "name: my demo"), ":1: name: may hold only"),
    ("name number", SPEC_HEAD.replace("name: demo", "name: 5"), ":1: name: must be a non-empty string"),
    ("warm_start traversal", SPEC_HEAD + "warm_start: [ok, ../../x]\n", ":5: warm_start[1]: must not contain path"),
    ("threshold nan", SPEC_HEAD + "budget: {metric_threshold: .nan}\n", "budget.metric_threshold: must be a finite number"),
    ("threshold inf", SPEC_HEAD + "budget: {metric_threshold: .inf}\n", "budget.metric_threshold: must be a finite number"),
    ("seed str", SPEC_HEAD + "seed: abc\n", ":5: seed: must be an integer"),
    ("seed float", SPEC_HEAD + "seed: 1.5\n", ":5: seed: must be an integer"),
    ("max_trials 0", SPEC_HEAD + "budget: {max_trials: 0}\n", "budget.max_trials: must be a positive integer"),
    ("quniform collapse", SPEC_HEAD.replace("{type: uniform, low: 0.0, high: 1.0}", "{type: quniform, low: 0, high: 1, q: 5}"),
     "quniform has a single multiple of q"),
    ("unknown field", SPEC_HEAD + "budjet: {max_trials: 3}\n", ":5: budjet: unknown field; did you mean 'budget'?"),
    ("duplicate key", SPEC_HEAD + "metric: acc\n", ":5: metric: duplicate key"),
    ("not a mapping", "- just\n- a list\n", "the spec must be a mapping"),
]


@pytest.mark.parametrize("label, text, fragment", SPEC_CASES, ids=[c[0] for c in SPEC_CASES])
def test_spec_refuses(tmp_path, label, text, fragment):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert type(caught.value) is SpecError
    message = str(caught.value)
    assert message.startswith(str(path)) and fragment in message, message


def test_the_alias_bomb_is_small_and_refused_with_its_line(tmp_path):
    assert len(BOMB) < 600
    path = tmp_path / "bomb.yaml"
    path.write_text(SPEC_HEAD + BOMB)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.line is not None and caught.value.line > 4


# -- the command line -------------------------------------------------------------------------
CLI_CASES: list[tuple[str, list[str], str]] = [
    ("run alias bomb", ["run", "bomb.yaml"], "bomb.yaml:"),
    ("run missing spec", ["run", "missing.yaml"], "missing.yaml: no such spec file"),
    ("run threshold nan", ["run", "nan.yaml"], "nan.yaml:5: budget.metric_threshold: must be a finite number"),
    ("run name traversal", ["run", "bomb.yaml", "--name", "../.."], "--name: an experiment name must not contain"),
    ("run name empty", ["run", "bomb.yaml", "--name", ""], "--name: an experiment name must not be empty"),
    ("resume traversal", ["resume", "../.."], "NAME: an experiment name must not contain path separators"),
    ("resume unknown", ["resume", "nope"], "no experiment named 'nope'"),
    ("stop dot", ["stop", "--", ".."], "NAME: an experiment name must not be '..'"),
    ("delete absolute", ["delete", "/tmp"], "NAME: an experiment name must not contain path separators"),
    ("delete empty", ["delete", ""], "NAME: an experiment name must not be empty"),
    ("delete dash", ["delete", "--", "-rf"], "no experiment named '-rf'"),
    ("delete unknown", ["delete", "nope"], "no experiment named 'nope'"),
    ("show unknown", ["show", "nope"], "no experiment named 'nope'"),
]


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Every CLI case, run at once (each is a fresh interpreter)."""
    root = tmp_path_factory.mktemp("cli")
    (root / "bomb.yaml").write_text(SPEC_HEAD + BOMB)
    (root / "nan.yaml").write_text(SPEC_HEAD + "budget: {metric_threshold: .nan}\n")
    env = {**os.environ, "RUNG_HOME": str(root / "home")}
    env.pop("RUNG_STORAGE", None)
    processes = {
        label: subprocess.Popen([sys.executable, "-m", "rung.cli", *args], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for label, args, _ in CLI_CASES
    }
    results = {}
    for label, process in processes.items():
        stdout, stderr = process.communicate(timeout=120)
        results[label] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize("label, args, fragment", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_refuses(cli_results, label, args, fragment):
    result = cli_results[label]
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("rung: error: "), result.stderr
    assert fragment in lines[0], lines[0]


# -- script parameters ------------------------------------------------------------------------
BAD_FLAG_NAMES = ["k=v", "--evil", "-x", "a b", "", "x\ny", "é", "a;b", ".hidden"]


@pytest.mark.parametrize("name", BAD_FLAG_NAMES, ids=[repr(n) for n in BAD_FLAG_NAMES])
def test_script_flags_refuse_a_parameter_that_is_not_a_flag(name):
    with pytest.raises(ValueError) as caught:
        config_flags({"fine": 1, name: 1})
    assert type(caught.value) is ValueError and f"parameter {name!r} cannot be passed" in str(caught.value)


@pytest.mark.parametrize("name", ["k=v", "--evil", "a b"])
def test_a_script_tuner_refuses_such_names_before_any_trial(name):
    script = rung.Script([sys.executable, "-c", "pass"])
    with pytest.raises(ValueError, match=f"parameter {name!r} cannot be passed as a --name=value flag"):
        tuner(objective=script, space={"x": uniform(0, 1), name: uniform(0, 1)})


def test_json_scripts_and_plain_flag_names_are_fine():
    tuner(objective=rung.Script([sys.executable, "-c", "pass"], args="json"), space={"k=v": 1, "x": uniform(0, 1)})
    flags = config_flags({"lr": 0.1, "batch-size": 32, "model.depth": 3, "_x": "--not-a-flag"})
    assert flags == ["--lr=0.1", "--batch-size=32", "--model.depth=3", "--_x=--not-a-flag"]


def test_the_tables_have_the_promised_size():
    cases = len(TUNER_CASES) + len(SPACE_CASES) + len(SPEC_CASES) + len(CLI_CASES) + len(BAD_FLAG_NAMES) + 3
    assert cases >= 100, cases
