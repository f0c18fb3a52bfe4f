"""backend="ray" on a real three-node Ray cluster (head + two workers on this machine).

The shipped backend conformance suite; the same decisions as the process backend for the
same seed; trials placed by their resources (custom resources, fractional GPUs); script
trials; paused trials resumed on other nodes from checkpoints in a shared directory; a
node removed mid-run (its trial retried from its checkpoint on another node, no accepted
report lost; with no retries left it fails with "node lost"); the stores are PostgreSQL.
"""

from __future__ import annotations

import json
import time
import threading
from pathlib import Path

import pytest

import rung
from rung.backends import ProcessBackend, RayBackend
from rung.schedulers import ASHA
from rung.testing.backends import BACKEND_CHECKS

from cluster_objectives import epochs, where
from conftest import WORKER_A, pg_url_or_skip

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train.py"


class Decisions(rung.Callback):
    """Every report the tuner accepted, with the decision it caused."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int, float, str]] = []

    def on_report(self, state, trial, report, decision):
        self.seen.append((trial.trial_id, int(report.metrics["epoch"]), report.metrics["loss"], decision.action.value))


def _tuner(objective, backend, **options):
    defaults = dict(metric="loss", searcher="random", seed=7, verbose=0, storage=pg_url_or_skip())
    defaults.update(options)
    return rung.Tuner(objective, {"x": rung.uniform(0.0, 1.0), "epochs": 9, "sleep": 0.0}, backend=backend,
                      **defaults)


@pytest.mark.parametrize("name, check", BACKEND_CHECKS, ids=[name for name, _ in BACKEND_CHECKS])
def test_ray_backend_passes_the_shipped_suite(ray_cluster, name, check):
    check(lambda: RayBackend(address=ray_cluster.address), n_workers=2)


def test_same_decisions_as_the_process_backend_for_the_same_seed(ray_cluster, tmp_path):
    runs = {}
    for label, backend in (("process", ProcessBackend(gpus=None)), ("ray", RayBackend())):
        seen = Decisions()
        result = _tuner(epochs, backend, n_workers=1, max_trials=8, callbacks=[seen], experiment=f"same-{label}",
                        scheduler=ASHA("epoch", max_resource=9, type="promotion")).run()
        runs[label] = (seen.seen, [(t.trial_id, t.config, t.status.value) for t in result.trial_records])
    assert runs["ray"] == runs["process"]
    actions = {action for *_, action in runs["ray"][0]}
    assert {"continue", "pause"} <= actions  # the scheduler really decided something


def test_trials_go_where_their_resources_are(ray_cluster):
    special = RayBackend()
    result = _tuner(where, special, n_workers=2, max_trials=4, experiment="placed-special",
                    resources_per_trial={"cpus": 1, "special": 1}).run()
    nodes = {json.loads((Path(result.workdir) / f"trial_{t}" / "where.json").read_text())["node"]
             for t in range(4)}
    assert nodes == {ray_cluster.node_id("a")}

    halves = _tuner(where, RayBackend(), n_workers=2, max_trials=4, experiment="placed-gpu-halves",
                    resources_per_trial={"cpus": 0.5, "gpus": 0.5}).run()
    assert sorted(halves.reports["devices"]) == [0.0] * 4  # the node's one GPU, shared by two trials at a time
    placed = [json.loads((Path(halves.workdir) / f"trial_{t}" / "where.json").read_text()) for t in range(4)]
    assert {p["node"] for p in placed} == {ray_cluster.node_id("a")}
    assert WORKER_A["num_gpus"] == 1

    with pytest.raises(ValueError, match="special=3"):
        _tuner(where, RayBackend(), n_workers=1, max_trials=1, resources_per_trial={"special": 3}).run()


def test_script_trials_run_on_the_cluster(ray_cluster):
    import sys

    script = rung.Script([sys.executable, str(SCRIPT)], args="flags")
    result = rung.Tuner(script, {"x": rung.uniform(0.0, 1.0), "epochs": 3}, metric="loss", backend=RayBackend(),
                        n_workers=2, max_trials=4, seed=1, verbose=0, storage=pg_url_or_skip(),
                        experiment="scripts").run()
    assert list(result.trials["status"]) == ["completed"] * 4
    assert sorted(result.reports.groupby("trial_id")["step"].max()) == [3, 3, 3, 3]


def test_paused_trials_resume_on_other_nodes_from_a_shared_directory(ray_cluster, tmp_path):
    shared = tmp_path / "shared"
    seen = Decisions()
    result = _tuner(epochs, RayBackend(storage_path=shared), n_workers=4, max_trials=12, callbacks=[seen],
                    experiment="shared-dir", scheduler=ASHA("epoch", max_resource=9, type="promotion")).run()
    trial_dirs = {t: shared / "shared-dir" / f"trial_{t}" for t in range(12)}
    assert all((d / "checkpoint" / "state.json").exists() for d in trial_dirs.values())
    resumed = [t for t, d in trial_dirs.items() if len((d / "nodes.txt").read_text().split()) > 1]
    assert resumed, "ASHA promoted nobody"
    for trial_id in resumed:
        epochs_reported = [e for t, e, _, _ in seen.seen if t == trial_id]
        assert epochs_reported == list(range(1, len(epochs_reported) + 1))  # continued, never restarted
    visited = {node for d in trial_dirs.values() for node in (d / "nodes.txt").read_text().split()}
    assert len(visited) >= 2  # trials ran on more than one node


def _remove_when_running(ray_cluster, shared: Path, name: str, after_reports: int, removed: list[str]) -> None:
    """Remove node ``name`` as soon as a trial on it has had ``after_reports`` reports answered."""
    node_id = ray_cluster.node_id(name)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for trial_dir in shared.glob("*/trial_*"):
            nodes = (trial_dir / "nodes.txt").read_text().split() if (trial_dir / "nodes.txt").exists() else []
            acked = (trial_dir / "acked.txt").read_text().split() if (trial_dir / "acked.txt").exists() else []
            if nodes and nodes[-1] == node_id and len(acked) >= after_reports:
                removed.append(trial_dir.name)
                ray_cluster.remove(name)
                return
        time.sleep(0.05)


@pytest.mark.parametrize("max_retries", [2, 0], ids=["retried", "no_retries_left"])
def test_a_lost_node_takes_its_trials_which_are_retried_elsewhere(ray_cluster, tmp_path, max_retries, recwarn):
    shared = tmp_path / "shared"
    backend = RayBackend(storage_path=shared, max_retries=max_retries)
    seen = Decisions()
    removed: list[str] = []
    killer = threading.Thread(target=_remove_when_running, args=(ray_cluster, shared, "b", 3, removed), daemon=True)
    killer.start()
    try:
        # Five one-CPU slots fill every CPU of the cluster (head 1, a 2, b 2), so some land on b.
        result = rung.Tuner(epochs, {"x": rung.uniform(0.0, 1.0), "epochs": 9, "sleep": 0.3}, metric="loss",
                            backend=backend, n_workers=5, max_trials=6, callbacks=[seen], searcher="random",
                            experiment=f"lost-{max_retries}", seed=3, verbose=0, storage=pg_url_or_skip()).run()
    finally:
        killer.join(timeout=5)
        if "b" not in ray_cluster.nodes:
            ray_cluster.add("b", num_cpus=2, object_store_memory=80 * 1024 * 1024)
    assert removed, "no trial ran on node b"
    lost = int(removed[0].split("_")[1])
    trials = {t.trial_id: t for t in result.trial_records}
    stored = {(r.trial_id, int(r.metrics["epoch"])) for r in result.report_records}
    for trial_dir in shared.glob("*/trial_*"):  # every report a trial saw answered is in the store
        trial_id = int(trial_dir.name.split("_")[1])
        acked = (trial_dir / "acked.txt").read_text().split() if (trial_dir / "acked.txt").exists() else []
        assert {(trial_id, int(e)) for e in acked} <= stored
    if max_retries:
        assert lost in backend.retried
        assert any(f"running trial {lost} died" in str(w.message) and "retry 1 of max_retries=2" in str(w.message)
                   for w in recwarn.list)
        assert trials[lost].status.value == "completed"
        nodes = (shared / f"lost-{max_retries}" / f"trial_{lost}" / "nodes.txt").read_text().split()
        assert len(nodes) == 2 and nodes[1] != nodes[0]  # retried on another node
        epochs_seen = sorted({e for t, e, _, _ in seen.seen if t == lost})
        assert epochs_seen == list(range(1, 10))  # continued from the checkpoint up to the end
        assert [t.status.value for t in trials.values()] == ["completed"] * 6
    else:
        assert backend.retried == []
        assert trials[lost].status.value == "failed"
        assert trials[lost].error.startswith("node lost")
        failed = [t for t in trials.values() if t.status.value == "failed"]
        assert all(t.error.startswith("node lost") for t in failed)  # node b held one or two of them
        assert len(failed) + sum(t.status.value == "completed" for t in trials.values()) == 6


def _worker_processes() -> list[str]:
    import subprocess

    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if "rung.backends._ray_worker" in line]


def test_a_killed_driver_ends_its_trials_and_resume_continues(ray_cluster, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    storage, shared = pg_url_or_skip(), tmp_path / "shared"
    here = Path(__file__).resolve().parent
    env = dict(os.environ, RAY_ADDRESS=ray_cluster.address,
               PYTHONPATH=os.pathsep.join([str(here), str(here.parents[1]), os.environ.get("PYTHONPATH", "")]))
    driver = subprocess.Popen([sys.executable, str(here / "driver.py"), storage, "killed-driver", str(shared)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    acked = lambda: sum(len(p.read_text().split()) for p in shared.glob("*/trial_*/acked.txt"))  # noqa: E731
    while acked() < 6 and time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.05)
    assert driver.poll() is None, driver.communicate()
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    deadline = time.monotonic() + 30  # Ray ends the dead driver's actors; their workers and trials die with them
    while _worker_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _worker_processes() == []
    before = rung.load("killed-driver", storage=storage)
    running = [t.trial_id for t in before.trial_records if t.status.value == "running"]
    assert running, "the driver was killed with no trial running"

    seen = Decisions()
    result = rung.Tuner(epochs, {"x": rung.uniform(0.0, 1.0), "epochs": 9, "sleep": 0.2}, metric="loss",
                        backend=RayBackend(storage_path=shared), n_workers=3, max_trials=8, searcher="random",
                        scheduler=ASHA("epoch", max_resource=9), seed=5, verbose=0, storage=storage,
                        experiment="killed-driver", resume=True, callbacks=[seen]).run()
    assert len(result.trial_records) == 8
    assert all(t.status.value in ("completed", "stopped") for t in result.trial_records)
    stored = {(r.trial_id, int(r.metrics["epoch"])) for r in result.report_records}
    assert {(r.trial_id, int(r.metrics["epoch"])) for r in before.report_records} <= stored  # nothing accepted lost
    for trial_id in running:  # restarted from its checkpoint: the epochs go on where they were answered
        first_again = min(e for t, e, _, _ in seen.seen if t == trial_id) if any(t == trial_id for t, *_ in seen.seen) else None
        done_before = max((int(r.metrics["epoch"]) for r in before.report_records if r.trial_id == trial_id), default=0)
        assert first_again is None or first_again >= done_before


def test_a_trial_killed_by_rays_memory_monitor_fails_with_out_of_memory(tmp_path):
    import os
    import subprocess
    import sys

    here = Path(__file__).resolve().parent
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = os.pathsep.join([str(here), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, str(here / "oom_driver.py"), "500"], env=env, capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "failed"
    assert outcome["error"].startswith("out of memory: Ray's memory monitor killed trial 0's worker")


def test_without_a_cluster_the_backend_starts_a_local_ray_on_loopback_and_stops_it(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import alive

    here = Path(__file__).resolve().parent
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")}
    env["PYTHONPATH"] = os.pathsep.join([str(here), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, str(here / "local_driver.py")], env=env, capture_output=True, text=True,
                          timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["statuses"] == ["completed"] * 4
    assert seen["addresses"] == ["127.0.0.1"] and seen["gcs"].startswith("127.0.0.1:")
    assert seen["initialized_after"] is False
    assert len(seen["pids"]) >= 2  # a GCS and a raylet at least
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in seen["pids"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(alive(pid) for pid in seen["pids"])  # the local Ray is gone with the run


def test_bytes_a_trial_writes_to_its_connection_fail_only_that_trial(ray_cluster, tmp_path):
    from cluster_objectives import forges

    marker = tmp_path / "marker"
    kinds = ["ok", "pickle", "forged_hello", "other_trial", "ok_after"]
    result = rung.Tuner(forges, {"kind": rung.choice(kinds), "marker": str(marker)}, metric="loss",
                        searcher=rung.searchers.Grid, backend=RayBackend(), n_workers=2, verbose=0,
                        storage=":memory:").run()
    assert not marker.exists()  # nothing the trial wrote was unpickled
    rows = {t.config["kind"]: t for t in result.trial_records}
    assert rows["ok"].status.value == rows["ok_after"].status.value == "completed"
    for kind, problem in {"pickle": "is not a rung message", "forged_hello": "unexpected 'hello' message",
                          "other_trial": "malformed 'report' message"}.items():
        assert rows[kind].status.value == "failed", kind
        assert problem in rows[kind].error and "a trial must not write to it" in rows[kind].error, rows[kind].error
