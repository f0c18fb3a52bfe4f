"""SIGKILLs of the tuner at many moments of a run: after resume nothing is lost or duplicated,
and the later decisions are the ones an uninterrupted run makes.

Each test runs the tuner a dozen times in a subprocess (tests/tuner_script.py), which is why
they live in the chaos suite rather than in ``make test``.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS))

from store_log import decisions, reports_in_store  # noqa: E402


KILL_AFTER_REPORTS = [0, 1, 3, 6, 10, 15, 21, 27, 33, 39, 44]


def test_resume_after_sigkill_at_many_moments_loses_and_duplicates_nothing(tmp_path):
    sys.path.insert(0, str(TESTS))
    from tuner_script import make_tuner

    reference = make_tuner(f"sqlite:///{tmp_path / 'ref.db'}", "reference", tmp_path / "ref").run()
    ref = reference.trials.set_index("trial_id")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    for moment in KILL_AFTER_REPORTS:
        url = f"sqlite:///{tmp_path / f'kill{moment}.db'}"
        name = f"killed-after-{moment}"
        workdir = tmp_path / f"w{moment}"
        process = subprocess.Popen([sys.executable, str(TESTS / "tuner_script.py"), url, name, str(workdir)], env=env)
        deadline = time.monotonic() + 60
        while len(reports_in_store(url, name)) < moment and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        before = {(r.trial_id, r.step, r.metrics["epoch"]) for r in reports_in_store(url, name)}
        assert len(before) >= moment
        resumed = make_tuner(url, name, workdir, resume=True).run()
        trials = resumed.trials.set_index("trial_id")
        assert list(trials.index) == list(range(12)), moment
        assert set(trials["status"]) == {"completed"}, moment
        pd.testing.assert_series_equal(trials["config/x"], ref["config/x"], check_names=False)
        pd.testing.assert_series_equal(trials["config/units"], ref["config/units"], check_names=False)
        pd.testing.assert_series_equal(trials["loss"], ref["loss"], check_names=False)
        after = {(r.trial_id, r.step, r.metrics["epoch"]) for r in reports_in_store(url, name)}
        assert before <= after, moment
        # Every epoch of every trial was reported (an epoch cut short by the kill is redone)
        # and each trial's last report is its final epoch.
        reports = resumed.reports
        for trial_id, group in reports.groupby("trial_id"):
            assert set(group["epoch"]) == {1, 2, 3, 4}, (moment, trial_id)
            assert group["epoch"].iloc[-1] == 4, (moment, trial_id)


@pytest.mark.parametrize("scheduler", ["sh", "asha-promotion"])
def test_resume_after_sigkill_mid_bracket_makes_the_same_laterdecisions(scheduler, tmp_path):
    sys.path.insert(0, str(TESTS))
    from tuner_script import make_tuner

    reference_url = f"sqlite:///{tmp_path / 'ref.db'}"
    make_tuner(reference_url, "reference", tmp_path / "ref", scheduler=scheduler).run()
    reference_actions, reference_outcomes = decisions(reference_url, "reference")
    assert "pause" in set(reference_actions.values())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    for moment in (4, 9, 12, 17, 23, 30):
        url = f"sqlite:///{tmp_path / f'kill{moment}.db'}"
        name, workdir = f"killed-{moment}", tmp_path / f"w{moment}"
        process = subprocess.Popen(
            [sys.executable, str(TESTS / "tuner_script.py"), url, name, str(workdir), scheduler], env=env)
        deadline = time.monotonic() + 60
        while len(reports_in_store(url, name)) < moment and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert len(reports_in_store(url, name)) >= moment
        make_tuner(url, name, workdir, resume=True, scheduler=scheduler).run()
        actions, outcomes = decisions(url, name)
        assert actions == reference_actions, moment
        assert outcomes == reference_outcomes, moment
