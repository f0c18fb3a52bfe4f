"""GPUs per trial on one machine (issue 17, item 5): the process backend places each trial on
declared devices by its ``resources_per_trial["gpus"]`` share, through CUDA_VISIBLE_DEVICES.

There is no GPU here: the devices are declared (``ProcessBackend(gpus=[...])`` or
``CUDA_VISIBLE_DEVICES``), and each trial reports the devices it was given.
"""

from __future__ import annotations

import os
import time

import pytest

import rung
from rung.backends import ProcessBackend


def sees(config):
    time.sleep(config["hold"])  # every trial of the run is placed before any ends
    devices = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    rung.report(loss=0.0, first=float(devices.split(",")[0]) if devices else -1.0,
                count=float(len(devices.split(","))) if devices else 0.0)


def _run(backend, n_workers, gpus, trials=None):
    return rung.Tuner(sees, {"hold": 0.2}, metric="loss", searcher="random", backend=backend,
                      n_workers=n_workers, max_trials=trials or n_workers, resources_per_trial={"gpus": gpus},
                      verbose=0, storage=":memory:").run()


def test_half_a_gpu_per_trial_packs_two_trials_on_each_device():
    result = _run(ProcessBackend(gpus=["0", "1"]), 4, 0.5)
    assert sorted(result.reports["first"]) == [0.0, 0.0, 1.0, 1.0]
    assert set(result.reports["count"]) == {1.0}


def test_whole_gpus_are_each_trials_own():
    result = _run(ProcessBackend(gpus=["0", "1", "2", "3"]), 2, 2)
    firsts = sorted(result.reports["first"])
    assert firsts == [0.0, 2.0] and set(result.reports["count"]) == {2.0}


def test_devices_come_from_cuda_visible_devices_when_not_given(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")
    result = _run(ProcessBackend(), 2, 1)
    assert sorted(result.reports["first"]) == [5.0, 7.0]


@pytest.mark.parametrize("devices, n_workers, gpus, problem", [
    (["0", "1"], 3, 1, "at most 2 fit, so use n_workers=2"),
    (["0"], 3, 0.5, "at most 2 fit"),
    ([], 1, 0.5, "no GPU is available"),
    (["0", "1"], 1, 1.5, "whole number"),
])
def test_more_gpu_trials_than_fit_are_refused_before_any_runs(devices, n_workers, gpus, problem):
    with pytest.raises(ValueError, match=problem):
        _run(ProcessBackend(gpus=devices or None), n_workers, gpus)
