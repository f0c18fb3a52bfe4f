"""Experiment names cannot reach outside the store, and `rung delete` removes only the
directory the store records for the experiment, only inside $RUNG_HOME/experiments/.

Issue 12, item 1: `Tuner(experiment="../..")` used to be accepted and `rung delete "../.."`
then removed the whole home directory. Every case runs on a stand-in home that holds the
user's other files, and checks that they survive.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import rung
from rung._names import MAX_LENGTH, check_experiment_name
from rung.spec import SpecError
from rung.storage import SQLStorage

BAD_NAMES = [
    ("", "must not be empty"),
    ("..", "'..'"),
    ("../..", "path separators"),
    ("a/../../b", "path separators"),
    ("/etc", "path separators"),
    ("a\\b", "path separators"),
    ("x..y", "'..'"),
    (".hidden", "must not start with '.'"),
    ("-rf", "must not start with '-'"),
    ("a b", "' '"),
    ("tab\there", "'\\t'"),
    ("new\nline", "'\\n'"),
    ("nul\x00", "'\\x00'"),
    ("caf\u00e9", "'\u00e9'"),
    ("$HOME", "'$'"),
    ("a;rm", "';'"),
    ("x" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH} characters"),
]
GOOD_NAMES = ["demo", "exp-20261201-1229-ab12", "a.b_c-d+e@f", "x" * MAX_LENGTH, "v1.2", "run=3,seed:4", "_x"]


@pytest.mark.parametrize("name, reason", BAD_NAMES, ids=[repr(n)[:20] for n, _ in BAD_NAMES])
def test_the_tuner_refuses_a_bad_experiment_name(name, reason):
    with pytest.raises(ValueError, match="^experiment ") as caught:
        rung.Tuner(lambda c: 0.0, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=1,
                   backend="inprocess", experiment=name, storage=":memory:")
    assert reason in str(caught.value)


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_ordinary_names_are_accepted(name):
    assert check_experiment_name(name) == name


def test_a_non_string_name_is_a_type_error():
    with pytest.raises(TypeError, match="experiment must be a string, got 5"):
        check_experiment_name(5)


def test_warm_start_names_are_checked_too():
    with pytest.raises(ValueError, match=r"warm_start\[1\] must not contain path separators"):
        rung.Tuner(lambda c: 0.0, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=1,
                   backend="inprocess", storage=":memory:", warm_start=["fine", "../x"])


def test_a_spec_name_is_checked_with_its_line(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("trial: {function: 'm:f'}\nname: ../..\nmetric: loss\nspace: {x: 1}\n")
    with pytest.raises(SpecError, match=r"spec.yaml:2: name: must not contain path separators"):
        rung.spec.load_spec(path)


# -- rung delete ------------------------------------------------------------------------------
@pytest.fixture
def home(tmp_path, monkeypatch):
    """A stand-in RUNG_HOME with the user's documents in it, a store and an outside directory."""
    home = tmp_path / "home"
    (home / "documents").mkdir(parents=True)
    (home / "documents" / "thesis.txt").write_text("precious")
    (home / "experiments").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "data.csv").write_text("1,2,3")
    monkeypatch.setenv("RUNG_HOME", str(home))
    monkeypatch.delenv("RUNG_STORAGE", raising=False)
    return home


def add(home: Path, name: str, workdir: Path | str | None) -> None:
    """An experiment written directly to the store, with whatever workdir it says."""
    store = SQLStorage(home / "rung.db")
    try:
        store.create_experiment(name, metric="loss", mode="min", seed=None, space={}, settings={},
                                workdir=None if workdir is None else str(workdir))
    finally:
        store.dispose()


def names_in_store(home: Path) -> set[str]:
    store = SQLStorage(home / "rung.db")
    try:
        return {summary.name for summary in store.list_experiments()}
    finally:
        store.dispose()


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RUNG_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "rung.cli", *args], env=env, cwd=home.parent,
                          capture_output=True, text=True, timeout=60)


def documents_intact(home: Path) -> None:
    assert (home / "documents" / "thesis.txt").read_text() == "precious"
    assert (home / "rung.db").is_file()
    assert (home.parent / "outside" / "data.csv").read_text() == "1,2,3"


def test_delete_removes_the_recorded_directory_inside_experiments(home):
    workdir = home / "experiments" / "good"
    (workdir / "trial_0").mkdir(parents=True)
    (workdir / "trial_0" / "stdout.log").write_text("log")
    add(home, "good", workdir)
    result = cli(home, "delete", "good")
    assert result.returncode == 0, result.stderr
    assert not workdir.exists()
    assert names_in_store(home) == set()
    documents_intact(home)


@pytest.mark.parametrize("where, reason", [
    ("outside", "not inside"),
    ("home", "not inside"),
    ("experiments", "not inside"),
    ("dotdot", "not inside"),
    ("symlink", "symbolic link"),
    ("file", "not a directory"),
])
def test_delete_keeps_files_the_store_points_at_outside_experiments(home, where, reason):
    target = {
        "outside": home.parent / "outside",
        "home": home,
        "experiments": home / "experiments",
        "dotdot": home / "experiments" / ".." / "documents",
        "symlink": home / "experiments" / "link",
        "file": home / "documents" / "thesis.txt",
    }[where]
    if where == "symlink":
        os.symlink(home.parent / "outside", target)
    add(home, "bad", target)
    result = cli(home, "delete", "bad")
    assert result.returncode == 0, result.stderr
    assert "deleted experiment 'bad'" in result.stderr
    assert f"its trial files are left in {target}" in result.stderr and reason in result.stderr
    assert names_in_store(home) == set()  # the records go, the files stay
    assert Path(target).exists()
    documents_intact(home)
    if where == "symlink":
        assert target.is_symlink()


def test_delete_keeps_a_directory_another_experiment_records(home):
    shared = home / "experiments" / "shared"
    shared.mkdir()
    (shared / "keep.txt").write_text("other's")
    add(home, "one", shared)
    add(home, "two", shared / "sub")
    result = cli(home, "delete", "one")
    assert result.returncode == 0, result.stderr
    assert "experiment 'two' keeps its files there too" in result.stderr
    assert (shared / "keep.txt").exists() and names_in_store(home) == {"two"}


@pytest.mark.parametrize("command", ["delete", "stop", "resume"])
@pytest.mark.parametrize("name", ["../..", "", ".", "/tmp"])
def test_cli_refuses_a_bad_name_before_touching_anything(home, command, name):
    add(home, "demo", home / "experiments" / "demo")
    result = cli(home, command, "--", name)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rung: error: NAME: an experiment name"), result.stderr
    assert names_in_store(home) == {"demo"}
    documents_intact(home)


def test_cli_run_refuses_a_bad_name_option(home):
    result = cli(home, "run", "nope.yaml", "--name", "../..")
    assert result.returncode == 2
    assert result.stderr.strip() == "rung: error: --name: an experiment name must not contain path separators, got '../..'"


# -- names stored before the rule -------------------------------------------------------------
LEGACY_NAMES = ["my exp", "caf\u00e9", ".old", "-dash", "x..y", "$HOME"]


@pytest.mark.parametrize("name", LEGACY_NAMES)
def test_an_experiment_stored_under_a_name_the_rule_refuses_stays_manageable(home, name):
    """Stores from before the rule keep working: show, stop, resume and delete find it."""
    workdir = home / "experiments" / name
    (workdir / "trial_0").mkdir(parents=True)
    add(home, name, workdir)
    shown = cli(home, "show", "--", name)
    assert shown.returncode == 0, shown.stderr
    stopped = cli(home, "stop", "--", name)
    assert stopped.returncode == 0 and "nothing to stop" in stopped.stderr, stopped.stderr
    resumed = cli(home, "resume", "--", name)  # found; refused only because it has no spec
    assert resumed.returncode == 2 and "was not started from a spec file" in resumed.stderr, resumed.stderr
    deleted = cli(home, "delete", "--", name)
    assert deleted.returncode == 0, deleted.stderr
    assert not workdir.exists() and names_in_store(home) == set()
    documents_intact(home)


def test_python_resume_reaches_a_legacy_name_but_never_creates_one(home):
    store = home / "rung.db"
    space = {"x": rung.uniform(0, 1)}
    with pytest.raises(ValueError, match="experiment may hold only"):
        rung.Tuner(lambda c: c["x"], space, metric="loss", max_trials=1, backend="inprocess",
                   experiment="my exp", storage=store, resume=True, verbose=0).run()
    assert names_in_store(home) == set()
    with pytest.raises(ValueError, match="experiment may hold only"):
        rung.Tuner(lambda c: c["x"], space, metric="loss", max_trials=1, backend="inprocess",
                   experiment="my exp", storage=store, verbose=0)
    # An experiment that is already stored under that name (written before the rule) resumes.
    first = rung.Tuner(lambda c: c["x"], space, metric="loss", max_trials=2, backend="inprocess",
                       experiment="ok", storage=store, seed=1, verbose=0).run()
    engine_store = SQLStorage(store)
    try:
        with engine_store.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE rung_experiments SET name = 'my exp' WHERE name = 'ok'")
    finally:
        engine_store.dispose()
    resumed = rung.Tuner(lambda c: c["x"], space, metric="loss", max_trials=4, backend="inprocess",
                         experiment="my exp", storage=store, seed=1, resume=True, verbose=0).run()
    assert len(resumed.trials) == 4 and len(first.trials) == 2
    documents_intact(home)


@pytest.mark.parametrize("name", ["..", ".", "a/b", "tab\there", "nul\x00"])
def test_even_a_stored_name_cannot_be_a_path(name):
    with pytest.raises(ValueError, match="^experiment must not"):
        check_experiment_name(name, existing=True)
