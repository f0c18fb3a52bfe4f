"""A real tuning run for the browser tests: ``python live_tuner.py STORE_URL NAME N_TRIALS``.

Trials report three epochs, a little apart, so that the dashboard sees trials appear while
the test watches; configs with kind "bad" fail at epoch 2 (its traceback shows in the details).
"""

import math
import sys
import time

import rung
from rung.schedulers import ASHA


def objective(config):
    print(f"training with lr={config['lr']:.4g}")
    for epoch in range(1, 4):
        time.sleep(0.3)
        if config["kind"] == "bad" and epoch == 2:
            raise RuntimeError("loss diverged")
        loss = 0.3 * abs(math.log10(config["lr"]) + 2) + config["width"] / 200 + 1.0 / epoch
        rung.report(epoch=epoch, loss=loss)


if __name__ == "__main__":
    url, name, n_trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
    space = {"lr": rung.loguniform(1e-4, 1e-1), "width": rung.randint(8, 64),
             "kind": rung.choice(["good", "fine", "bad"])}
    rung.Tuner(objective, space, metric="loss", mode="min", searcher="random", seed=0,
               scheduler=ASHA("epoch", min_resource=1, max_resource=3, reduction_factor=3),
               max_trials=n_trials, n_workers=2, storage=url, experiment=name, verbose=0).run()
