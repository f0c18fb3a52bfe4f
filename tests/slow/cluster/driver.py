"""A tuner on the test cluster, run as its own process so a test can SIGKILL it mid-run.

Usage: python driver.py STORAGE_URL EXPERIMENT SHARED_DIR [resume]; the cluster is RAY_ADDRESS.
"""

import sys

import rung
from rung.backends import RayBackend
from rung.schedulers import ASHA

from cluster_objectives import epochs

if __name__ == "__main__":
    storage, experiment, shared = sys.argv[1:4]
    result = rung.Tuner(epochs, {"x": rung.uniform(0.0, 1.0), "epochs": 9, "sleep": 0.2}, metric="loss",
                        backend=RayBackend(storage_path=shared), n_workers=3, max_trials=8, searcher="random",
                        scheduler=ASHA("epoch", max_resource=9), seed=5, verbose=0, storage=storage,
                        experiment=experiment, resume="resume" in sys.argv[4:]).run()
    print(result.stop_reason, len(result.trial_records))
