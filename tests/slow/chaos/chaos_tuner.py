"""A seeded tuner run (or resumed: the same command does both) that the chaos suite kills.

Usage: python chaos_tuner.py STORAGE NAME WORKDIR KIND
"""

from __future__ import annotations

import sys

import rung
from chaos_objective import train

SPACE = {"x": rung.uniform(0, 1), "y": rung.uniform(-1, 1), "epochs": 6, "sleep": 0.05}

# name -> (searcher, scheduler factory, workers, trials)
KINDS = {
    # Two workers, a model-based searcher and early stopping: the busiest mix of writes.
    "tpe-asha-2w": ("tpe", lambda: rung.schedulers.ASHA("epoch", min_resource=1, max_resource=6,
                                                         reduction_factor=2), 2, 24),
    # Pauses and resumes: Hyperband with promotion, random configs, two workers.
    "random-hyperband-2w": ("random", lambda: rung.schedulers.Hyperband("epoch", min_resource=1, max_resource=6,
                                                                         reduction_factor=2), 2, 24),
    # One worker: the run with kills must equal the uninterrupted one, decision by decision.
    "tpe-asha-promotion-1w": ("tpe", lambda: rung.schedulers.ASHA("epoch", min_resource=1, max_resource=6,
                                                                   reduction_factor=2, type="promotion"), 1, 12),
    "gp-fifo-1w": ("gp", lambda: None, 1, 10),
    # The one a test stops: too many trials to end by itself before the stop arrives.
    "tpe-asha-2w-long": ("tpe", lambda: rung.schedulers.ASHA("epoch", min_resource=1, max_resource=6,
                                                              reduction_factor=2), 2, 2000),
}


def make_tuner(storage: str, name: str, workdir: str, kind: str) -> rung.Tuner:
    searcher, scheduler, workers, trials = KINDS[kind]
    return rung.Tuner(train, SPACE, metric="loss", mode="min", searcher=searcher, scheduler=scheduler(),
                      max_trials=trials, n_workers=workers, seed=11, verbose=0, storage=storage,
                      experiment=name, workdir=workdir, resume=True, backend="process")


if __name__ == "__main__":
    make_tuner(*sys.argv[1:5]).run()
