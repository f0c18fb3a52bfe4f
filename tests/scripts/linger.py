"""Starts a grandchild (pid in $RUNG_TRIAL_DIR/grandchild.pid), reports with rung.report
until stopped, and records that its cleanup ran."""

import subprocess
import time

import rung

child = subprocess.Popen(["sleep", "100"])
(rung.trial_dir() / "grandchild.pid").write_text(str(child.pid))
try:
    for step in range(1, 1000):
        rung.report(step=step, loss=1.0 / step)
        time.sleep(0.02)
finally:
    time.sleep(0.3)  # a cleanup that takes a moment: rung must wait for it before SIGTERM
    (rung.trial_dir() / "cleaned_up.txt").write_text("yes")
