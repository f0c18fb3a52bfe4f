"""The tuner loop on both backends: results, budgets, failures of every kind, parallelism."""

import math
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

import rung
from objectives import CountsWarmUps, misbehaving, per_epoch, quadratic, sleeper

SPACE = {"x": rung.uniform(-1, 1), "y": rung.uniform(-1, 1)}
BACKENDS = ["inprocess", "process"]


def workers_for(backend):
    return 1 if backend == "inprocess" else 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_returns_best_trials_reports_and_trajectory(backend, tmp_path):
    result = rung.Tuner(
        per_epoch, {**SPACE, "epochs": 3}, metric="loss", mode="min", max_trials=12, seed=1,
        backend=backend, n_workers=workers_for(backend), verbose=0, workdir=tmp_path,
    ).run()
    trials = result.trials
    assert len(trials) == 12
    assert set(trials["status"]) == {"completed"}
    assert {"trial_id", "status", "loss", "config/x", "config/y", "config/epochs", "run_time"} <= set(trials.columns)
    assert list(trials["n_reports"]) == [3] * 12
    # Final metric is the last report, and the best is the minimum over trials.
    assert result.best_value == pytest.approx(trials["loss"].min())
    best_row = trials.loc[trials["loss"].idxmin()]
    assert result.best_config == {"x": best_row["config/x"], "y": best_row["config/y"], "epochs": 3}
    assert result.best_value == pytest.approx(quadratic(result.best_config) + 1 / 3)
    reports = result.reports
    assert len(reports) == 36
    assert list(reports[reports.trial_id == 0]["step"]) == [1, 2, 3]
    assert list(reports[reports.trial_id == 0]["epoch"]) == [1, 2, 3]
    trajectory = result.trajectory
    assert list(trajectory.columns) == ["elapsed", "best_value", "trial_id"]
    assert trajectory["best_value"].is_monotonic_decreasing
    assert trajectory["elapsed"].is_monotonic_increasing
    assert trajectory["best_value"].iloc[-1] == pytest.approx(result.best_value)
    assert result.stop_reason == "max_trials"
    assert 0 < result.decision_time < result.wallclock


def test_same_seed_same_configs_and_results():
    def run(seed):
        return rung.Tuner(quadratic, SPACE, metric="loss", max_trials=20, seed=seed,
                          backend="inprocess", verbose=0).run()

    a, b, c = run(7), run(7), run(8)
    pd.testing.assert_frame_equal(a.trials[["config/x", "config/y", "loss"]], b.trials[["config/x", "config/y", "loss"]])
    assert not a.trials["config/x"].equals(c.trials["config/x"])


def test_mode_max_picks_the_largest():
    result = rung.Tuner(lambda c: c["x"], {"x": rung.uniform(0, 1)}, metric="score", mode="max",
                        max_trials=15, seed=0, backend="inprocess", verbose=0).run()
    assert result.best_value == pytest.approx(result.trials["score"].max())
    assert result.trajectory["best_value"].is_monotonic_increasing


def test_returned_dict_and_number_are_final_reports():
    def objective(config):
        if config["k"] == 0:
            return {"loss": 0.5, "accuracy": 0.9}
        return 0.25

    result = rung.Tuner(objective, {"k": rung.choice([0, 1])}, metric="loss", searcher="grid",
                        backend="inprocess", verbose=0).run()
    assert result.stop_reason == "search_exhausted"
    assert list(result.trials["loss"]) == [0.5, 0.25]
    assert result.reports.loc[0, "accuracy"] == 0.9


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_kind_of_failure_is_recorded_and_the_experiment_goes_on(backend, tmp_path):
    kinds = ["ok", "raise", "exit", "nan", "inf", "no_metric", "returns_none", "returns_text"]
    if backend == "process":
        kinds += ["os_exit", "segfault", "hang"]
    result = rung.Tuner(
        misbehaving, {"kind": rung.choice(kinds)}, metric="loss", searcher=rung.searchers.Grid,
        backend=backend, n_workers=workers_for(backend), trial_timeout=3 if backend == "process" else None,
        verbose=0, workdir=tmp_path,
    ).run()
    trials = result.trials.set_index("config/kind", drop=False)
    assert len(result.trials) == len(kinds)
    errors = {row["config/kind"]: row["error"] for _, row in result.trials.iterrows()}
    statuses = result.trials.groupby("config/kind")["status"].agg(set).to_dict()
    assert statuses["ok"] == {"completed"}
    for kind in set(kinds) - {"ok"}:
        assert statuses[kind] == {"failed"}, kind
    assert "ValueError: bad learning rate" in errors["raise"]
    assert "exited with code 3" in errors["exit"]
    assert "is nan" in errors["nan"]
    assert "is inf" in errors["inf"]
    assert "no metric 'loss'" in errors["no_metric"] and "accuracy" in errors["no_metric"]
    assert "never reported metric 'loss'" in errors["returns_none"]
    assert "returned str" in errors["returns_text"]
    raising = next(t for t in result.trial_records if t.config["kind"] == "raise")
    assert "Traceback" in raising.traceback and "bad learning rate" in raising.traceback
    if backend == "process":
        assert "exited with code 4" in errors["os_exit"]
        assert "killed by SIGSEGV" in errors["segfault"]
        assert "timed out after trial_timeout=3 s" in errors["hang"]
        assert trials.loc["hang", "run_time"] < 10
    assert result.best_value == 1.0
    # Each trial's output is kept in its own directory.
    ok_trial = next(t for t in result.trial_records if t.config["kind"] == "raise")
    out = (tmp_path / f"trial_{ok_trial.trial_id}" / "stdout.log").read_text()
    err = (tmp_path / f"trial_{ok_trial.trial_id}" / "stderr.log").read_text()
    assert "trial of kind raise says hello" in out
    assert "to stderr from raise" in err


def test_max_failures_stops_the_experiment():
    def always_fails(config):
        raise RuntimeError("broken")

    result = rung.Tuner(always_fails, SPACE, metric="loss", max_trials=50, max_failures=3,
                        backend="inprocess", verbose=0).run()
    assert result.stop_reason == "max_failures"
    assert len(result.trials) == 3
    assert result.best_config is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_metric_threshold_stops_at_the_first_good_enough_value(backend):
    def objective(config):
        return 1.0 - config["i"] / 10

    result = rung.Tuner(objective, {"i": rung.choice(range(10))}, metric="loss", searcher="grid",
                        metric_threshold=0.55, backend=backend, n_workers=1, verbose=0).run()
    assert result.stop_reason == "metric_threshold"
    assert result.best_value == pytest.approx(0.5)
    assert len(result.trials) == 6


def test_max_wallclock_stops_running_trials():
    result = rung.Tuner(sleeper, {"sleep": 5.0}, metric="loss", max_wallclock=1.5, max_trials=10,
                        n_workers=2, verbose=0).run()
    assert result.stop_reason == "max_wallclock"
    assert set(result.trials["status"]) == {"stopped"}
    assert result.trials["end_reason"].str.contains("max_wallclock").all()


def test_trials_killed_at_the_end_of_the_experiment_wait_for_no_replacement_worker(tmp_path):
    """Killing a trial process retires its worker; once the experiment is ending, the backend
    replaces none, so each trial's end comes at once instead of after a fresh worker's start."""
    warm_ups = tmp_path / "warm-ups"
    result = rung.Tuner(CountsWarmUps(warm_ups), {"sleep": 30.0}, metric="loss", max_wallclock=1.0,
                        max_trials=4, n_workers=2, verbose=0).run()
    assert result.stop_reason == "max_wallclock"
    assert list(result.trials["status"]) == ["stopped", "stopped"]
    assert len(warm_ups.read_text().split()) == 2  # the two first workers, no replacement


def test_max_wallclock_in_process_stops_at_the_next_report():
    def slow(config):
        for step in range(100):
            time.sleep(0.05)
            rung.report(loss=1.0 / (step + 1))

    result = rung.Tuner(slow, {}, metric="loss", max_wallclock=0.5, max_trials=5,
                        backend="inprocess", verbose=0).run()
    assert result.stop_reason == "max_wallclock"
    assert result.trials.loc[0, "status"] == "stopped"
    assert 1 <= result.trials.loc[0, "n_reports"] < 100  # stopped at a report, before its end


def test_two_workers_run_two_trials_at_once(tmp_path):
    # Each trial leaves a marker and then waits for a second one, so the first trial can only
    # see two markers if the second started while the first was still running. Run one after
    # the other, the first trial gives up after ``patience`` seconds (a guard against hanging,
    # not a speed threshold) having seen only itself. The speed-up that this parallelism buys
    # is measured in benchmarks/parallel_speedup.py, where a quiet machine can be asked for.
    def meet_another_trial(config):
        import time as clock
        import uuid
        from pathlib import Path

        rendezvous = Path(config["rendezvous"])
        (rendezvous / uuid.uuid4().hex).touch()
        deadline = clock.monotonic() + config["patience"]
        while len(list(rendezvous.iterdir())) < 2 and clock.monotonic() < deadline:
            clock.sleep(0.01)
        return len(list(rendezvous.iterdir()))

    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    result = rung.Tuner(meet_another_trial, {"rendezvous": str(rendezvous), "patience": 120.0}, metric="seen",
                        mode="max", max_trials=2, n_workers=2, verbose=0).run()
    assert result.count("completed") == 2
    assert list(result.trials["seen"]) == [2, 2]


def test_never_more_trials_at_once_than_workers():
    result = rung.Tuner(sleeper, {"sleep": rung.uniform(0.05, 0.2)}, metric="loss", max_trials=12,
                        n_workers=2, seed=3, verbose=0).run()
    events = sorted([(t, 1) for t in result.trials["started"]] + [(t, -1) for t in result.trials["ended"]],
                    key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak == 2


def test_objective_from_a_script_main_without_guard(tmp_path):
    script = tmp_path / "tune_me.py"
    script.write_text(textwrap.dedent("""
        import rung

        OFFSET = 0.25

        def objective(config):
            for epoch in range(2):
                rung.report(loss=(config["x"] - OFFSET) ** 2 + 1 / (epoch + 1))

        result = rung.Tuner(objective, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=6,
                            n_workers=2, seed=0, verbose=0).run()
        print("TRIALS", len(result.trials), result.count("completed"))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "TRIALS 6 6" in done.stdout


def test_trials_are_isolated_from_each_other_in_fork_mode():
    def objective(config):
        import objectives
        previous = getattr(objectives, "_touched", 0)
        objectives._touched = previous + 1
        return float(previous)

    result = rung.Tuner(objective, {}, metric="loss", max_trials=4, n_workers=1, verbose=0).run()
    assert list(result.trials["loss"]) == [0.0] * 4
    # Without fork isolation the worker's module state carries over: the trade-off for speed.
    shared = rung.Tuner(objective, {}, metric="loss", max_trials=4, n_workers=1, verbose=0,
                        backend=rung.backends.ProcessBackend(isolation="none")).run()
    assert list(shared.trials["loss"]) == [0.0, 1.0, 2.0, 3.0]


def test_report_outside_a_trial_is_an_error():
    with pytest.raises(RuntimeError, match="outside a trial"):
        rung.report(loss=1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "minimize"}, "mode must be 'min' or 'max'"),
        ({"metric": ""}, "metric must be a non-empty string"),
        ({"max_trials": 0}, "max_trials must be a positive integer"),
        ({"max_trials": 2.5}, "max_trials must be a positive integer"),
        ({"max_wallclock": -1, "max_trials": 3}, "max_wallclock must be a positive number"),
        ({"max_trials": None}, "the experiment has no end"),
        ({"searcher": "bayes"}, "searcher='bayes' is not known"),
        ({"scheduler": "magic"}, "scheduler='magic' is not known"),
        ({"backend": "inprocess", "n_workers": 2}, "runs at most 1 trial"),
        ({"n_workers": 0}, "n_workers must be a positive integer"),
    ],
)
def test_bad_tuner_arguments_are_refused_before_anything_runs(kwargs, message):
    calls = []
    arguments = {"metric": "loss", "max_trials": 3, **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        rung.Tuner(lambda c: calls.append(c), SPACE, **arguments)
    assert calls == []


def test_bad_space_is_refused_naming_the_parameter():
    with pytest.raises(rung.SpaceError, match="'lr'"):
        rung.Tuner(quadratic, {"lr": rung.loguniform(0, 1)}, metric="loss", max_trials=3)


def test_objective_that_workers_cannot_load_fails_before_any_trial(tmp_path):
    module = tmp_path / "vanishing_module.py"
    module.write_text("def objective(config):\n    return 1.0\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import vanishing_module
    finally:
        sys.path.remove(str(tmp_path))
    module.unlink()
    try:
        with pytest.raises(rung.backends.WorkerStartError, match="vanishing_module"):
            rung.Tuner(vanishing_module.objective, SPACE, metric="loss", max_trials=2, n_workers=1, verbose=0).run()
    finally:
        sys.modules.pop("vanishing_module", None)


def test_progress_is_shown_unless_quiet(capsys):
    rung.Tuner(quadratic, SPACE, metric="loss", max_trials=5, backend="inprocess", verbose=1).run()
    shown = capsys.readouterr().err
    assert "5 trials" in shown and "best loss=" in shown
    rung.Tuner(quadratic, SPACE, metric="loss", max_trials=5, backend="inprocess", verbose=0).run()
    assert capsys.readouterr().err == ""


def test_each_worker_gets_its_own_gpu_when_gpus_are_given():
    def objective(config):
        import os
        import time
        time.sleep(0.2)
        rung.report(loss=1.0, gpu=int(os.environ.get("CUDA_VISIBLE_DEVICES", "-1")))

    backend = rung.backends.ProcessBackend(gpus=["0", "1"])
    result = rung.Tuner(objective, {}, metric="loss", max_trials=4, n_workers=2, backend=backend, verbose=0).run()
    assert set(result.reports["gpu"]) == {0, 1}


def test_gpu_detection_reads_cuda_visible_devices(monkeypatch):
    from rung.backends._process import detect_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5")
    assert detect_gpus() == ["2", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert detect_gpus() == []
