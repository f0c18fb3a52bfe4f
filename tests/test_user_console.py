"""Every failure visible on the console (issue 13, item 14): the progress display, `rung show`,
`rung list`, `rung resume` of a finished experiment, and integers that stay integers."""

import io
import re
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from rich.console import Console

import rung
import rung.tuner._tuner as tuner_module
from rung.cli import main
from rung.cli._tables import experiments_table, fmt_short
from rung.storage import ExperimentSummary
from rung.tuner._progress import RichProgress


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RUNG_STORAGE", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    return tmp_path


def _epochs(config):
    for epoch in range(1, 10):
        rung.report(epoch=epoch, loss=config["x"] / epoch + config.get("units", 0) / 1e4)


SPACE = {"x": rung.uniform(0, 1), "wide": rung.choice(True, False),
         "units": rung.randint(16, 128).when("wide", "==", True),
         "a_parameter_with_a_long_name": rung.loguniform(1e-5, 1e-1)}


def _asha_run(store, name="user-asha", max_trials=10):
    return rung.Tuner(_epochs, SPACE, metric="loss", mode="min", scheduler=rung.schedulers.ASHA("epoch", max_resource=9),
                      max_trials=max_trials, backend="inprocess", storage=str(store), experiment=name,
                      verbose=0, seed=0).run()


# -- the progress display --------------------------------------------------------------------------


def test_not_on_a_terminal_progress_is_plain_unwrapped_lines_starting_before_any_trial(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent("""
        import rung

        def objective(config):
            for epoch in range(1, 4):
                rung.report(epoch=epoch, loss=config["x"] / epoch)

        rung.Tuner(objective, {"x": rung.uniform(0, 1)}, metric="loss", mode="min",
                   scheduler=rung.schedulers.ASHA("epoch", max_resource=3), max_trials=6, n_workers=2,
                   backend="process", storage=":memory:", experiment="plain-lines", seed=0).run()
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "40", "RUNG_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "\x1b" not in done.stderr  # no escape codes in a log
    assert lines[0].startswith("experiment plain-lines: Auto searcher, ASHA scheduler, 2 worker(s) (process)")
    assert lines[0].endswith("max_trials 6 in total; starting...")  # one line although COLUMNS=40
    assert lines[1].startswith("started: trials 0/6 ended: 0 completed, 0 stopped, 0 paused, 0 failed, 0 running")
    final = [line for line in lines if line.startswith("finished: ")]
    assert len(final) == 1 and "trials 6/6 ended" in final[0] and final[0].count(" 0 running;") == 1
    summary = lines[-1]
    assert summary.startswith("6 trials in ") and "; stopped by max_trials; best loss=" in summary
    counts = re.search(r"\((\d+) completed, (\d+) stopped, (\d+) paused, (\d+) failed\)", summary)
    assert counts and sum(map(int, counts.groups())) == 6


def test_on_a_terminal_the_last_frame_is_the_final_state(monkeypatch):
    output = io.StringIO()
    console = Console(file=output, force_terminal=True, width=100, color_system=None)

    class TerminalProgress(RichProgress):
        def __init__(self, total, metric, summary):
            super().__init__(total, metric, summary=summary, console=console)

    monkeypatch.setattr(tuner_module, "RichProgress", TerminalProgress)
    result = rung.Tuner(_epochs, {"x": rung.uniform(0, 1)}, metric="loss", mode="min",
                        scheduler=rung.schedulers.ASHA("epoch", max_resource=9), max_trials=8,
                        backend="inprocess", storage=":memory:", verbose=1, seed=0).run()
    text = output.getvalue()
    frames = [frame for frame in re.split(r"\r|\x1b\[[0-9;?]*[A-Za-z]", text) if "trials" in frame and "/8" in frame]
    last = frames[-1]
    completed, stopped = result.count("completed"), result.count("stopped")
    assert "8/8" in last and f"{completed} completed" in last and f"{stopped} stopped" in last
    assert "running" not in last  # nothing is left running in the final frame


# -- rung show, list, resume --------------------------------------------------------------------------


def test_show_fits_an_80_column_terminal_with_the_end_reason_in_columns(home, capsys):
    store = home / "s.db"
    result = _asha_run(store)
    assert main(["show", "user-asha", "--storage", str(store)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "status" in line and "trial" in line)
    for column in ("rung", "value", "threshold", "note"):
        assert column in header
    rows = [line for line in lines if re.match(r"^│\s+\d+ │", line)]
    assert len(rows) == len(result.trial_records)  # one line per trial: nothing wraps
    assert "parameter(s) not shown for the width" in out
    names = [cell.strip() for cell in header.split("┃")]
    checked = 0
    for trial, row in zip(result.trial_records, rows):
        cells = dict(zip(names, (cell.strip() for cell in row.split("│"))))
        assert cells["trial"] == str(trial.trial_id) and cells["status"] == trial.status.value
        if trial.status.value == "stopped":
            assert cells["rung"] == fmt_short(trial.end_details["rung"])
            assert cells["threshold"] == fmt_short(trial.end_details["threshold"])
            assert cells["note"].startswith("not in the top")  # the verdict; the numbers have columns
            checked += 1
        else:
            assert cells["rung"] == "-"
    assert checked >= 2


def test_result_trials_have_the_end_reason_in_columns_and_conditional_ints_stay_ints(home, capsys):
    store = home / "s.db"
    result = _asha_run(store)
    frame = result.trials
    stopped = frame[frame.status == "stopped"]
    assert len(stopped) and stopped.end_rung.notna().all() and stopped.end_threshold.notna().all()
    assert (stopped.end_value == stopped.loss).all()  # the value judged at the rung is the trial's last
    assert frame[frame.status == "completed"].end_rung.isna().all()
    for _, row in stopped.iterrows():
        trial = next(t for t in result.trial_records if t.trial_id == row.trial_id)
        assert row.end_rung == trial.end_details["rung"] and row.end_reason == trial.end_details["reason"]
    assert str(frame["config/units"].dtype) == "Int64"
    loaded = rung.load("user-asha", storage=str(store)).trials
    pd.testing.assert_frame_equal(loaded[["end_rung", "end_value", "end_threshold", "config/units"]],
                                  frame[["end_rung", "end_value", "end_threshold", "config/units"]])
    assert main(["trials", "user-asha", "--storage", str(store)]) == 0
    csv = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=str)
    units = csv["config/units"].dropna()
    assert len(units) and all(re.fullmatch(r"\d+", u) for u in units)  # 80, never 80.0


def test_show_of_an_unknown_name_suggests_close_names(home, capsys):
    store = home / "s.db"
    _asha_run(store, "mlp-digits", max_trials=1)
    _asha_run(store, "mlp-iris", max_trials=1)
    assert main(["show", "mlp-digit", "--storage", str(store)]) == 2
    err = capsys.readouterr().err
    assert "no experiment named 'mlp-digit'" in err and "did you mean 'mlp-digits'" in err
    assert main(["show", "zzz", "--storage", str(store)]) == 2
    assert "did you mean" not in capsys.readouterr().err


def test_list_takes_a_filter_and_a_limit(home, capsys):
    store = home / "s.db"
    for name in ("mlp-a", "mlp-b", "cnn-a"):
        _asha_run(store, name, max_trials=1)
    assert main(["list", "mlp", "--storage", str(store)]) == 0
    captured = capsys.readouterr()
    assert "mlp-a" in captured.out and "mlp-b" in captured.out and "cnn-a" not in captured.out
    assert "2 of 3 experiments shown" in captured.err
    assert main(["list", "*-a", "--limit", "1", "--storage", str(store)]) == 0
    out = capsys.readouterr().out
    assert "cnn-a" in out and "mlp-a" not in out  # the most recent of the two
    assert main(["list", "--status", "running", "--storage", str(store)]) == 0
    assert "none of the 3 experiments" in capsys.readouterr().err


def _summary(status, stop_reason):
    return ExperimentSummary(id=1, name="e", status=status, metric="loss", mode="min", created_at=0.0,
                             updated_at=0.0, elapsed=0.0, stop_reason=stop_reason, owner=None,
                             trial_counts={"completed": 1}, best_value=0.5)


def test_list_does_not_repeat_a_status_as_its_stop_reason():
    console = Console(file=io.StringIO(), width=120)
    console.print(experiments_table([_summary("interrupted", "interrupted")]))
    console.print(experiments_table([_summary("finished", "max_trials")]))
    text = console.file.getvalue()
    assert "interrupted (interrupted)" not in text and "interrupted" in text
    assert "finished (max_trials)" in text


def test_resume_of_a_finished_experiment_says_there_is_nothing_to_do_and_how_to_add_trials(home, capsys, monkeypatch):
    monkeypatch.chdir(home)
    spec = home / "spec.yaml"
    spec.write_text(textwrap.dedent("""\
        name: finished-one
        trial:
          function: user_objectives:syne_tune_function
        space:
          x: {type: uniform, low: 0.0, high: 1.0}
          width: {type: choice, values: [16, 32]}
        metric: loss
        mode: min
        searcher: {name: random, seed: 7}
        budget: {max_trials: 3}
        backend: inprocess
        """))
    store = home / "s.db"
    assert main(["run", str(spec), "--storage", str(store), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["resume", "finished-one", "--storage", str(store)]) == 0
    err = capsys.readouterr().err
    assert "nothing to do: experiment 'finished-one' is finished with 3 trials" in err
    assert "a total, not a number to add" in err and "rung resume finished-one --max-trials 13" in err
    assert main(["resume", "finished-one", "--max-trials", "3", "--storage", str(store)]) == 0
    assert "nothing to do" in capsys.readouterr().err
    assert main(["resume", "finished-one", "--max-trials", "5", "--storage", str(store), "--quiet"]) == 0
    assert len(rung.load("finished-one", storage=str(store)).trial_records) == 5


def test_max_trials_help_says_it_is_a_total(capsys):
    with pytest.raises(SystemExit):
        main(["resume", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "total number of trials, counting those already run, not a number to add" in help_text
