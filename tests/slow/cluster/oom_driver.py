"""A local Ray whose memory monitor fires early, and one trial that allocates past it.

Run as its own process (a Ray system setting is fixed when Ray starts): prints the trial's
status and error as JSON. Usage: python oom_driver.py MEGABYTES_OVER_CURRENT_USE.
"""

import json
import os
import sys

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

import psutil  # noqa: E402
import ray  # noqa: E402

import rung  # noqa: E402
from rung.backends import RayBackend  # noqa: E402

from cluster_objectives import hog  # noqa: E402

if __name__ == "__main__":
    margin = int(sys.argv[1]) * 1024 * 1024
    memory = psutil.virtual_memory()
    threshold = min(0.95, (memory.total - memory.available + margin) / memory.total)
    ray.init(address="local", num_cpus=1, include_dashboard=False, object_store_memory=80 * 1024 * 1024,
             log_to_driver=False,
             _system_config={"memory_usage_threshold": threshold, "memory_monitor_refresh_ms": 100})
    try:
        result = rung.Tuner(hog, {"mb": 4 * int(sys.argv[1]), "hold": 30}, metric="loss", backend=RayBackend(),
                            n_workers=1, max_trials=1, verbose=0, storage=":memory:", searcher="random").run()
        trial = result.trial_records[0]
        print(json.dumps({"status": trial.status.value, "error": trial.error, "threshold": threshold}))
    finally:
        ray.shutdown()
