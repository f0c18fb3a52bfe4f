"""The backend contract: every built-in backend passes the shipped conformance suite, and
the pieces of the contract (resources, GPU placement, the registry, spec checks) work alone."""

import subprocess

import pytest

import rung
from rung.backends import (
    Backend,
    GpuPlacement,
    InProcessBackend,
    ProcessBackend,
    SimulatorBackend,
    TrialLaunch,
    TrialResources,
    available_backends,
    make_backend,
    register_backend,
)
from rung.backends import _registry
from rung.testing.backends import BACKEND_CHECKS, FUNCTION_KIT, SIMULATED_KIT, RecordingEvents, check_backend

BACKENDS = {
    "inprocess": (InProcessBackend, FUNCTION_KIT),
    "process_fork": (lambda: ProcessBackend(isolation="fork", gpus=None), FUNCTION_KIT),
    "process_none": (lambda: ProcessBackend(isolation="none", gpus=None), FUNCTION_KIT),
    "simulator": (SimulatorBackend, SIMULATED_KIT),
}


@pytest.mark.parametrize("check_name, check", BACKEND_CHECKS, ids=[name for name, _ in BACKEND_CHECKS])
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_every_backend_passes_the_shipped_suite(backend, check_name, check):
    factory, kit = BACKENDS[backend]
    check(factory, kit=kit, n_workers=2)


class _AnswersBeforeCommit(InProcessBackend):
    """Breaks the protocol: commits only after the trial has its answer (at the end)."""

    def start(self, objective, events, n_workers):
        class Late:
            def on_report(self, trial_id, metrics):
                return events.on_report(trial_id, metrics)

            def commit(self):
                pass

            def on_end(self, trial_id, outcome):
                events.commit()
                events.on_end(trial_id, outcome)

        super().start(objective, Late(), n_workers)


class _EndsTwice(InProcessBackend):
    def start(self, objective, events, n_workers):
        class Twice:
            on_report = staticmethod(events.on_report)
            commit = staticmethod(events.commit)

            def on_end(self, trial_id, outcome):
                events.on_end(trial_id, outcome)
                events.on_end(trial_id, outcome)

        super().start(objective, Twice(), n_workers)


class _NoResource(InProcessBackend):
    def launch(self, launch):
        super().launch(TrialLaunch(launch.trial_id, launch.config, launch.trial_dir))


@pytest.mark.parametrize("broken, check", [(_AnswersBeforeCommit, "reports_and_one_end"),
                                           (_EndsTwice, "reports_and_one_end"), (_NoResource, "session")])
def test_the_backend_suite_catches_broken_backends(broken, check):
    with pytest.raises(AssertionError, match=check):
        dict(BACKEND_CHECKS)[check](broken, n_workers=1)


def test_check_backend_runs_every_check():
    check_backend(InProcessBackend, n_workers=1)
    events = RecordingEvents()
    assert events.answer(0, {}) == "continue"


# -- resources -----------------------------------------------------------------------------
def test_trial_resources_are_validated_and_coerced():
    assert TrialResources() == TrialResources(cpus=1, gpus=0, custom={})
    assert TrialResources.coerce(None) == TrialResources()
    resources = TrialResources.coerce({"cpus": 2, "gpus": 0.5, "licence": 1})
    assert (resources.cpus, resources.gpus, dict(resources.custom)) == (2.0, 0.5, {"licence": 1.0})
    assert TrialResources.coerce(resources) is resources
    for bad, field in [({"gpus": -1}, "gpus"), ({"cpus": float("nan")}, "cpus"), ({"x": "a"}, "x"), ({"cpus": True}, "cpus")]:
        with pytest.raises(ValueError, match=field):
            TrialResources.coerce(bad)
    with pytest.raises(ValueError, match="mapping"):
        TrialResources.coerce(3)


def test_trial_launch_keeps_its_positional_order():
    launch = TrialLaunch(3, {"x": 1}, rung.backends._base.Path("d"), 9.0)
    assert (launch.trial_id, launch.resource, launch.resources) == (3, 9.0, TrialResources())


def test_check_resources_refuses_what_a_local_machine_cannot_give(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    for backend in (InProcessBackend(), ProcessBackend()):
        backend.check_resources(TrialResources(), 1)
        with pytest.raises(ValueError, match="cpus=100000"):
            backend.check_resources(TrialResources(cpus=100000), 1)
        with pytest.raises(ValueError, match="no GPU"):
            backend.check_resources(TrialResources(gpus=1), 1)
        with pytest.raises(ValueError, match="custom"):
            backend.check_resources(TrialResources(custom={"licence": 1}), 1)
    SimulatorBackend().check_resources(TrialResources(gpus=8, custom={"tpu": 4}), 64)
    with pytest.raises(ValueError, match="at most 2 fit"):
        ProcessBackend(gpus=["0", "1"]).check_resources(TrialResources(gpus=1), 4)
    ProcessBackend(gpus=["0", "1"]).check_resources(TrialResources(gpus=0.5), 4)
    with pytest.raises(ValueError, match="whole number"):
        ProcessBackend(gpus=["0", "1"]).check_resources(TrialResources(gpus=1.5), 1)


def test_gpu_placement_packs_fractions_and_gives_whole_devices():
    placement = GpuPlacement(["0", "1"])
    assert placement.acquire(0, 0.5) == ["0"]
    assert placement.acquire(1, 0.5) == ["0"]
    assert placement.acquire(2, 0.5) == ["1"]
    with pytest.raises(RuntimeError, match="free"):
        placement.acquire(3, 1)
    placement.release(0)
    placement.release(1)
    assert placement.acquire(3, 1) == ["0"]
    assert placement.acquire(4, 0) == []
    assert placement.capacity(0.5) == 4 and placement.capacity(2) == 1


def test_gpus_are_found_lazily(monkeypatch):
    calls = []
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(OSError()))
    backend = ProcessBackend()
    placement = GpuPlacement()
    assert calls == []  # construction probes nothing
    backend.check_resources(TrialResources(), 2)
    assert calls == []  # nor does a trial that asks for no GPU
    assert placement.devices == [] and len(calls) == 1


def test_each_trial_gets_its_gpus_as_cuda_visible_devices(tmp_path):
    def objective(config):
        import os
        rung.report(loss=1.0, devices=os.environ.get("CUDA_VISIBLE_DEVICES", "unset"))

    backend = ProcessBackend(gpus=["3", "7"])
    events = RecordingEvents()
    backend.start(objective, events, 2)
    try:
        halves = TrialResources(gpus=0.5)
        for trial_id, resources in enumerate([TrialResources(gpus=1), halves]):
            events.launched(trial_id)
            backend.launch(TrialLaunch(trial_id, {}, tmp_path / str(trial_id), None, resources))
        while len(events.ends) < 2:
            backend.wait(0.1)
    finally:
        backend.shutdown()
    assert {events.metrics_of(0)[0]["devices"], events.metrics_of(1)[0]["devices"]} == {"3", "7"}
    assert events.problems == []


# -- the registry --------------------------------------------------------------------------
def test_registry_builds_by_name_with_options_and_takes_new_backends(monkeypatch):
    assert {"process", "inprocess", "simulator"} <= set(available_backends())
    assert isinstance(make_backend("InProcess"), InProcessBackend)
    backend = make_backend("simulator", n_workers=3)
    assert backend.default_workers() == 3
    assert make_backend(backend) is backend
    with pytest.raises(TypeError, match="instance"):
        make_backend(backend, n_workers=2)
    with pytest.raises(ValueError, match="not known"):
        make_backend("threads")

    class Mine(InProcessBackend):
        name = "mine"

    monkeypatch.setattr(_registry, "_factories", dict(_registry._factories))
    register_backend("mine", Mine)
    assert isinstance(make_backend("mine"), Mine) and "mine" in available_backends()
    with pytest.raises(ValueError, match="already registered"):
        register_backend("mine", InProcessBackend)
    register_backend("mine", InProcessBackend, replace=True)


def test_entry_points_are_loaded_only_for_unknown_names(monkeypatch):
    class FromPlugin(InProcessBackend):
        worker_limit = 4

    class Entry:
        name = "plugin"
        loaded = 0

        def load(self):
            Entry.loaded += 1
            return FromPlugin

    monkeypatch.setattr(_registry, "_factories", dict(_registry._factories))
    monkeypatch.setattr(_registry, "_entry_points_loaded", False)
    monkeypatch.setattr(_registry, "_entry_points", lambda: [Entry()])
    make_backend("inprocess")
    assert "plugin" in available_backends() and Entry.loaded == 0
    assert _registry.worker_limit("plugin") == 4 and Entry.loaded == 1
    assert isinstance(make_backend("plugin"), FromPlugin)


def test_worker_limits_are_read_from_classes():
    assert _registry.worker_limit("inprocess") == 1
    assert _registry.worker_limit("process") is None
    assert InProcessBackend().max_workers == 1 and SimulatorBackend(max_workers=2).max_workers == 2
    assert issubclass(InProcessBackend, Backend)
