"""rung.torch: a paused or crashed trial resumes exactly (model, optimizer, schedule, RNG, early stopping)."""

import shutil
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)  # small tensors: one thread is faster than two on a shared machine

import rung
import rung.torch as rt
from rung.trial._session import reset_session, set_session

X = torch.randn(120, 5, generator=torch.Generator().manual_seed(0))
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).long() + (X[:, 2] > 0.8).long()

# Dropout and RReLU draw from torch's global generator, shuffling from the trial's own, the
# one-cycle schedule steps every batch, Adam keeps moments, early stopping keeps its best.
CONFIG = {"optimizer": "adam", "lr": 0.02, "schedule": "one_cycle", "epochs": 6, "batch_size": 16,
          "dropout": 0.3, "activation": "rrelu", "batch_norm": "after", "layers": 2, "units_1": 16, "units_2": 8,
          "early_stopping_patience": 5, "early_stopping_min_delta": 0.0}


class ScriptedSession:
    """A trial session that answers each report from a script and records what it saw."""

    def __init__(self, trial_dir: Path, answers=None, on_report=None):
        self.trial_id = 1
        self.trial_dir = trial_dir
        self.resource = None
        self.answers = dict(answers or {})
        self.on_report = on_report
        self.reports = []

    def report(self, metrics):
        self.reports.append(dict(metrics))
        if self.on_report is not None:
            self.on_report(metrics)
        return self.answers.get(metrics["epoch"], "continue")


def _run(objective, session, config=CONFIG):
    token = set_session(session)
    try:
        objective(config)
    finally:
        reset_session(token)


def _curve(reports):
    return [tuple(r[k] for k in ("epoch", "train_loss", "validation_loss", "validation_error", "lr")) for r in reports]


def test_a_paused_trial_resumes_with_exactly_the_curve_of_one_that_never_stopped(tmp_path):
    objective = rt.TrainingObjective("mlp", (X, Y), seed=3)
    straight = ScriptedSession(tmp_path / "straight")
    _run(objective, straight)
    assert [r["epoch"] for r in straight.reports] == [1, 2, 3, 4, 5, 6]

    paused = ScriptedSession(tmp_path / "paused", answers={2: "pause", 4: "pause"})
    with pytest.raises(rung.TrialPaused):
        _run(objective, paused)
    torch.manual_seed(12345)  # whatever ran meanwhile in this process moved the global generator
    torch.randn(7)
    with pytest.raises(rung.TrialPaused):
        _run(objective, paused)
    _run(objective, paused)
    assert _curve(paused.reports) == _curve(straight.reports)
    assert _curve(objective.fit(CONFIG)[1]) == _curve(straight.reports)


def test_a_trial_restarted_after_a_crash_repeats_the_lost_epoch_and_gives_the_same_curve(tmp_path):
    objective = rt.TrainingObjective("mlp", (X, Y), seed=3)
    trial_dir = tmp_path / "trial"
    snapshot = tmp_path / "snapshot"

    def crash_point(metrics):
        # At epoch 4's report the checkpoint on disk is epoch 3's: what a crash right now leaves.
        if metrics["epoch"] == 4:
            shutil.copytree(trial_dir / "checkpoint", snapshot)

    first = ScriptedSession(trial_dir, on_report=crash_point)
    _run(objective, first)
    shutil.rmtree(trial_dir / "checkpoint")
    shutil.copytree(snapshot, trial_dir / "checkpoint")
    torch.manual_seed(999)
    restarted = ScriptedSession(trial_dir)
    _run(objective, restarted)
    assert [r["epoch"] for r in restarted.reports] == [4, 5, 6]
    assert _curve(restarted.reports) == _curve(first.reports)[3:]


def test_early_stopping_state_survives_a_pause(tmp_path):
    stopping = {**CONFIG, "lr": 1e-6, "schedule": "constant", "early_stopping_patience": 2,
                "early_stopping_min_delta": 10.0, "epochs": 8}
    objective = rt.TrainingObjective("mlp", (X, Y))
    straight = ScriptedSession(tmp_path / "a")
    _run(objective, straight, stopping)
    # min_delta 10 is never beaten after the first epoch: stop after patience (2) more epochs.
    assert [r["epoch"] for r in straight.reports] == [1, 2, 3]
    paused = ScriptedSession(tmp_path / "b", answers={2: "pause"})
    with pytest.raises(rung.TrialPaused):
        _run(objective, paused, stopping)
    _run(objective, paused, stopping)
    assert _curve(paused.reports) == _curve(straight.reports)


def test_a_launch_runs_to_the_schedulers_cap_and_the_schedule_still_plans_over_all_epochs(tmp_path):
    objective = rt.TrainingObjective("mlp", (X, Y), seed=3)
    straight = ScriptedSession(tmp_path / "straight")
    _run(objective, straight)
    capped = ScriptedSession(tmp_path / "capped")
    capped.resource = 2  # what rung.resource_limit() returns in this launch
    _run(objective, capped)
    assert [r["epoch"] for r in capped.reports] == [1, 2]
    capped.resource = 4.0
    _run(objective, capped)
    _run(objective, capped, {**CONFIG, "max_epochs": 5})  # the scheduler's max_resource_attr entry
    capped.resource = None
    _run(objective, capped)
    assert _curve(capped.reports) == _curve(straight.reports)


def test_early_stopping_decisions():
    early = rt.EarlyStopping(patience=2, min_delta=0.1)
    assert [early.update(v) for v in (1.0, 0.95, 0.8, 0.79, 0.75, 0.5)] == [False, False, False, False, True, False]
    never = rt.EarlyStopping(patience=0)
    assert not any(never.update(v) for v in (1.0, 2.0, 3.0, 4.0))
    with pytest.raises(ValueError, match="early_stopping_patience must be >= 0"):
        rt.EarlyStopping(patience=-1)


def test_asha_promotion_pauses_and_resumes_trials_to_their_uninterrupted_curves():
    objective = rt.TrainingObjective("mlp", (X, Y), seed=1)
    space = {"lr": rung.loguniform(1e-3, 1e-1), "optimizer": rung.choice(["momentum", "adam"]),
             "schedule": rung.choice(["cosine", "cyclic"]), "epochs": 4, "batch_size": 32, "layers": 1, "units_1": 8}
    result = rung.Tuner(objective, space, metric="validation_loss", mode="min", searcher="random", seed=0,
                        scheduler=rung.schedulers.ASHA("epoch", min_resource=1, max_resource=4, reduction_factor=2,
                                                       type="promotion"),
                        backend="inprocess", n_workers=1, max_trials=6, storage=":memory:", verbose=0).run()
    events = result.reports
    resumed = 0
    for trial in result.trial_records:
        reports = events[events.trial_id == trial.trial_id].sort_values("step")
        expected = objective.fit(trial.config)[1][:len(reports)]
        assert list(reports["epoch"]) == [r["epoch"] for r in expected]
        assert list(reports["validation_loss"]) == [r["validation_loss"] for r in expected]
        assert list(reports["lr"]) == [r["lr"] for r in expected]
        resumed += len(reports) > 1
    assert resumed >= 1  # at least one trial was paused at a rung and resumed from its checkpoint


def test_the_test_set_from_a_trials_checkpoint_equals_retraining_its_config(tmp_path):
    objective = rt.TrainingObjective("mlp", (X, Y), seed=3, test_data=(X[:40], Y[:40]))
    _run(objective, ScriptedSession(tmp_path / "trial"))
    from_checkpoint = objective.evaluate_test(CONFIG, checkpoint=tmp_path / "trial" / "checkpoint")
    retrained = rt.TrainingObjective("mlp", (X, Y), seed=3).evaluate_test(CONFIG, test_data=(X[:40], Y[:40]))
    assert from_checkpoint == retrained and from_checkpoint["epochs"] == 6
    with pytest.raises(FileNotFoundError, match="no rung.torch checkpoint"):
        rt.TrainingObjective("mlp", (X, Y)).evaluate_test(CONFIG, test_data=(X, Y), checkpoint=tmp_path / "none")
