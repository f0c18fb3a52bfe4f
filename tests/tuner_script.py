"""Run a seeded tuner on a store; the crash tests kill this process with SIGKILL."""

import sys

import rung
from objectives import checkpointed_epochs

SPACE = {"x": rung.uniform(0, 1), "units": rung.randint(8, 64)}


def make_tuner(storage, name, workdir, resume=False, backend="process"):
    return rung.Tuner(checkpointed_epochs, SPACE, metric="loss", max_trials=12, n_workers=2 if backend == "process" else 1,
                      seed=5, verbose=0, storage=storage, experiment=name, workdir=workdir, resume=resume,
                      backend=backend)


if __name__ == "__main__":
    storage, name, workdir = sys.argv[1:4]
    make_tuner(storage, name, workdir).run()
