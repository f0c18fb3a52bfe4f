"""Plots are written to files and show what the result holds."""

import matplotlib.image
import pytest

import rung
from rung.schedulers import FIFO, Decision


class StopHalfAtRung3(FIFO):
    def on_report(self, trial, metrics):
        if metrics["epoch"] == 3 and trial.trial_id % 2:
            return Decision.stop("bottom half at rung 3", rung=3, value=metrics["loss"])
        return super().on_report(trial, metrics)


def curve(config):
    for epoch in range(1, 10):
        rung.report(epoch=epoch, loss=config["x"] + 1.0 / epoch)


def test_metric_per_rung_uses_the_scheduler_levels_and_writes_a_png(tmp_path):
    result = rung.Tuner(curve, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=6, seed=0,
                        scheduler=StopHalfAtRung3(), backend="inprocess", verbose=0, storage=tmp_path / "s.db",
                        experiment="plots").run()
    assert result.decision_levels() == [3.0]
    assert rung.load("plots", tmp_path / "s.db").decision_levels() == [3.0]
    path = result.plot_metric_per_rung(tmp_path / "rungs.png", levels=[1, 3, 9])
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0.01  # not a blank canvas
    assert result.plot_incumbent(tmp_path / "incumbent.png").stat().st_size > 1000


def test_metric_per_rung_needs_the_resource_in_reports(tmp_path):
    result = rung.Tuner(lambda c: c["x"], {"x": rung.uniform(0, 1)}, metric="loss", max_trials=2,
                        backend="inprocess", verbose=0, storage=":memory:").run()
    with pytest.raises(ValueError, match="'epoch'"):
        result.plot_metric_per_rung(tmp_path / "x.png")
