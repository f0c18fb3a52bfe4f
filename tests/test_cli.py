"""The `rung` command line, run as real subprocesses (`python -m rung.cli ...`)."""

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
import yaml

import rung
from rung.storage import SQLStorage

COMMANDS = ["run", "resume", "list", "show", "best", "trials", "stop", "delete"]

OBJECTIVES = """
import time

import rung


def objective(config):
    for epoch in range(1, config["epochs"] + 1):
        rung.report(epoch=epoch, loss=(config["x"] - 0.3) ** 2 + 1.0 / epoch)


def slow(config):
    for step in range(1, 100_000):
        time.sleep(0.05)
        rung.report(loss=config["x"] / step)


def broken(config):
    raise RuntimeError("boom")
"""


def spec_yaml(name="demo", function="objective", max_trials=6, workers=1, backend="inprocess", extra=""):
    return textwrap.dedent(f"""\
        name: {name}
        trial:
          function: cli_objectives:{function}
        space:
          x: {{type: uniform, low: 0.0, high: 1.0}}
          units: {{type: choice, values: [16, 32, 64]}}
          epochs: 2
        metric: loss
        mode: min
        searcher: {{name: random, seed: 7}}
        budget:
          max_trials: {max_trials}
          max_concurrent: {workers}
        backend: {backend}
        """) + extra


@pytest.fixture
def project(tmp_path):
    """A directory with the objectives module; specs are written next to it."""
    (tmp_path / "cli_objectives.py").write_text(OBJECTIVES)
    return tmp_path


def write_spec(project, text, name="spec.yaml"):
    path = project / name
    path.write_text(text)
    return path


def cli_env(tmp_path):
    env = {**os.environ, "RUNG_HOME": str(tmp_path / "rung_home"), "COLUMNS": "200"}
    env.pop("RUNG_STORAGE", None)
    return env


def start(tmp_path, *args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "rung.cli", *map(str, args)], cwd=tmp_path, env=cli_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )


def rung_cli(tmp_path, *args, timeout=120):
    """Run `rung ARGS` to its end; returns the CompletedProcess."""
    process = start(tmp_path, *args)
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def one_line_error(result, code=2):
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rung: error: "), result.stderr
    return lines[0]


def default_db(tmp_path):
    return tmp_path / "rung_home" / "rung.db"


def test_help_for_the_command_and_every_subcommand(tmp_path):
    processes = {command: start(tmp_path, *([command] if command else []), "--help") for command in [None, *COMMANDS]}
    for command, process in processes.items():
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, (command, stderr)
        assert stdout.startswith(f"usage: rung {command or ''}".rstrip()), stdout
        if command is None:
            assert all(f"    {name} " in stdout for name in COMMANDS), stdout
        else:
            assert "--storage URL" in stdout


def test_run_then_list_show_best_and_trials(project):
    spec = write_spec(project, spec_yaml(max_trials=6, workers=2, backend="process"))
    result = ok(rung_cli(project, "run", spec, "--quiet"))
    stored = rung.load("demo", storage=default_db(project))
    assert len(stored.trials) == 6 and set(stored.trials["status"]) == {"completed"}
    assert stored.stop_reason == "max_trials"
    assert result.stdout == ""  # --quiet
    best_value = f"{stored.best_value:.6g}"

    commands = {
        "list": ["list"], "show": ["show", "demo"], "best_json": ["best", "demo"],
        "best_yaml": ["best", "demo", "--format", "yaml"], "csv": ["trials", "demo", "--format", "csv"],
        "json": ["trials", "demo", "--format", "json"],
    }
    processes = {key: start(project, *args) for key, args in commands.items()}
    out = {}
    for key, process in processes.items():
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, (key, stderr)
        out[key] = stdout

    row = next(line for line in out["list"].splitlines() if " demo " in line)
    assert "finished" in row and " 6 " in row and best_value in row and "loss (min)" in row

    show = out["show"]
    for words in ("demo", "finished", "max_trials", "loss (min)", "6: 6 completed", best_value,
                  f"(trial {stored.best_trial.trial_id})", json.dumps(stored.best_config)):
        assert words in show, words
    lines = show.splitlines()
    table = lines[[line.strip() for line in lines].index("trials"):]
    assert sum(line.startswith("│") for line in table) == 6
    assert all(any(line.startswith(f"│ {' ' * 4}{i} │") for line in table) for i in range(6))

    assert json.loads(out["best_json"]) == stored.best_config
    assert yaml.safe_load(out["best_yaml"]) == stored.best_config
    assert out["best_yaml"].startswith("x: ")  # the config only, in space order

    frame = pd.read_csv(io.StringIO(out["csv"]))
    expected = stored.trials
    assert list(frame.columns) == list(expected.columns)
    for column in ["trial_id", "status", "loss", "n_reports", "config/x", "config/units", "config/epochs"]:
        assert list(frame[column]) == list(expected[column]), column

    records = json.loads(out["json"])
    assert [r["trial_id"] for r in records] == list(expected["trial_id"])
    assert [r["loss"] for r in records] == list(expected["loss"])
    assert [r["config/x"] for r in records] == list(expected["config/x"])
    assert all(r["error"] is None for r in records)


def test_run_prints_the_best_config_and_refuses_an_existing_name(project):
    spec = write_spec(project, spec_yaml(max_trials=3))
    result = ok(rung_cli(project, "run", spec))
    stored = rung.load("demo", storage=default_db(project))
    assert result.stdout.strip() == (
        f"best loss={stored.best_value:.6g} (trial {stored.best_trial.trial_id}): {json.dumps(stored.best_config)}"
    )
    assert "rung show demo" in result.stderr
    again = rung_cli(project, "run", spec)
    assert "already exists" in one_line_error(again) and "rung resume demo" in again.stderr
    ok(rung_cli(project, "run", spec, "--name", "demo-2", "--max-trials", "2", "--quiet"))
    assert len(rung.load("demo-2", storage=default_db(project)).trials) == 2


def test_invalid_spec_is_refused_before_anything_runs(project):
    spec = write_spec(project, spec_yaml(extra="budget2: 3\n"))
    line = one_line_error(rung_cli(project, "run", spec))
    assert f"{spec}:15: budget2: unknown field; did you mean 'budget'?" in line
    spec = write_spec(project, spec_yaml(max_trials=0))
    assert f"{spec}:12: budget.max_trials: must be a positive integer" in one_line_error(rung_cli(project, "run", spec))
    assert not default_db(project).exists()  # nothing was created


def test_usage_errors_exit_with_code_2(project):
    spec = write_spec(project, spec_yaml())
    for args in (["run", spec, "--max-trials", "0"], ["run"], ["best", "x", "--format", "xml"], ["frobnicate"], []):
        result = rung_cli(project, *args)
        assert result.returncode == 2, (args, result)
        assert "Traceback" not in result.stderr


def test_unknown_experiment_is_a_one_line_error(project):
    write_spec(project, spec_yaml(max_trials=1))
    ok(rung_cli(project, "run", "spec.yaml", "--quiet"))  # the store exists, the name does not
    processes = [start(project, command, "nope") for command in ["resume", "show", "best", "trials", "stop", "delete"]]
    for process in processes:
        stdout, stderr = process.communicate(timeout=60)
        line = one_line_error(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
        assert "no experiment named 'nope'" in line
        assert stdout == ""
    # A store that does not exist is not created by looking into it.
    line = one_line_error(rung_cli(project, "show", "nope", "--storage", project / "missing.db"))
    assert "no experiment named 'nope'" in line and not (project / "missing.db").exists()


def test_stop_ends_a_running_experiment(project):
    spec = write_spec(project, spec_yaml(name="long", function="slow", max_trials=50, workers=2, backend="process"))
    runner = start(project, "run", spec, "--quiet")
    try:
        store = SQLStorage(default_db(project)) if _wait_for(lambda: default_db(project).exists()) else None
        assert store is not None
        assert _wait_for(lambda: (e := store.get_experiment("long")) is not None and e.status == "running"
                         and len(rung.load("long", storage=store).reports) >= 2)
        ok(rung_cli(project, "stop", "long"))
        stdout, stderr = runner.communicate(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0, stderr
    result = rung.load("long", storage=store)
    assert result.stop_reason == "stop_requested" and result.status == "finished"
    assert set(result.trials["status"]) == {"stopped"} and 1 <= len(result.trials) <= 2
    assert "not running" in ok(rung_cli(project, "stop", "long")).stderr


def _default_sigint() -> None:
    # A suite started in the background of a non-interactive shell (`make test &`) inherits
    # SIGINT ignored, and Python keeps it ignored: give the CLI what a terminal gives it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_interrupts_the_run_with_exit_code_130(project):
    spec = write_spec(project, spec_yaml(name="long", function="slow", max_trials=50))
    runner = start(project, "run", spec, "--quiet", preexec_fn=_default_sigint)
    try:
        assert _wait_for(lambda: default_db(project).exists()
                         and len(rung.load("long", storage=default_db(project)).reports) >= 1)
        runner.send_signal(signal.SIGINT)
        # Stopping the two running trials (SIGTERM, then SIGKILL after the grace period) and
        # the warm workers takes a few seconds; on a loaded 2-core machine, more than 30.
        stdout, stderr = runner.communicate(timeout=90)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 130, stderr
    assert "rung resume long" in stderr
    assert rung.load("long", storage=default_db(project)).status == "interrupted"


def test_a_run_where_every_trial_fails_exits_with_1(project):
    spec = write_spec(project, spec_yaml(function="broken", max_trials=2))
    line = one_line_error(rung_cli(project, "run", spec, "--quiet"), code=1)
    assert "no trial of 'demo' produced a value" in line
    best = rung_cli(project, "best", "demo")
    assert best.returncode == 1 and best.stdout == ""
    show = ok(rung_cli(project, "show", "demo"))
    assert "2: 2 failed" in show.stdout and "boom" in show.stdout


def test_delete_removes_the_experiment_and_its_files(project):
    spec = write_spec(project, spec_yaml(max_trials=2, backend="process"))  # keeps trial logs
    ok(rung_cli(project, "run", spec, "--quiet"))
    workdir = project / "rung_home" / "experiments" / "demo"
    assert workdir.is_dir()
    ok(rung_cli(project, "delete", "demo"))
    assert not workdir.exists()
    assert SQLStorage(default_db(project)).get_experiment("demo") is None
    one_line_error(rung_cli(project, "show", "demo"))
    one_line_error(rung_cli(project, "delete", "demo"))


def test_resume_continues_with_the_stored_spec(project):
    db = project / "store" / "exp.db"
    spec = write_spec(project, spec_yaml(max_trials=5, extra="storage: store/exp.db\n"))
    ok(rung_cli(project, "run", spec, "--max-trials", "2", "--quiet"))
    first = rung.load("demo", storage=db)
    assert len(first.trials) == 2 and first.stop_reason == "max_trials"
    # Resume from another directory: the module and the store are found through the stored spec.
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()
    ok(rung_cli(elsewhere, "resume", "demo", "--storage", db, "--max-trials", "4", "--quiet"))
    resumed = rung.load("demo", storage=db)
    assert len(resumed.trials) == 4 and set(resumed.trials["status"]) == {"completed"}
    assert [t.config for t in resumed.trial_records[:2]] == [t.config for t in first.trial_records]
    ok(rung_cli(elsewhere, "resume", "demo", "--storage", db, "--quiet"))  # the spec's own budget: 5
    final = rung.load("demo", storage=db)
    assert len(final.trials) == 5 and final.stop_reason == "max_trials"
    # Same configs as one uninterrupted run with the same seed.
    from rung.spec import load_spec

    sys.path.insert(0, str(project))
    try:
        whole = load_spec(spec).build_tuner(storage=":memory:", verbose=0).run()
    finally:
        sys.path.remove(str(project))
    assert [t.config for t in final.trial_records] == [t.config for t in whole.trial_records]


def test_resume_of_an_experiment_made_in_python_says_how(project):
    db = project / "py.db"
    sys.path.insert(0, str(project))
    try:
        import cli_objectives

        rung.Tuner(cli_objectives.objective, {"x": rung.uniform(0, 1), "epochs": 1}, metric="loss", max_trials=1,
                   backend="inprocess", experiment="from-python", storage=db, verbose=0).run()
    finally:
        sys.path.remove(str(project))
        sys.modules.pop("cli_objectives", None)
    line = one_line_error(rung_cli(project, "resume", "from-python", "--storage", db))
    assert "not started from a spec file" in line and "resume=True" in line


def _wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:  # the store may be mid-creation
            pass
        time.sleep(0.1)
    return False
