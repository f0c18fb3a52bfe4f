"""YAML experiment specs: loading, every kind of invalid field (with its path and line),
building the tuner, and the stored copy that `rung resume` rebuilds from."""

import sys
import textwrap
import uuid

import pytest

import rung
from rung.searchers import Grid, Random
from rung.spec import ExperimentSpec, SpecError, load_spec

OBJECTIVE = """
import rung

def objective(config):
    for epoch in range(1, 4):
        rung.report(epoch=epoch, loss=(config["x"] - 0.3) ** 2 + 1.0 / epoch)

not_a_function = 42
"""

# Lines are numbered in the tests below: keep this layout in step with them.
SPEC = """\
name: demo
trial:
  function: {module}:objective
space:
  x: {{type: uniform, low: 0.0, high: 1.0}}
  units: {{type: choice, values: [16, 32]}}
  epochs: 3
metric: loss
mode: min
searcher: {{name: random, seed: 3}}
budget:
  max_trials: 4
  max_concurrent: 1
backend: inprocess
"""


@pytest.fixture(autouse=True)
def _isolated_imports(monkeypatch):
    """load_spec puts the spec's directory on sys.path: keep that to each test."""
    monkeypatch.setattr(sys, "path", list(sys.path))


@pytest.fixture
def module(tmp_path):
    """A fresh objective module next to the specs (unique name: sys.modules caches imports)."""
    name = f"spec_objective_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(OBJECTIVE)
    return name


def write(tmp_path, text, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def spec_text(module, replace=(), append=""):
    text = SPEC.format(module=module)
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    return text + append


def test_valid_spec_loads_and_builds_its_tuner(tmp_path, module):
    spec = load_spec(write(tmp_path, spec_text(module)))
    assert spec.name == "demo" and spec.metric == "loss" and spec.mode == "min"
    assert spec.space == rung.Space({"x": rung.uniform(0, 1), "units": rung.choice([16, 32]), "epochs": 3})
    assert spec.budget.max_trials == 4 and spec.base_dir == tmp_path.resolve()
    tuner = spec.build_tuner(storage=tmp_path / "s.db", verbose=0)
    assert isinstance(tuner.searcher, Random)
    assert tuner.n_workers == 1 and tuner.max_trials == 4 and tuner.experiment == "demo"
    assert tuner.spec["_source"] == {"file": str((tmp_path / "spec.yaml").resolve()), "base_dir": str(tmp_path.resolve())}
    assert tuner.spec["name"] == "demo" and tuner.spec["space"]["epochs"] == 3

    result = tuner.run()
    assert len(result.trials) == 4 and result.stop_reason == "max_trials"
    stored = rung.storage.SQLStorage(tmp_path / "s.db").require_experiment("demo")
    assert stored.spec == tuner.spec
    assert stored.settings["n_workers"] == 1


def test_overrides_win_and_the_stored_spec_rebuilds_the_same_tuner(tmp_path, module):
    spec = load_spec(write(tmp_path, spec_text(module)))
    tuner = spec.build_tuner(max_trials=2, experiment="renamed", verbose=0)
    assert tuner.max_trials == 2 and tuner.experiment == "renamed" and tuner.spec["name"] == "renamed"
    again = ExperimentSpec.from_stored(tuner.spec)
    assert again.name == "renamed" and again.space == spec.space and again.budget == spec.budget
    assert again.objective is spec.objective and again.base_dir == spec.base_dir
    # Same searcher seed, same suggestions.
    first = [spec.build_tuner(verbose=0).searcher.suggest() for _ in range(2)]
    assert first[0] == again.build_tuner(verbose=0).searcher.suggest() == first[1]


def test_searcher_options_and_grid(tmp_path, module):
    text = spec_text(module, [("searcher: {name: random, seed: 3}", "searcher: {name: grid, num_points: 3}")])
    tuner = load_spec(write(tmp_path, text)).build_tuner(verbose=0)
    assert isinstance(tuner.searcher, Grid) and tuner.searcher.size == 3 * 2
    text = spec_text(module, [("searcher: {name: random, seed: 3}", "searcher:\n  name: random\n  points_to_evaluate: [{x: 0.5, units: 16}]")])
    assert load_spec(write(tmp_path, text)).build_tuner(verbose=0).searcher.suggest() == {"x": 0.5, "units": 16, "epochs": 3}


@pytest.mark.parametrize(
    ("scheduler", "cls", "attribute", "value"),
    [
        ("{name: asha, max_resource: 9, reduction_factor: 3}", rung.schedulers.ASHA, "max_resource", 9),
        ("{name: successive_halving, max_resource: 9}", rung.schedulers.SuccessiveHalving, "max_resource", 9),
        ("{name: hyperband, max_resource: 27, type: stopping}", rung.schedulers.Hyperband, "max_resource", 27),
        ("{name: bandit, slack_factor: 0.2}", rung.schedulers.Bandit, "slack_factor", 0.2),
        ("{name: truncation, truncation_percentage: 20}", rung.schedulers.Truncation, "truncation_percentage", 20),
        ("median", rung.schedulers.MedianStopping, "evaluation_interval", 1),
    ],
)
def test_every_scheduler_can_be_named_in_a_spec(tmp_path, module, scheduler, cls, attribute, value):
    text = spec_text(module, append=f"scheduler: {scheduler}\n")
    tuner = load_spec(write(tmp_path, text)).build_tuner(verbose=0)
    assert isinstance(tuner.scheduler, cls)
    assert getattr(tuner.scheduler, attribute) == value


def test_grid_needs_no_budget_but_random_does(tmp_path, module):
    endless = spec_text(module, [("  max_trials: 4\n", "")])
    spec = load_spec(write(tmp_path, endless))
    with pytest.raises(SpecError, match=r"spec\.yaml:11: budget: the experiment has no end"):
        spec.build_tuner()
    assert spec.build_tuner(max_trials=3, verbose=0).max_trials == 3
    finite = endless.replace("searcher: {name: random, seed: 3}", "searcher: {name: grid, num_points: 2}")
    assert load_spec(write(tmp_path, finite)).build_tuner(verbose=0).searcher.is_finite


def test_relative_storage_resolves_against_the_spec_file(tmp_path, module):
    spec = load_spec(write(tmp_path, spec_text(module, append="storage: results/rung.db\n")))
    assert spec.storage == str(tmp_path.resolve() / "results" / "rung.db")
    spec = load_spec(write(tmp_path, spec_text(module, append="storage: sqlite:///r.db\n")))
    assert spec.storage == f"sqlite:///{tmp_path.resolve() / 'r.db'}"
    spec = load_spec(write(tmp_path, spec_text(module, append="storage: postgresql://h/db\n")))
    assert spec.storage == "postgresql://h/db"


def test_command_trial_builds_a_script_resolved_against_the_spec_dir(tmp_path, module):
    (tmp_path / "train.py").write_text("print('hi')\n")
    text = spec_text(module, [("  function: {}:objective\n".format(module), "  command: [python, train.py]\n  args: json\n")])
    spec = load_spec(write(tmp_path, text))
    assert type(spec.objective).__name__ == "Script"
    assert spec.objective.command[1] == str(tmp_path.resolve() / "train.py") and spec.objective.args == "json"


# Each case: (edit of the valid spec, field path, line, words of the message).
INVALID = {
    "unknown top-level key": (dict(append="serch: grid\n"), "serch", 15, "did you mean 'searcher'"),
    "unknown budget key": (dict(append="budget:\n  max_trial: 3\n"), "budget", 15, "duplicate key"),
    "unknown budget key (typo)": (dict(replace=[("  max_concurrent: 1", "  max_concurent: 1")]), "budget.max_concurent", 13, "did you mean 'max_concurrent'"),
    "missing metric": (dict(replace=[("metric: loss\n", "")]), "metric", None, "required field is missing"),
    "missing name": (dict(replace=[("name: demo\n", "")]), "name", None, "required field is missing"),
    "empty name": (dict(replace=[("name: demo", "name:")]), "name", 1, "required field is empty"),
    "name not a string": (dict(replace=[("name: demo", "name: [a]")]), "name", 1, "must be a non-empty string"),
    "bad mode": (dict(replace=[("mode: min", "mode: minimize")]), "mode", 9, "must be one of min, max"),
    "zero max_trials": (dict(replace=[("max_trials: 4", "max_trials: 0")]), "budget.max_trials", 12, "positive integer"),
    "float max_trials": (dict(replace=[("max_trials: 4", "max_trials: 2.5")]), "budget.max_trials", 12, "positive integer"),
    "negative wallclock": (dict(replace=[("  max_trials: 4", "  max_trials: 4\n  max_wallclock: -1")]), "budget.max_wallclock", 13, "positive number"),
    "YAML 1.1 float": (dict(replace=[("  max_trials: 4", "  max_trials: 4\n  trial_timeout: 1e3")]), "budget.trial_timeout", 13, "YAML reads 1e3 as a string"),
    "budget not a mapping": (dict(replace=[("budget:\n  max_trials: 4\n  max_concurrent: 1", "budget: 5")]), "budget", 11, "must be a mapping"),
    "both function and command": (dict(replace=[("  function:", "  command: [python, x.py]\n  function:")]), "trial", 2, "exactly one of trial.function and trial.command, got both"),
    "neither function nor command": (dict(replace=[("  function: {m}:objective", "  args: json")]), "trial", 2, "got neither"),
    "args with function": (dict(replace=[("  function: {m}:objective", "  function: {m}:objective\n  args: json")]), "trial.args", 4, "only applies to command trials"),
    "module not importable": (dict(replace=[("{m}:objective", "no_such_module_xyz:objective")]), "trial.function", 3, "cannot import module 'no_such_module_xyz'"),
    "function missing": (dict(replace=[("{m}:objective", "{m}:objectve")]), "trial.function", 3, "has no attribute 'objectve'; did you mean 'objective'"),
    "not callable": (dict(replace=[("{m}:objective", "{m}:not_a_function")]), "trial.function", 3, "is not callable"),
    "no colon": (dict(replace=[("{m}:objective", "{m}.objective")]), "trial.function", 3, "must be 'module:function'"),
    "script file missing": (dict(replace=[("  function: {m}:objective", "  command: [python, missing.py]")]), "trial.command[1]", 3, "no such file 'missing.py'"),
    "bad args mode": (dict(replace=[("  function: {m}:objective", "  command: [python, -c, pass]\n  args: yaml")]), "trial.args", 4, "must be one of flags, json"),
    "invalid domain": (dict(replace=[("low: 0.0, high: 1.0", "low: 2.0, high: 1.0")]), "space.x", 5, "uniform needs low < high"),
    "unknown domain type": (dict(replace=[("type: choice", "type: choise")]), "space.units", 6, "unknown domain type 'choise'"),
    "YAML 1.1 float in a domain": (dict(replace=[("low: 0.0", "low: 1e-4")]), "space.x", 5, "YAML reads 1e-4 as a string"),
    "condition on unknown parameter": (dict(replace=[("  epochs: 3", "  epochs: {type: randint, low: 1, high: 3, conditions: [{parent: nope, op: '==', value: 1}]}")]), "space.epochs", 7, "unknown parameter 'nope'"),
    "empty space": (dict(replace=[("space:\n  x: {type: uniform, low: 0.0, high: 1.0}\n  units: {type: choice, values: [16, 32]}\n  epochs: 3", "space: {}")]), "space", 4, "non-empty mapping"),
    "unknown searcher": (dict(replace=[("name: random, seed: 3", "name: randm")]), "searcher.name", 10, "did you mean 'random'"),
    "unknown searcher option": (dict(replace=[("seed: 3", "sed: 3")]), "searcher.sed", 10, "did you mean 'seed'"),
    "grid of a continuous space": (dict(replace=[("searcher: {name: random, seed: 3}", "searcher: grid")]), "searcher", 10, "num_points"),
    "unknown scheduler": (dict(append="scheduler: fifoo\n"), "scheduler", 15, "did you mean 'fifo'"),
    "unknown backend": (dict(replace=[("backend: inprocess", "backend: threads")]), "backend", 14, "not known"),
    "too many workers for inprocess": (dict(replace=[("max_concurrent: 1", "max_concurrent: 4")]), "budget.max_concurrent", 13, "at most 1 trial"),
    "warm_start not names": (dict(append="warm_start: [1]\n"), "warm_start[0]", 15, "non-empty string"),
    "duplicate key": (dict(append="metric: other\n"), "metric", 15, "duplicate key 'metric'"),
    "date that cannot be stored": (dict(replace=[("  epochs: 3", "  epochs: 2024-01-01")]), "space.epochs", 7, "cannot be saved"),
    "seed not an int": (dict(append="seed: abc\n"), "seed", 15, "must be an integer"),
}


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_invalid_specs_name_the_field_and_line(tmp_path, module, case):
    edit, field, line, words = INVALID[case]
    replace = [(old.replace("{m}", module), new.replace("{m}", module)) for old, new in edit.get("replace", ())]
    path = write(tmp_path, spec_text(module, replace, edit.get("append", "")))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.field, err.line) == (field, line), str(err)
    where = f"{path}:{line}" if line is not None else f"{path}"
    assert str(err).startswith(f"{where}: {field}: "), str(err)
    assert words in str(err)


def test_yaml_syntax_error_and_missing_file(tmp_path, module):
    path = write(tmp_path, "name: demo\nspace: [1, 2\nmetric: loss\n")
    with pytest.raises(SpecError, match=r"spec\.yaml:\d+: not valid YAML"):
        load_spec(path)
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "nope.yaml")
    with pytest.raises(SpecError, match="the spec must be a mapping"):
        load_spec(write(tmp_path, "- a\n- b\n"))


def test_importing_a_broken_module_names_the_module_and_its_error(tmp_path):
    name = f"broken_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("import no_such_dependency_xyz\n")
    text = SPEC.format(module=name)
    with pytest.raises(SpecError, match=rf"trial\.function: importing module '{name}' failed: ModuleNotFoundError"):
        load_spec(write(tmp_path, text))


@pytest.mark.parametrize("backend", ["process", "inprocess", "simulator"])
def test_validating_a_spec_builds_no_backend_and_runs_nothing(tmp_path, module, monkeypatch, backend):
    import subprocess

    from rung.backends import _registry

    def refuse(*args, **kwargs):
        raise AssertionError("validating a spec must not run a subprocess")

    for name in ("run", "Popen", "check_output"):
        monkeypatch.setattr(subprocess, name, refuse)
    built = []
    for name, factory in list(_registry._factories.items()):
        class Refusing(factory):
            def __init__(self, *args, **kwargs):
                built.append(name)
                raise AssertionError("validating a spec must not build a backend")
        monkeypatch.setitem(_registry._factories, name, Refusing)
    spec = load_spec(write(tmp_path, spec_text(module, replace=[("backend: inprocess", f"backend: {backend}")])))
    assert spec.backend == backend and built == []


def test_the_backend_limit_is_read_without_building_one(tmp_path, module):
    text = spec_text(module, replace=[("max_concurrent: 1", "max_concurrent: 2")])
    with pytest.raises(SpecError, match="runs at most 1 trial"):
        load_spec(write(tmp_path, text))
