"""SIGKILL of the tuner at random moments, then resume, until the experiment is done.

Issue 12: nothing acknowledged is lost, nothing is stored twice, no trial is duplicated or
skips an epoch, no run hangs, and a seeded one-worker run killed many times makes exactly
the decisions of the same run left alone. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import random

import pytest

from _chaos import check_store, decisions, environment, run_uninterrupted, run_with_kills
from chaos_tuner import KINDS
from conftest import FIGURES
from postgres import URL as PG_URL, unreachable_reason

STORES = ["sqlite", "postgresql"]


def store_url(kind: str, tmp_path) -> str:
    if kind == "postgresql":
        reason = unreachable_reason()
        if reason:
            pytest.skip(reason)
        return PG_URL
    return f"sqlite:///{tmp_path / 'chaos.db'}"


def record(check, kills: int, store: str) -> None:
    FIGURES["tuner SIGKILLs mid-run"] += kills
    FIGURES[f"tuner SIGKILLs mid-run ({store})"] += kills
    FIGURES["reports acknowledged to trials"] += check.acked
    FIGURES["acknowledged reports lost"] += check.lost
    FIGURES["reports stored twice"] += check.duplicates
    FIGURES["reports stored but never sent"] += check.phantoms


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("kind", ["tpe-asha-2w", "random-hyperband-2w"])
@pytest.mark.parametrize("round_seed", [1, 2, 3])
def test_random_kills_lose_and_duplicate_nothing(store, kind, round_seed, tmp_path):
    url = store_url(store, tmp_path)
    name = f"chaos-{kind}-{round_seed}-{tmp_path.name}"[:200]
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    env = environment(log_dir, tmp_path / "home")
    rng = random.Random(f"{kind}-{round_seed}")
    kills = run_with_kills(url, name, tmp_path / "work", kind, env, rng, max_kills=6)
    check = check_store(url, name, log_dir, KINDS[kind][3])
    record(check, kills, store)
    assert kills >= 1, "every kill came too late: the delays must be shorter than a run"
    assert check.lost == 0 and check.duplicates == 0 and check.phantoms == 0, check


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("kind", ["tpe-asha-promotion-1w", "gp-fifo-1w"])
def test_a_seeded_one_worker_run_killed_many_times_equals_the_run_left_alone(store, kind, tmp_path):
    url = store_url(store, tmp_path)
    reference, killed = (f"{role}-{kind}-{tmp_path.name}"[:200] for role in ("reference", "killed"))
    reference_log, killed_log = tmp_path / "reference-log", tmp_path / "killed-log"
    reference_log.mkdir()
    killed_log.mkdir()
    run_uninterrupted(url, reference, tmp_path / "reference", kind, environment(reference_log, tmp_path / "home"))
    kills = run_with_kills(url, killed, tmp_path / "killed", kind, environment(killed_log, tmp_path / "home"),
                           random.Random(kind), max_kills=8)
    check = check_store(url, killed, killed_log, KINDS[kind][3])
    record(check, kills, store)
    assert kills >= 1
    assert check.lost == 0 and check.duplicates == 0 and check.phantoms == 0, check
    reference_actions, reference_outcomes = decisions(url, reference)
    actions, outcomes = decisions(url, killed)
    assert actions == reference_actions
    assert outcomes == reference_outcomes
    FIGURES["one-worker runs identical to the uninterrupted run"] += 1
