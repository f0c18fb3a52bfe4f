"""A real multi-node Ray cluster on this machine for the cluster suite.

``ray.cluster_utils.Cluster``: a head node (1 CPU) and two worker nodes; worker ``a`` has
2 CPUs, one (declared) GPU and 2 units of a custom resource ``special``, worker ``b`` has
2 CPUs. Everything binds 127.0.0.1 (Ray would otherwise use the machine's public address),
object stores are small, there is no dashboard, and the cluster is shut down at the end
with none of its processes left behind (only those: other Ray instances are not touched).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # loopback only; read when ray is imported

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

STORE = 80 * 1024 * 1024
WORKER_A = {"num_cpus": 2, "num_gpus": 1, "resources": {"special": 2}, "object_store_memory": STORE}
WORKER_B = {"num_cpus": 2, "object_store_memory": STORE}


@dataclass
class TestCluster:
    cluster: Any
    nodes: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return self.cluster.address

    def node_id(self, name: str) -> str:
        return self.nodes[name].node_id

    processes: list[Any] = field(default_factory=list)  # every process of every node we started

    def add(self, name: str, **options: Any) -> None:
        self.nodes[name] = node = self.cluster.add_node(**options)
        self.cluster.wait_for_nodes()
        self.processes += node_processes(node)

    def remove(self, name: str) -> None:
        self.cluster.remove_node(self.nodes.pop(name))


def node_processes(node: Any) -> list[Any]:
    """The Popen objects of a Ray node's own processes (raylet, GCS, ...)."""
    return [info.process for infos in node.all_processes.values() for info in infos]


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="session")
def ray_cluster():
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                            "object_store_memory": STORE})
    handle = TestCluster(cluster, processes=node_processes(cluster.head_node))
    try:
        handle.add("a", **WORKER_A)
        handle.add("b", **WORKER_B)
        ray.init(address=cluster.address, log_to_driver=False)
        yield handle
    finally:
        ray.shutdown()
        cluster.shutdown()
        deadline = time.monotonic() + 20
        while any(process.poll() is None for process in handle.processes) and time.monotonic() < deadline:
            time.sleep(0.5)
        for process in handle.processes:  # only what this suite started: other users' Ray stays
            if process.poll() is None:
                process.kill()
                process.wait()


def pg_url_or_skip() -> str:
    from postgres import URL, unreachable_reason

    reason = unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    return URL
