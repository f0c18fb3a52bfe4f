"""backend="ray" with no cluster: the backend starts a local Ray and shuts it down.

Prints JSON: the trials' statuses, the addresses of the Ray nodes seen during the run (from
a callback on the driver), the local Ray's process ids, and whether Ray is still
initialised after the run.
"""

import json
import os

import rung

from cluster_objectives import where


class Nodes(rung.Callback):
    def __init__(self):
        self.addresses = set()

    def on_report(self, state, trial, report, decision):
        import ray

        self.addresses |= {node["NodeManagerAddress"] for node in ray.nodes()}
        self.gcs = ray.get_runtime_context().gcs_address
        node = ray._private.worker._global_node  # the local Ray's processes, to check they end
        self.pids = sorted(info.process.pid for infos in node.all_processes.values() for info in infos)


if __name__ == "__main__":
    assert "RAY_ADDRESS" not in os.environ
    nodes = Nodes()
    result = rung.Tuner(where, {"x": rung.uniform(0.0, 1.0), "sleep": 0.1}, metric="loss", backend="ray",
                        n_workers=2, max_trials=4, verbose=0, storage=":memory:", callbacks=[nodes]).run()
    import ray

    print(json.dumps({"statuses": sorted(t.status.value for t in result.trial_records),
                      "addresses": sorted(nodes.addresses), "gcs": nodes.gcs, "pids": nodes.pids,
                      "initialized_after": ray.is_initialized()}))
