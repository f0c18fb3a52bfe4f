"""``rung show`` of a large experiment lists the best trials only, and says so."""

import subprocess
import sys

import rung
from rung.cli._inspect import SHOW_ALL_UP_TO, SHOW_BEST


def loss(config):
    return (config["x"] - 0.25) ** 2


def show(store, *extra):
    out = subprocess.run([sys.executable, "-m", "rung.cli", "show", "big", "--storage", str(store), *extra],
                         capture_output=True, text=True, timeout=120, env={"COLUMNS": "120", "PATH": ""})
    assert out.returncode == 0, out.stderr
    return out.stdout


def trial_rows(text):
    return [line for line in text.splitlines() if line.startswith("│") and "completed" in line]


def test_show_lists_the_best_trials_beyond_the_limit_and_top_still_decides(tmp_path):
    store = tmp_path / "s.db"
    n = SHOW_ALL_UP_TO + 1
    rung.Tuner(loss, {"x": rung.uniform(0, 1)}, metric="loss", searcher="random", max_trials=n, seed=0,
               backend="inprocess", storage=store, experiment="big", verbose=0).run()
    text = show(store)
    assert len(trial_rows(text)) == SHOW_BEST
    assert f"{n:,} trials: the best {SHOW_BEST} shown" in text
    best = rung.load("big", storage=store).best_trial
    assert trial_rows(text)[0].split("│")[1].strip() == str(best.trial_id)  # best first
    text = show(store, "--top", "7")
    assert len(trial_rows(text)) == 7 and "shown;" not in text
