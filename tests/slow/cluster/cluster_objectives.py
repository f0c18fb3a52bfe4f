"""Trials of the cluster suite: deterministic, checkpointed, and telling where they ran.

Each trial appends the Ray node id it runs on to ``nodes.txt`` and every epoch whose report
the tuner answered to ``acked.txt`` (both in its trial directory), so a test can see which
nodes a trial visited and that every acknowledged report is in the store.
"""

from __future__ import annotations

import json
import os
import time

import rung


def loss_of(x: float, epoch: int) -> float:
    return (x - 0.3) ** 2 + 1.0 / epoch


def epochs(config):
    """Report ``epoch = 1 .. config["epochs"]`` (resuming from the checkpoint), sleeping
    ``config["sleep"]`` seconds per epoch; the checkpoint is saved after every answer, pauses included."""
    trial_dir = rung.trial_dir()
    with open(trial_dir / "nodes.txt", "a") as file:
        file.write(os.environ.get("RUNG_RAY_NODE_ID", "?") + "\n")
    checkpoint = rung.checkpoint_dir() / "state.json"
    start = json.loads(checkpoint.read_text())["epoch"] if checkpoint.exists() else 0
    for epoch in range(start + 1, int(config.get("epochs", 9)) + 1):
        time.sleep(float(config.get("sleep", 0.0)))
        try:
            rung.report(epoch=epoch, loss=loss_of(float(config["x"]), epoch))
            with open(trial_dir / "acked.txt", "a") as file:
                file.write(f"{epoch}\n")
        finally:  # answered (continue, pause or stop): this epoch is done
            checkpoint.write_text(json.dumps({"epoch": epoch}))


def where(config):
    """Report once what the trial sees of its placement (devices as a number: -1 for none)."""
    devices = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    with open(rung.trial_dir() / "where.json", "w") as file:
        json.dump({"node": os.environ.get("RUNG_RAY_NODE_ID"), "cuda_visible_devices": devices}, file)
    time.sleep(float(config.get("sleep", 0.5)))
    rung.report(loss=float(config["x"]), devices=float(devices) if devices.isdigit() else -1.0)


def hog(config):
    """Allocate ``config["mb"]`` megabytes, touch them, and hold on for a while."""
    block = bytearray(int(config["mb"]) * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(float(config.get("hold", 20)))
    rung.report(loss=float(len(block)))


class Exploit:
    """Unpickling this creates the file ``path``: proof that received bytes ran as code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({self.path!r}, 'w').close()",))


def forges(config):
    """A trial that writes bytes of its choice to its connection to the driver (the fd is the
    node worker's argv[1]) instead of going through rung.report."""
    import pickle
    import sys

    from rung.trial._session import encode_message

    kind = config["kind"]
    if kind.startswith("ok"):
        rung.report(loss=1.0)
        return 1.0
    if kind == "pickle":
        data = pickle.dumps(("report", 0, Exploit(config["marker"])))
    elif kind == "forged_hello":
        data = encode_message(("hello", "0" * 32, {"node_id": "x"}))
    elif kind == "other_trial":
        data = encode_message(("report", 10_000, {"loss": 0.0}))
    else:
        raise AssertionError(kind)
    os.write(int(sys.argv[1]), data)
    time.sleep(30)  # the driver must end this trial itself
    return 0.0
