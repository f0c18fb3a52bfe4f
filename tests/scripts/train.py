"""A Python training script for rung.script tests: argparse flags (or --config), rung.report.

Writes what it received to args.json in its trial directory and keeps its step in the
checkpoint directory, so a paused trial resumes where it left off.
"""

import argparse
import json
import os
from pathlib import Path

import rung

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, default=0.0)
parser.add_argument("--text", default="")
parser.add_argument("--dash", default="")
parser.add_argument("--flag", default="")
parser.add_argument("--layers", default="[]")
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()

checkpoint = rung.checkpoint_dir() / "step.txt"
start = int(checkpoint.read_text()) if checkpoint.exists() else 0
fresh_work_dir = not Path("marker.txt").exists()
Path("marker.txt").write_text("written by an earlier start")
record = {
    "args": vars(args),
    "cwd": os.getcwd(),
    "fresh_work_dir": fresh_work_dir,
    "trial_dir": str(rung.trial_dir()),
    "checkpoint_dir": str(rung.checkpoint_dir()),
    "env": {name: value for name, value in os.environ.items() if name.startswith("RUNG_")},
}
with open(rung.trial_dir() / f"args_{start}.json", "w") as file:
    json.dump(record, file)
print(f"training with x={args.x}")
for step in range(start + 1, args.epochs + 1):
    checkpoint.write_text(str(step))
    rung.report(step=step, loss=(args.x - 0.3) ** 2 + 1 / step)
