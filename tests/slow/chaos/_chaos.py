"""Helpers of the chaos suite: kill a tuner process at random moments until its experiment
is done, and check the store against the side log the trials wrote."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import rung
from rung.storage import open_storage

HERE = Path(__file__).resolve().parent
RUN_TIMEOUT = 180.0  # an uninterrupted run that takes longer than this is a hang


def environment(log_dir: Path, home: Path) -> dict[str, str]:
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "RUNG_CHAOS_LOG": str(log_dir), "RUNG_HOME": str(home)}


def start(url: str, name: str, workdir: Path, kind: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(HERE / "chaos_tuner.py"), url, name, str(workdir), kind],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_uninterrupted(url: str, name: str, workdir: Path, kind: str, env: dict[str, str]) -> None:
    process = start(url, name, workdir, kind, env)
    try:
        _, err = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"{kind}: the tuner hung (still running after {RUN_TIMEOUT:g} s)") from None
    assert process.returncode == 0, err


def run_with_kills(url: str, name: str, workdir: Path, kind: str, env: dict[str, str], rng: random.Random,
                   max_kills: int, delays: tuple[float, float] = (0.3, 3.0)) -> int:
    """Start (or resume) the run, SIGKILL it after a random delay, again and again (at most
    ``max_kills`` times), then let it finish; return how many kills landed mid-run.

    The first kill waits for a random number of stored reports, so it always lands mid-run;
    the later ones come after random delays (some during start-up, some while trials run).
    """
    kills = 0
    first = start(url, name, workdir, kind, env)
    wanted, deadline = rng.randint(1, 25), time.monotonic() + RUN_TIMEOUT
    while stored_reports(url, name) < wanted and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert first.poll() is None, f"{kind}: the run ended before {wanted} reports: {first.communicate()[1]}"
    first.send_signal(signal.SIGKILL)
    first.communicate()
    kills += 1
    while True:
        process = start(url, name, workdir, kind, env)
        if kills >= max_kills:
            try:
                _, err = process.communicate(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                raise AssertionError(f"{kind}: the resumed tuner hung (after {kills} kills)") from None
            assert process.returncode == 0, f"{kind}: the run after {kills} kills failed:\n{err}"
            return kills
        try:
            _, err = process.communicate(timeout=rng.uniform(*delays))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.communicate()
            kills += 1
            continue
        assert process.returncode == 0, f"{kind}: the run after {kills} kills failed:\n{err}"
        return kills


def stored_reports(url: str, name: str) -> int:
    store = open_storage(url)
    try:
        experiment = store.get_experiment(name)
        return 0 if experiment is None else len(store.read_log(experiment.id).reports)
    except Exception:  # the schema may not exist yet
        return 0
    finally:
        store.dispose()


@dataclass
class SideLog:
    sent: Counter[int] = field(default_factory=Counter)
    acked: Counter[int] = field(default_factory=Counter)

    @classmethod
    def read(cls, log_dir: Path) -> "SideLog":
        log = cls()
        for path in log_dir.glob("*.log"):
            for line in path.read_text().splitlines():
                what, _trial, _epoch, send = line.split()
                (log.sent if what == "sent" else log.acked)[int(send)] += 1
        return log


@dataclass
class Check:
    """What the store holds against what the trials saw."""

    acked: int
    stored: int
    lost: int  # acknowledged but not in the store
    duplicates: int  # stored more than once
    phantoms: int  # stored but never sent
    trials: int


def check_store(url: str, name: str, log_dir: Path, max_trials: int) -> Check:
    store = open_storage(url)
    try:
        experiment = store.require_experiment(name)
        log = store.read_log(experiment.id)
        status = store.get_experiment(name).status
    finally:
        store.dispose()
    side = SideLog.read(log_dir)
    stored = Counter(int(report.metrics["send"]) for report in log.reports)
    lost = sum(count for send, count in side.acked.items() if stored[send] < 1)
    duplicates = sum(count - 1 for count in stored.values() if count > 1)
    phantoms = sum(1 for send in stored if send not in side.sent)
    assert status == "finished", status
    trial_ids = sorted(trial.trial_id for trial in log.trials)
    assert trial_ids == list(range(max_trials)), trial_ids
    assert all(trial.status in ("completed", "stopped", "paused") for trial in log.trials), \
        [(trial.trial_id, trial.status) for trial in log.trials]
    # No epoch skipped: each trial's reports cover 1..last without a gap (a stale writer of a
    # checkpoint would make a restarted trial skip epochs).
    epochs: dict[int, set[int]] = {}
    for report in log.reports:
        epochs.setdefault(report.trial_id, set()).add(int(report.metrics["epoch"]))
    for trial_id, seen in epochs.items():
        assert seen == set(range(1, max(seen) + 1)), (trial_id, sorted(seen))
    return Check(acked=sum(side.acked.values()), stored=len(log.reports), lost=lost, duplicates=duplicates,
                 phantoms=phantoms, trials=len(log.trials))


def decisions(url: str, name: str) -> tuple[dict[tuple[int, int], str], dict[int, tuple]]:
    """The scheduler's decision for each (trial, epoch) (the first answer: an epoch redone
    after a kill may be answered again), and each trial's config, status, reason and value."""
    store = open_storage(url)
    try:
        log = store.read_log(store.require_experiment(name).id)
    finally:
        store.dispose()
    actions: dict[tuple[int, int], str] = {}
    for report in log.reports:
        actions.setdefault((report.trial_id, int(report.metrics["epoch"])), report.action)
    outcomes = {trial.trial_id: (sorted(trial.config.items()), trial.status, trial.end_reason,
                                 trial.metric_value) for trial in log.trials}
    return actions, outcomes


def loaded(url: str, name: str) -> rung.TuningResult:
    return rung.load(name, url)
