"""The objective of the chaos suite: deterministic training that writes a side log.

Every report is logged twice by the trial itself, in a file of its own process
(``$RUNG_CHAOS_LOG/<pid>.log``): ``sent`` just before ``rung.report`` and ``acked`` once the
tuner's answer came back (continue, pause or stop). Each report carries a unique ``send``
number. So after any number of SIGKILLs of the tuner, the suite checks the store against
what the trials saw: every acknowledged report is stored (none lost), every stored report
was sent, and none is stored twice (no duplicates).
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import rung


def _log(line: str) -> None:
    path = Path(os.environ["RUNG_CHAOS_LOG"]) / f"{os.getpid()}.log"
    with open(path, "a") as handle:  # one small O_APPEND write per line
        handle.write(line + "\n")
        handle.flush()


def train(config: dict) -> None:
    """``epochs`` epochs of a quadratic bowl that improves with training; resumes from its
    checkpoint (saved after every report, so a killed epoch is redone, never skipped)."""
    trial = rung.trial_dir().name
    done = (rung.load_checkpoint() or {"epoch": 0})["epoch"]
    for epoch in range(done + 1, config["epochs"] + 1):
        time.sleep(config["sleep"])
        loss = (config["x"] - 0.3) ** 2 + (config["y"] + 0.2) ** 2 + 1.0 / epoch
        send = secrets.randbits(48)  # exact as a float metric
        _log(f"sent {trial} {epoch} {send}")
        try:
            rung.report(epoch=epoch, loss=loss, send=float(send))
            _log(f"acked {trial} {epoch} {send}")
        except (rung.TrialPaused, rung.TrialStopped):
            _log(f"acked {trial} {epoch} {send}")
            raise
        finally:
            rung.save_checkpoint({"epoch": epoch})
