"""Issue 13, item 6: after ``rung stop`` (or Ctrl-C, or a spent ``max_wallclock``), a resume
continues the trials the stop cut short, from their checkpoints, instead of leaving them
stopped. Real processes: the tuner runs as ``rung run``, is stopped by ``rung stop`` from
another process, and is resumed by ``rung resume``."""

from __future__ import annotations

import signal
import textwrap

import pytest

import rung
from rung.storage import SQLStorage
from test_cli import _wait_for, cli_env, default_db, ok, rung_cli, start, write_spec  # noqa: F401

OBJECTIVES = """
import time

import rung


def checkpointed(config):
    done = (rung.load_checkpoint() or {"epoch": 0})["epoch"]
    for epoch in range(done + 1, config["epochs"] + 1):
        time.sleep(0.03)
        try:
            rung.report(epoch=epoch, loss=(config["x"] - 0.3) ** 2 + 1.0 / epoch)
        finally:
            rung.save_checkpoint({"epoch": epoch})
"""


def _spec(name):
    return textwrap.dedent(f"""\
        name: {name}
        trial:
          function: resume_objectives:checkpointed
        space:
          x: {{type: uniform, low: 0.0, high: 1.0}}
          epochs: 60
        metric: loss
        mode: min
        searcher: {{name: random, seed: 3}}
        budget:
          max_trials: 3
          max_concurrent: 2
        backend: process
        """)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "resume_objectives.py").write_text(OBJECTIVES)
    return tmp_path


def _load_log(project, name):
    store = SQLStorage(default_db(project))
    try:
        experiment = store.require_experiment(name)
        return experiment, store.read_log(experiment.id)
    finally:
        store.dispose()


@pytest.mark.parametrize("how", ["rung stop"])  # Ctrl-C: below, in-process (the same path, faster)
def test_resume_continues_the_trials_a_stop_cut_short_from_their_checkpoints(project, how):
    spec = write_spec(project, _spec("cut"))
    runner = start(project, "run", spec, "--quiet")
    try:
        assert _wait_for(lambda: default_db(project).exists())
        store = SQLStorage(default_db(project))
        assert _wait_for(lambda: (e := store.get_experiment("cut")) is not None and e.status == "running"
                         and len(rung.load("cut", storage=store).reports) >= 4)
        store.dispose()
        if how == "rung stop":
            ok(rung_cli(project, "stop", "cut"))
        else:
            runner.send_signal(signal.SIGINT)
        runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
    experiment, log = _load_log(project, "cut")
    assert experiment.stop_reason == ("stop_requested" if how == "rung stop" else "interrupted")
    cut = {e.trial_id: e.payload for e in log.events if e.kind == "end" and e.payload.get("interrupted")}
    assert cut, "the stop cut at least one running trial short"
    assert all(p["status"] == "stopped" and p["interrupted"] == experiment.stop_reason for p in cut.values())
    reached = {t: max(r.metrics["epoch"] for r in log.reports if r.trial_id == t) for t in cut}
    assert all(epoch < 60 for epoch in reached.values())

    ok(rung_cli(project, "resume", "cut", "--quiet", timeout=180))
    experiment, log = _load_log(project, "cut")
    assert experiment.stop_reason == "max_trials"
    by_id = {t.trial_id: t for t in log.trials}
    assert len(by_id) == 3
    for trial_id, epoch in reached.items():
        assert by_id[trial_id].status == "completed", by_id[trial_id]
        restarts = [e for e in log.events if e.trial_id == trial_id and e.kind == "restart"]
        assert len(restarts) == 1
        after = [r.metrics["epoch"] for r in log.reports if r.trial_id == trial_id and r.seq > restarts[0].seq]
        # From the checkpoint: the next epoch (or the last one again, if the kill came between
        # its report and its checkpoint), never from epoch 1; then on to the end.
        assert after[0] in (epoch, epoch + 1) and after[-1] == 60, after
        assert after == list(range(after[0], 61))
    # Counted once each: three trials, all finished.
    result = rung.load("cut", storage=str(default_db(project)))
    assert result.count("completed") == 3 and len(result.trials) == 3


def test_a_finished_trial_and_a_judged_stop_are_not_resumed(tmp_path):
    """Only the experiment's own stop marks a trial as interrupted; the scheduler's stops
    and completed trials stay as they are on resume (in-process, wall-clock budget)."""
    import time

    def objective(config):
        done = (rung.load_checkpoint() or {"epoch": 0})["epoch"]
        for epoch in range(done + 1, 9):
            time.sleep(0.02)
            try:
                rung.report(epoch=epoch, loss=config["x"] + 1.0 / epoch)
            finally:
                rung.save_checkpoint({"epoch": epoch})

    db = f"sqlite:///{tmp_path / 'w.db'}"
    space = {"x": rung.uniform(0, 1)}
    common = dict(metric="loss", backend="inprocess", storage=db, verbose=0, seed=2, searcher="random",
                  experiment="wall", workdir=tmp_path / "wall", max_trials=4)
    first = rung.Tuner(objective, space, max_wallclock=0.5, **common).run()
    assert first.stop_reason == "max_wallclock"
    cut = [t for t in first.trial_records if t.status is rung.TrialStatus.STOPPED]
    done = [t for t in first.trial_records if t.status is rung.TrialStatus.COMPLETED]
    assert len(cut) == 1  # one worker: exactly the trial that was running
    second = rung.Tuner(objective, space, max_wallclock=60, resume=True, **common).run()
    by_id = {t.trial_id: t for t in second.trial_records}
    assert by_id[cut[0].trial_id].status is rung.TrialStatus.COMPLETED
    assert by_id[cut[0].trial_id].n_starts == 2
    assert all(by_id[t.trial_id].n_starts == 1 for t in done)  # finished trials are not run again
    assert second.count("completed") == 4 and len(second.trial_records) == 4


def test_ctrl_c_then_resume_continues_the_interrupted_trial(tmp_path):
    import os
    import signal as signals

    interrupt_at = {"epoch": 3}

    def objective(config):
        done = (rung.load_checkpoint() or {"epoch": 0})["epoch"]
        for epoch in range(done + 1, 7):
            try:
                rung.report(epoch=epoch, loss=config["x"] + 1.0 / epoch)
            finally:
                rung.save_checkpoint({"epoch": epoch})
            if epoch == interrupt_at["epoch"]:
                interrupt_at["epoch"] = None
                os.kill(os.getpid(), signals.SIGINT)  # the user presses Ctrl-C

    db = f"sqlite:///{tmp_path / 'c.db'}"
    common = dict(metric="loss", backend="inprocess", storage=db, verbose=0, seed=2, searcher="random",
                  experiment="ctrl", workdir=tmp_path / "ctrl", max_trials=2)
    signals.signal(signals.SIGINT, signals.default_int_handler)
    first = rung.Tuner(objective, {"x": rung.uniform(0, 1)}, **common).run()
    assert first.status == "interrupted" and len(first.trial_records) == 1
    assert first.trial_records[0].status is rung.TrialStatus.STOPPED
    second = rung.Tuner(objective, {"x": rung.uniform(0, 1)}, resume=True, **common).run()
    trial = second.trial_records[0]
    assert trial.status is rung.TrialStatus.COMPLETED and trial.n_starts == 2
    epochs = [r.metrics["epoch"] for r in second.report_records if r.trial_id == 0]
    assert epochs == [1, 2, 3, 4, 5, 6]  # continued from the checkpoint at epoch 3
    assert second.count("completed") == 2
