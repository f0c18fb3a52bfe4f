"""Objectives shared by the tests; importable, so worker processes load them by reference."""

import ctypes
import math
import os
import sys
import time

import rung


def quadratic(config):
    """Smooth, minimum 0 at x=0.3, y=-0.2."""
    return (config["x"] - 0.3) ** 2 + (config["y"] + 0.2) ** 2


def per_epoch(config):
    """Reports once per epoch; the loss decays towards the quadratic's value."""
    base = quadratic(config)
    for epoch in range(1, config.get("epochs", 4) + 1):
        rung.report(epoch=epoch, loss=base + 1.0 / epoch)


def sleeper(config):
    time.sleep(config["sleep"])
    return config["sleep"]


def misbehaving(config):
    """Each ``kind`` ends the trial in a different bad way; ``ok`` succeeds."""
    kind = config["kind"]
    print(f"trial of kind {kind} says hello")
    print(f"to stderr from {kind}", file=sys.stderr)
    if kind == "ok":
        return 1.0
    if kind == "raise":
        raise ValueError("bad learning rate")
    if kind == "exit":
        sys.exit(3)
    if kind == "os_exit":
        os._exit(4)
    if kind == "segfault":
        ctypes.string_at(0)
    if kind == "hang":
        time.sleep(60)
    if kind == "nan":
        rung.report(loss=math.nan)
        return None
    if kind == "inf":
        return float("inf")
    if kind == "no_metric":
        rung.report(accuracy=0.5)
        return None
    if kind == "returns_none":
        return None
    if kind == "returns_text":
        return "great"
    raise AssertionError(kind)


def checkpointed_epochs(config):
    """Deterministic training (4 epochs unless ``epochs`` says) that resumes from its checkpoint."""
    done = (rung.load_checkpoint() or {"epoch": 0})["epoch"]
    for epoch in range(done + 1, config.get("epochs", 4) + 1):
        time.sleep(config.get("sleep", 0.03))
        loss = (config["x"] - 0.3) ** 2 + 1.0 / epoch
        # Report, then save (atomically: the tuner may be killed mid-write); ``finally`` also
        # saves when the report pauses the trial. If the tuner dies between the two, the
        # epoch is redone: reported twice, never skipped.
        try:
            rung.report(epoch=epoch, loss=loss)
        finally:
            rung.save_checkpoint({"epoch": epoch})


def dies_at_first_pause(config):
    """``checkpointed_epochs``, but the whole process dies the first time a trial is paused.

    Run in-process, the trial is inside the tuner: dying there kills the tuner right after
    it committed the pause and before it carried it out.
    """
    _die_at_first(config, rung.TrialPaused)


def dies_at_first_stop(config):
    """``checkpointed_epochs``, but the process dies the first time a trial hears STOP.

    Under a promotion-based ASHA that STOP is the one for reaching ``max_resource``: the
    tuner dies after committing the trial's completion and before recording it.
    """
    _die_at_first(config, rung.TrialStopped)


def _die_at_first(config, signal_type):
    from pathlib import Path

    marker = Path(os.environ["RUNG_TEST_MARKER"])
    try:
        checkpointed_epochs(config)
    except signal_type as heard:
        if signal_type is rung.TrialStopped and isinstance(heard, rung.TrialPaused):
            raise  # a pause is not the stop this one dies at
        if not marker.exists():
            marker.write_text("died")
            os._exit(137)
        raise


class CountsWarmUps:
    """Sleeps ``config["sleep"]`` seconds; every worker process that warms it up appends its
    pid to ``path`` (so a test can count the workers a run started)."""

    def __init__(self, path):
        self.path = str(path)

    def rung_warm_up(self):
        with open(self.path, "a") as handle:
            handle.write(f"{os.getpid()}\n")

    def __call__(self, config):
        time.sleep(config["sleep"])
        return config["sleep"]


class NearestRow:
    """A table of ``n`` random rows of ``x0 .. x{d-1}`` in the unit cube, valued by
    ``value(row)`` and answered by the row nearest to the config (a piecewise constant
    objective, as a benchmark table looked up by nearest neighbour). ``answered`` lists
    the rows returned, in order."""

    def __init__(self, value, n=150, d=4, seed=0):
        import numpy as np

        self.rows = np.random.default_rng(seed).random((n, d))
        self.values = np.array([value(row) for row in self.rows])
        self.answered = []

    def __call__(self, config):
        import numpy as np

        x = np.array([config[f"x{i}"] for i in range(self.rows.shape[1])])
        row = int(np.argmin(((self.rows - x) ** 2).sum(axis=1)))
        self.answered.append(row)
        return float(self.values[row])
