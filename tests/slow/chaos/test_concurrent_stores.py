"""Several processes on one store at once (SQLite file and PostgreSQL).

Issue 12: four tuners on four experiments, a reader polling the store, a second tuner for
an experiment another process runs (refused, naming the owner), a stop request mid-run,
and two processes resuming the same killed experiment at the same moment (one wins, the
other is refused; nothing lost, nothing stored twice).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest

from _chaos import check_store, environment, run_with_kills, start, stored_reports
from chaos_tuner import KINDS
from conftest import FIGURES
from postgres import URL as PG_URL, unreachable_reason
from rung.storage import open_storage

STORES = ["sqlite", "postgresql"]

READER = """
import sys, time, rung
from rung.storage import open_storage
store = open_storage(sys.argv[1])
names, reads, deadline = sys.argv[2].split(","), 0, time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    listed = {summary.name for summary in store.list_experiments()}
    for name in names:
        if name in listed:
            rung.load(name, store)
            reads += 1
print(reads)
"""


def store_url(kind: str, tmp_path) -> str:
    if kind == "postgresql":
        reason = unreachable_reason()
        if reason:
            pytest.skip(reason)
        return PG_URL
    return f"sqlite:///{tmp_path / 'shared.db'}"


def wait_for_reports(url: str, name: str, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while stored_reports(url, name) < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, process.communicate()[1]


@pytest.mark.parametrize("store", STORES)
def test_four_tuners_a_reader_an_intruder_and_a_stop_share_one_store(store, tmp_path):
    url = store_url(store, tmp_path)
    kind = "tpe-asha-2w"
    names = [f"shared-{index}-{store}-{tmp_path.name}"[:200] for index in range(4)]
    logs = [tmp_path / f"log{index}" for index in range(4)]
    tuners = []
    for index, (name, log) in enumerate(zip(names, logs)):
        log.mkdir()
        # the last one is stopped through the store: a run it cannot finish before the stop comes
        # (24 trials took under 4 s, less than the intruder's check takes on a busy machine)
        run_kind = "tpe-asha-2w-long" if index == 3 else kind
        tuners.append(start(url, name, tmp_path / name, run_kind, environment(log, tmp_path / "home")))
    reader = subprocess.Popen([sys.executable, "-c", READER, url, ",".join(names), "8"],
                              env=environment(tmp_path, tmp_path / "home"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    wait_for_reports(url, names[0], 3, tuners[0])
    # A second process for an experiment the first one runs: refused before it touches it.
    intruder = start(url, names[0], tmp_path / "intruder", kind, environment(tmp_path / "log0", tmp_path / "home"))
    _, err = intruder.communicate(timeout=120)
    assert intruder.returncode != 0
    assert f"experiment {names[0]!r} is being run by process" in err, err
    # Stop one of them through the store, as `rung stop` does.
    wait_for_reports(url, names[3], 3, tuners[3])
    control = open_storage(url)
    try:
        control.request_stop(names[3])
    finally:
        control.dispose()
    for tuner in tuners:
        _, err = tuner.communicate(timeout=180)
        assert tuner.returncode == 0, err
    reads, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    assert int(reads) > 0
    for name, log in zip(names[:3], logs[:3]):
        check = check_store(url, name, log, KINDS[kind][3])
        assert check.lost == 0 and check.duplicates == 0 and check.phantoms == 0, check
        FIGURES["reports acknowledged to trials"] += check.acked
    final = open_storage(url)
    try:
        stopped = final.get_experiment(names[3])
        assert stopped.status == "finished" and stopped.stop_reason == "stop_requested", stopped
        stopped_log = final.read_log(stopped.id)
    finally:
        final.dispose()
    assert all(trial.status != "running" for trial in stopped_log.trials)
    FIGURES[f"processes sharing one store ({store})"] += 6


@pytest.mark.parametrize("store", STORES)
def test_two_processes_resuming_one_killed_experiment_at_once(store, tmp_path):
    url = store_url(store, tmp_path)
    kind = "tpe-asha-2w"
    name = f"race-{store}-{tmp_path.name}"[:200]
    log = tmp_path / "log"
    log.mkdir()
    env = environment(log, tmp_path / "home")
    first = start(url, name, tmp_path / "work", kind, env)
    wait_for_reports(url, name, 5, first)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    both = [start(url, name, tmp_path / "work", kind, env) for _ in range(2)]
    results = [process.communicate(timeout=180) for process in both]
    codes = sorted(process.returncode for process in both)
    assert codes[0] == 0 and codes[1] != 0, results
    loser = results[[process.returncode for process in both].index(codes[1])][1]
    assert f"experiment {name!r} is being run by process" in loser or "claimed at the same time" in loser, loser
    check = check_store(url, name, log, KINDS[kind][3])
    assert check.lost == 0 and check.duplicates == 0 and check.phantoms == 0, check
    FIGURES["simultaneous resumes of one killed experiment (one winner each)"] += 1


def test_a_run_killed_during_its_first_seconds_starts_cleanly(tmp_path):
    """Kills during start-up (imports, schema creation, the claim) leave a store that the
    next process opens and finishes: on a fresh SQLite file, twenty times."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    log = tmp_path / "log"
    log.mkdir()
    kills = run_with_kills(url, "startup", tmp_path / "work", "gp-fifo-1w", environment(log, tmp_path / "home"),
                           random.Random("startup"), max_kills=20, delays=(0.05, 1.2))
    check = check_store(url, "startup", log, KINDS["gp-fifo-1w"][3])
    assert check.lost == 0 and check.duplicates == 0 and check.phantoms == 0, check
    FIGURES["tuner SIGKILLs early in a run (start-up included)"] += kills
