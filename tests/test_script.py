"""Script trials: real programs (Python and bash) run per trial, reporting, stopping, failing."""

import json
import os
import pickle
import sys
import time
from pathlib import Path

import pytest

import rung
from rung.schedulers import FIFO, Decision, ResumeTrial
from rung.script import Script, ScriptFailed
from rung.script._arguments import format_value

SCRIPTS = Path(__file__).parent / "scripts"
PYTHON = sys.executable


def script(*command, **options):
    return Script(list(command), base_dir=SCRIPTS, **options)


def tune(objective, space, tmp_path, backend="inprocess", **options):
    options.setdefault("max_trials", 1)
    return rung.Tuner(objective, space, metric="loss", backend=backend, n_workers=1 if backend == "inprocess" else 2,
                      verbose=0, workdir=tmp_path, **options).run()


def running(pid):
    """Whether ``pid`` runs (a zombie nobody has reaped yet does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def eventually_gone(pid, within=3.0):
    deadline = time.monotonic() + within
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not running(pid)


class StopAtStep2(FIFO):
    def on_report(self, trial, metrics):
        if metrics["step"] >= 2:
            return Decision.stop("test")
        return super().on_report(trial, metrics)


class PauseOnceAtStep2(FIFO):
    """Pauses each trial at step 2 once, then resumes it."""

    def setup(self, searcher, metric, mode):
        super().setup(searcher, metric, mode)
        self.paused, self.resumed = [], set()

    def on_report(self, trial, metrics):
        if metrics["step"] == 2 and trial.trial_id not in self.resumed:
            return Decision.pause("test")
        return super().on_report(trial, metrics)

    def on_pause(self, trial):
        self.paused.append(trial.trial_id)

    def suggest(self, allow_new=True):
        if self.paused:
            trial_id = self.paused.pop()
            self.resumed.add(trial_id)
            return ResumeTrial(trial_id)
        return super().suggest(allow_new)


# -- Python scripts reporting through rung.report ---------------------------------------

AWKWARD = {"text": "it's a \"quoted\" value  with spaces", "dash": "--not-a-flag", "flag": True,
           "layers": rung.constant([64, 32])}


@pytest.mark.parametrize("backend", ["inprocess", "process"])
def test_python_script_reports_through_rung_report(backend, tmp_path):
    space = {"x": rung.uniform(0, 1), "epochs": 3, **AWKWARD}
    result = tune(script(PYTHON, "train.py"), space, tmp_path, backend, max_trials=2 if backend == "inprocess" else 4,
                  seed=0)
    trials = result.trials
    assert set(trials["status"]) == {"completed"}, trials["error"].tolist()
    assert list(trials["n_reports"]) == [3] * len(trials)
    for trial in result.trial_records:
        assert trial.metric_value == pytest.approx((trial.config["x"] - 0.3) ** 2 + 1 / 3)
        trial_dir = tmp_path / f"trial_{trial.trial_id}"
        seen = json.loads((trial_dir / "args_0.json").read_text())
        # Values with spaces, quotes and leading dashes arrive intact; floats repr-exact.
        assert seen["args"]["x"] == trial.config["x"]
        assert seen["args"]["text"] == AWKWARD["text"]
        assert seen["args"]["dash"] == "--not-a-flag"
        assert seen["args"]["flag"] == "true"
        assert json.loads(seen["args"]["layers"]) == [64, 32]
        assert seen["cwd"] == str(trial_dir / "work")
        assert seen["trial_dir"] == str(trial_dir)
        assert seen["checkpoint_dir"] == seen["env"]["RUNG_CHECKPOINT_DIR"] == str(trial_dir / "checkpoint")
        assert seen["env"]["RUNG_TRIAL_ID"] == str(trial.trial_id)
        assert json.loads(Path(seen["env"]["RUNG_CONFIG_FILE"]).read_text()) == trial.config
        assert "training with x=" in (trial_dir / "stdout.log").read_text()


def test_paused_script_resumes_from_its_persistent_checkpoint_in_a_fresh_work_dir(tmp_path):
    result = tune(script(PYTHON, "train.py"), {"x": 0.5, "epochs": 4}, tmp_path, scheduler=PauseOnceAtStep2())
    trial = result.trial_records[0]
    assert trial.status.value == "completed", trial.error
    assert trial.n_starts == 2
    assert list(result.reports["step"]) == [1, 2, 3, 4]
    trial_dir = tmp_path / "trial_0"
    assert (trial_dir / "checkpoint" / "step.txt").read_text() == "4"
    second_start = json.loads((trial_dir / "args_2.json").read_text())
    assert second_start["fresh_work_dir"] is True


def test_scheduler_stop_ends_a_python_script_after_its_cleanup_and_its_grandchild(tmp_path):
    result = tune(script(PYTHON, "linger.py"), {}, tmp_path, scheduler=StopAtStep2())
    trial = result.trial_records[0]
    assert trial.status.value == "stopped", trial.error
    assert trial.end_reason == "test"
    assert trial.n_reports == 2
    assert (tmp_path / "trial_0" / "cleaned_up.txt").read_text() == "yes"
    grandchild = int((tmp_path / "trial_0" / "grandchild.pid").read_text())
    assert eventually_gone(grandchild)
    # The stop is reported in one line, not a traceback.
    assert "Traceback" not in (tmp_path / "trial_0" / "stderr.log").read_text()


# -- any language: RUNG_REPORT lines ----------------------------------------------------

def test_bash_script_reports_with_rung_report_lines(tmp_path):
    result = tune(script("bash", "train.sh"), {"x": rung.choice([0.25, 0.5]), "epochs": 2}, tmp_path,
                  searcher="grid", max_trials=None)
    trials = result.trials
    assert list(trials["status"]) == ["completed", "completed"]
    assert list(trials["loss"]) == [0.25, 0.5]
    assert list(result.reports["epoch"]) == [1, 2, 1, 2]
    stdout = (tmp_path / "trial_0" / "stdout.log").read_text()
    assert "bash training with x=0.25" in stdout and "RUNG_REPORT" not in stdout
    assert "a warning on stderr" in (tmp_path / "trial_0" / "stderr.log").read_text()
    assert (tmp_path / "trial_0" / "checkpoint" / "bash_was_here").exists()


def test_json_mode_passes_a_config_file(tmp_path):
    objective = script(PYTHON, "config_json.py", args="json")
    result = tune(objective, {"x": 0.5, "layers": rung.constant([1, 2, 3]), "name": "a b"}, tmp_path)
    trial = result.trial_records[0]
    assert trial.status.value == "completed", trial.error
    assert trial.last_metrics == {"loss": 0.25, "n_layers": 3}
    seen = json.loads((tmp_path / "trial_0" / "seen.json").read_text())
    config_file = str(tmp_path / "trial_0" / "config.json")
    assert seen["argv"] == [f"--config={config_file}"]
    assert seen["env_file"] == config_file
    assert seen["config"] == {"x": 0.5, "layers": [1, 2, 3], "name": "a b"}


@pytest.mark.parametrize("ignore_term", [False, True])
def test_scheduler_stop_ends_the_whole_process_group(ignore_term, tmp_path):
    grace = 1.0
    result = tune(script("bash", "linger.sh", grace_period=grace), {"ignore_term": ignore_term}, tmp_path,
                  scheduler=StopAtStep2())
    trial = result.trial_records[0]
    assert trial.status.value == "stopped", trial.error
    assert trial.n_reports == 2
    grandchild = int((tmp_path / "trial_0" / "grandchild.pid").read_text())
    assert eventually_gone(grandchild, within=0.5)
    if ignore_term:
        assert grace <= trial.run_time  # SIGTERM ignored: SIGKILL only after the grace period
    else:
        assert trial.run_time < grace  # SIGTERM was enough


def test_trial_timeout_kills_the_script_group_through_the_guard(tmp_path):
    result = tune(script("bash", "linger.sh"), {"ignore_term": True}, tmp_path, backend="process", trial_timeout=1.5)
    trial = result.trial_records[0]
    assert trial.status.value == "failed"
    assert "timed out" in trial.error
    grandchild = int((tmp_path / "trial_0" / "grandchild.pid").read_text())
    assert eventually_gone(grandchild)


# -- failures ---------------------------------------------------------------------------

def test_failures_name_the_exit_the_stderr_tail_and_bad_report_lines(tmp_path):
    result = tune(script("bash", "misbehave.sh"), {"kind": rung.choice(["exit3", "segv", "malformed", "no_space"])},
                  tmp_path, searcher="grid", max_trials=None)
    errors = dict(zip(result.trials["config/kind"], result.trials["error"]))
    assert set(result.trials["status"]) == {"failed"}
    assert errors["exit3"].startswith("ScriptFailed: command ['bash', 'misbehave.sh'] exited with code 3")
    assert "first stderr line\nCUDA out of memory (pretend)" in errors["exit3"]
    assert "killed by SIGSEGV" in errors["segv"]
    assert "malformed report line 'RUNG_REPORT {\"loss\": 0.5'" in errors["malformed"]
    assert "invalid JSON" in errors["malformed"]
    assert "'RUNG_REPORT{\"loss\": 0.5}'" in errors["no_space"] and "no space" in errors["no_space"]
    # The malformed report ended the script at once, not after its 30 s sleep.
    malformed = result.trials.set_index("config/kind").loc["malformed"]
    assert malformed["run_time"] < 5


def test_calling_a_script_outside_a_trial_is_an_error():
    with pytest.raises(RuntimeError, match="outside a trial"):
        script("bash", "train.sh")({"x": 1})


# -- construction -----------------------------------------------------------------------

def test_script_is_picklable_and_resolves_relative_paths(tmp_path):
    objective = script(PYTHON, "train.py", "--epochs", "2")
    assert objective.command == [PYTHON, str(SCRIPTS / "train.py"), "--epochs", "2"]
    copy = pickle.loads(pickle.dumps(objective))
    assert copy.command == objective.command and copy.grace_period == 5.0
    cwd = os.getcwd()
    os.chdir(SCRIPTS)
    try:
        assert Script(["bash", "train.sh"]).command == ["bash", str(SCRIPTS / "train.sh")]
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize(
    ("command", "options", "error", "message"),
    [
        ([], {}, ValueError, "command is empty"),
        ("python train.py", {}, TypeError, "command must be a list of strings"),
        (["python", 3], {}, TypeError, r"command\[1\] must be a string, got 3"),
        ([PYTHON, "trian.py"], {}, ValueError, r"command\[1\]: no such file 'trian.py' \(looked in .*scripts\)"),
        (["./missing.sh"], {}, ValueError, r"command\[0\]: no such file './missing.sh'"),
        (["no-such-program-xyz", "train.py"], {}, ValueError, r"command\[0\]: program 'no-such-program-xyz' not found"),
        ([PYTHON, "train.py"], {"args": "yaml"}, ValueError, "args must be one of"),
        ([PYTHON, "train.py"], {"grace_period": 0}, ValueError, "grace_period must be a positive number"),
        ([PYTHON, "train.py"], {"grace_period": -1.0}, ValueError, "grace_period must be a positive number"),
        ([PYTHON, "train.py"], {"env": {"A": 1}}, TypeError, "env must map strings to strings"),
        ([PYTHON, "train.py"], {"base_dir": "/no/such/dir"}, ValueError, "base_dir: no such directory"),
    ],
)
def test_bad_arguments_are_refused_at_construction(command, options, error, message):
    options.setdefault("base_dir", SCRIPTS)
    with pytest.raises(error, match=message):
        Script(command, **options)


def test_flag_values_are_formatted_exactly():
    assert format_value(0.1 + 0.2) == "0.30000000000000004"
    assert float(format_value(1e-300 / 3)) == 1e-300 / 3
    assert format_value(3) == "3"
    assert format_value(True) == "true" and format_value(False) == "false"
    assert format_value(None) == "null"
    assert format_value([1, "a"]) == '[1, "a"]' and format_value({"a": 1}) == '{"a": 1}'
    assert format_value("-x y") == "-x y"
