"""Run a seeded tuner on a store; the crash tests kill this process with SIGKILL."""

import sys

import rung
from objectives import checkpointed_epochs, dies_at_first_pause, dies_at_first_stop

SPACE = {"x": rung.uniform(0, 1), "units": rung.randint(8, 64)}
BRACKET_SPACE = {"x": rung.uniform(0, 1), "epochs": 9, "sleep": 0.01}


def make_scheduler(kind):
    if kind == "sh":
        return rung.schedulers.SuccessiveHalving("epoch", min_resource=1, max_resource=9, reduction_factor=3,
                                                 num_trials=9)
    if kind == "asha-promotion":
        return rung.schedulers.ASHA("epoch", min_resource=1, max_resource=9, reduction_factor=3, type="promotion")
    return None


def make_tuner(storage, name, workdir, resume=False, backend="process", scheduler=None, objective=checkpointed_epochs):
    # Random search: its configs do not depend on which of two parallel trials finishes
    # first, so a resumed run can be compared config by config with an uninterrupted one.
    if scheduler is None:
        return rung.Tuner(checkpointed_epochs, SPACE, metric="loss", searcher="random", max_trials=12,
                          n_workers=2 if backend == "process" else 1, seed=5, verbose=0, storage=storage,
                          experiment=name, workdir=workdir, resume=resume, backend=backend)
    return rung.Tuner(objective, BRACKET_SPACE, metric="loss", searcher="random", max_trials=18, n_workers=1, seed=5,
                      verbose=0, storage=storage, experiment=name, workdir=workdir, resume=resume,
                      backend="inprocess", scheduler=make_scheduler(scheduler))


if __name__ == "__main__":
    storage, name, workdir = sys.argv[1:4]
    scheduler = sys.argv[4] if len(sys.argv) > 4 else None
    dying = {"die-at-pause": dies_at_first_pause, "die-at-stop": dies_at_first_stop}
    objective = dying.get(sys.argv[5], checkpointed_epochs) if len(sys.argv) > 5 else checkpointed_epochs
    make_tuner(storage, name, workdir, scheduler=scheduler, objective=objective).run()
