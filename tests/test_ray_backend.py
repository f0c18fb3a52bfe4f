"""backend="ray" without a cluster: what is checked before Ray is ever started.

Nothing here starts Ray (the real runs are in tests/slow/cluster, `make test-cluster`):
naming the backend builds it without importing Ray, wrong options are refused with their
names, trial directories follow the storage location, a location travels to the nodes as
plain data, and the Tuner passes ``ray_address`` to it and to nothing else.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import rung
from rung.backends import RayBackend, SharedDirectory, TrialResources, make_backend, worker_limit
from rung.backends._ray import ray_resources
from rung.backends._ray_files import DriverDirectory, TrialFiles, coerce_trial_files, files_from_dict, register_trial_files


def test_naming_the_backend_imports_no_ray():
    code = ("import sys, rung\n"
            "t = rung.Tuner(lambda c: 0.0, {'x': rung.uniform(0, 1)}, metric='loss', backend='ray', max_trials=1,\n"
            "               ray_address='10.0.0.1:6379', verbose=0)\n"
            "print(type(t.backend).__name__, t.backend.address, 'ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["RayBackend", "10.0.0.1:6379", "False"]
    assert worker_limit("ray") is None and isinstance(make_backend("ray"), RayBackend)


@pytest.mark.parametrize("options, named", [
    ({"address": ""}, "address"),
    ({"address": 6379}, "address"),
    ({"address": "ray://head:10001"}, "Ray Client"),
    ({"max_retries": -1}, "max_retries"),
    ({"max_retries": 1.5}, "max_retries"),
    ({"start_timeout": 0}, "start_timeout"),
    ({"num_cpus": 0}, "num_cpus"),
    ({"preload": "torch"}, "preload"),
    ({"storage_path": "relative/dir"}, "absolute"),
    ({"storage_path": ""}, "storage_path"),
])
def test_wrong_options_are_refused_by_name(options, named):
    with pytest.raises(ValueError, match=named):
        RayBackend(**options)


def test_storage_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        RayBackend(storage_path=path)


def test_ray_address_needs_the_ray_backend():
    with pytest.raises(ValueError, match="ray_address.*backend='ray'"):
        rung.Tuner(lambda c: 0.0, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=1, ray_address="auto")


def test_trial_directories_follow_the_storage_location(tmp_path):
    experiment = tmp_path / "home" / "experiments" / "exp-1"
    assert RayBackend().trial_dir(experiment, 3) == experiment / "trial_3"
    shared = RayBackend(storage_path=tmp_path / "nfs")
    assert shared.trial_dir(experiment, 3) == tmp_path / "nfs" / "exp-1" / "trial_3"
    assert shared.trial_dir(experiment, 3) != shared.trial_dir(experiment, 4)
    assert not (tmp_path / "nfs").exists()  # nothing is created before a trial runs


def test_locations_travel_as_plain_data_and_can_be_added():
    for files in (DriverDirectory(), SharedDirectory("/mnt/shared")):
        data = files.to_dict()
        assert files_from_dict(dict(data)).to_dict() == data
    assert files_from_dict({"kind": "directory", "path": "/mnt/shared"}) == SharedDirectory("/mnt/shared")
    with pytest.raises(ValueError, match="unknown trial files kind 'bucket'"):
        files_from_dict({"kind": "bucket"})

    class Bucket(TrialFiles):
        kind = "bucket"

        def __init__(self, name):
            self.name = name

        def trial_dir(self, experiment_dir, trial_id):
            return Path("/scratch") / self.name / Path(experiment_dir).name / str(trial_id)

        def to_dict(self):
            return {"kind": self.kind, "name": self.name}

    register_trial_files("bucket", lambda data: Bucket(data["name"]))
    rebuilt = files_from_dict(Bucket("runs").to_dict())
    assert isinstance(rebuilt, Bucket) and rebuilt.name == "runs"
    backend = RayBackend(storage_path=Bucket("runs"))
    assert backend.trial_dir(Path("/x/exp"), 2) == Path("/scratch/runs/exp/2")
    assert isinstance(coerce_trial_files(None), DriverDirectory) and not DriverDirectory().shared()


def test_trial_resources_become_ray_actor_options():
    assert ray_resources(TrialResources()) == {"num_cpus": 1.0, "num_gpus": 0.0}
    assert ray_resources(TrialResources.coerce({"cpus": 2, "gpus": 0.25, "special": 1, "memory": 2**30})) == {
        "num_cpus": 2.0, "num_gpus": 0.25, "memory": float(2**30), "resources": {"special": 1.0}}


def test_a_gpu_share_that_is_neither_a_fraction_nor_whole_is_refused_before_ray_starts(monkeypatch):
    def no_cluster(self):
        raise AssertionError("the cluster was contacted")

    monkeypatch.setattr(RayBackend, "_connect", no_cluster)
    with pytest.raises(ValueError, match="whole number"):
        RayBackend().check_resources(TrialResources(gpus=1.5), 1)
    with pytest.raises(AssertionError, match="contacted"):  # a valid share goes on to ask the cluster
        RayBackend().check_resources(TrialResources(gpus=0.5), 1)


def test_a_spec_naming_the_ray_backend_builds_it_without_starting_anything(tmp_path):
    (tmp_path / "trial_code.py").write_text("import rung\n\ndef train(config):\n    rung.report(loss=config['x'])\n")
    spec = tmp_path / "exp.yaml"
    spec.write_text("name: on-ray\ntrial:\n  function: trial_code:train\nspace:\n  x: {type: uniform, low: 0, high: 1}\n"
                    "metric: loss\nbudget: {max_trials: 4, max_concurrent: 8}\nbackend: ray\n")
    code = (f"import sys, rung\nt = rung.Tuner.from_spec({str(spec)!r})\n"
            "print(type(t.backend).__name__, t.n_workers, 'ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["RayBackend", "8", "False"]
