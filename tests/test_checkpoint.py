"""Checkpoint helpers: plain state and PyTorch, across a real pause and resume."""

import json

import numpy as np
import pytest

import rung
from rung.schedulers import FIFO, Decision, ResumeTrial, StartTrial


def test_plain_state_round_trips_with_arrays(tmp_path):
    state = {"epoch": 3, "history": [0.5, 0.25], "weights": np.arange(6.0).reshape(2, 3),
             "nested": {"bias": np.ones(2, dtype=np.float32), "name": "mlp"}, "best": np.float64(0.1)}
    rung.save_checkpoint(state, directory=tmp_path)
    loaded = rung.load_checkpoint(directory=tmp_path)
    assert loaded["epoch"] == 3 and loaded["history"] == [0.5, 0.25] and loaded["best"] == 0.1
    np.testing.assert_array_equal(loaded["weights"], state["weights"])
    assert loaded["nested"]["bias"].dtype == np.float32
    assert not list(tmp_path.glob("*.tmp"))
    assert rung.load_checkpoint("other", directory=tmp_path) is None


def test_unsupported_values_are_refused_with_their_path(tmp_path):
    with pytest.raises(TypeError, match="at model.layer"):
        rung.save_checkpoint({"model": {"layer": object()}}, directory=tmp_path)


def test_checkpoint_outside_a_trial_needs_a_directory():
    with pytest.raises(RuntimeError, match="outside a trial"):
        rung.save_checkpoint({"epoch": 1})


class PauseOnceAtEpoch2(FIFO):
    """Pauses trial 0 at epoch 2 and resumes it after trial 1 has finished."""

    def __init__(self):
        self.paused = False
        self.resumed = False

    def suggest(self, allow_new=True):
        if self.paused and not self.resumed and allow_new is False:
            self.resumed = True
            return ResumeTrial(0, resource=4)
        return super().suggest(allow_new)

    def on_report(self, trial, metrics):
        if trial.trial_id == 0 and metrics["epoch"] == 2 and not self.paused:
            self.paused = True
            return Decision.pause("pause for the test", rung=2)
        return super().on_report(trial, metrics)


def numpy_training(config):
    state = rung.load_checkpoint() or {"epoch": 0, "w": np.zeros(3)}
    for epoch in range(state["epoch"] + 1, 5):
        state = {"epoch": epoch, "w": state["w"] + config["step"]}
        try:
            rung.report(epoch=epoch, loss=float(10 - state["w"].sum()))
        finally:
            rung.save_checkpoint(state)


@pytest.mark.parametrize("backend", ["inprocess", "process"])
def test_a_paused_trial_resumes_from_its_checkpoint(backend, tmp_path):
    result = rung.Tuner(numpy_training, {"step": 1.0}, metric="loss", max_trials=2, scheduler=PauseOnceAtEpoch2(),
                        backend=backend, n_workers=1, verbose=0, workdir=tmp_path).run()
    first = result.reports[result.reports.trial_id == 0]
    assert list(first["epoch"]) == [1, 2, 3, 4]
    assert list(first["loss"]) == [7.0, 4.0, 1.0, -2.0]
    assert result.trial(0).n_starts == 2 and result.trial(0).status.value == "completed"


def torch_training(config):
    import torch

    from rung.integrations import torch as rung_torch

    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = torch.tensor([[1.0], [2.0], [3.0]])
    start = rung_torch.restore(model, optimizer).get("epoch", 0)
    for epoch in range(start + 1, 5):
        for _ in range(20):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
        try:
            rung.report(epoch=epoch, loss=float(loss.detach()))
        finally:
            rung_torch.save(model, optimizer, epoch=epoch)


@pytest.mark.parametrize("backend", ["inprocess", "process"])
def test_pytorch_model_and_optimizer_resume_exactly(backend, tmp_path):
    pytest.importorskip("torch")
    paused = rung.Tuner(torch_training, {"lr": 0.05}, metric="loss", max_trials=2, scheduler=PauseOnceAtEpoch2(),
                        backend=backend, n_workers=1, verbose=0, workdir=tmp_path / "paused", storage=":memory:").run()
    straight = rung.Tuner(torch_training, {"lr": 0.05}, metric="loss", max_trials=1,
                          backend=backend, n_workers=1, verbose=0, workdir=tmp_path / "straight", storage=":memory:").run()
    resumed_losses = list(paused.reports[paused.reports.trial_id == 0]["loss"])
    straight_losses = list(straight.reports[straight.reports.trial_id == 0]["loss"])
    assert resumed_losses == pytest.approx(straight_losses, rel=1e-6)
    assert paused.trial(0).n_starts == 2
