"""Every scheduler, run end to end through rung.Tuner, obeys the same rules.

The objective reports ``epoch=1..9`` with a loss that decays with the epoch and keeps a
checkpoint, so a paused trial resumed later continues where it stopped. For each scheduler
and searcher we check that no trial is left running, that no more than ``n_workers``
trials ever run at once (from the stored start / resume / end events), that every
non-continue decision is stored with its reason and details, and that schedulers that stop
or pause trials spend fewer epochs than FIFO on the same configs.
"""

import json
from dataclasses import asdict

import pytest

import rung
from rung.schedulers import ASHA, FIFO, Bandit, Hyperband, MedianStopping, SuccessiveHalving, Truncation
from rung.searchers import Grid, Random
from rung.storage import SQLStorage
from rung.testing.schedulers import SCHEDULER_CHECKS, check_scheduler

EPOCHS = 9
N_TRIALS = 12
SPACE = {"x": rung.choice([round(0.1 * i, 1) for i in range(N_TRIALS)])}


def decaying(config):
    """Loss x + 1/epoch for epochs 1..9; saves the epoch before each report."""
    state = rung.checkpoint_dir() / "epoch.json"
    done = json.loads(state.read_text()) if state.exists() else 0
    for epoch in range(done + 1, EPOCHS + 1):
        state.write_text(json.dumps(epoch))
        rung.report(epoch=epoch, loss=config["x"] + 1.0 / epoch)


SCHEDULERS = {
    "fifo": FIFO,
    "successive_halving": lambda: SuccessiveHalving(max_resource=EPOCHS),
    "asha": lambda: ASHA(max_resource=EPOCHS),
    "asha_promotion": lambda: ASHA(max_resource=EPOCHS, type="promotion"),
    "hyperband": lambda: Hyperband(max_resource=EPOCHS),
    "hyperband_stopping": lambda: Hyperband(max_resource=EPOCHS, type="stopping", seed=0),
    "hyperband_promotion": lambda: Hyperband(max_resource=EPOCHS, type="promotion", seed=0),
    "median": MedianStopping,
    "bandit": lambda: Bandit(slack_factor=0.5),
    "truncation": lambda: Truncation(truncation_percentage=50),
}
#: Checks a built-in scheduler is exempt from, and why.
EXEMPT = {
    # A relative slack is a different rule on negated values: best*(1+f) vs best/(1+f).
    "bandit": {"mode_symmetry"},
}
SEARCHERS = {
    "random": lambda: Random(SPACE, seed=3),
    "grid": lambda: Grid(SPACE, shuffle=True, seed=3),
}


def tune(tmp_path, scheduler, searcher, backend="inprocess", n_workers=1):
    db = tmp_path / "store.db"
    result = rung.Tuner(
        decaying, SPACE, metric="loss", searcher=SEARCHERS[searcher](), scheduler=SCHEDULERS[scheduler](),
        max_trials=N_TRIALS if searcher == "random" else None, backend=backend, n_workers=n_workers,
        verbose=0, storage=str(db), experiment="conformance", workdir=tmp_path / "work",
    ).run()
    store = SQLStorage(str(db))
    try:
        log = store.read_log(store.require_experiment("conformance").id)
    finally:
        store.dispose()
    reports, events = [asdict(row) for row in log.reports], [asdict(row) for row in log.events]
    return result, reports, events


def check_conformance(result, reports, events, n_workers, searcher):
    trials = result.trials
    assert len(trials) == N_TRIALS
    assert set(trials["status"]) <= {"completed", "stopped", "failed", "paused"}
    assert "failed" not in set(trials["status"]), trials[["trial_id", "status"]]
    # The scheduler saw the same configs as FIFO would: the searcher's first twelve.
    reference = SEARCHERS[searcher]()
    assert [t.config for t in result.trial_records] == [reference.suggest() for _ in range(N_TRIALS)]

    running, peak = 0, 0
    for event in events:
        if event["payload"].get("abandoned"):
            continue  # a paused trial given up on: it held no worker
        running += {"start": 1, "resume": 1, "restart": 1, "end": -1}[event["kind"]]
        assert running >= 0
        peak = max(peak, running)
    assert running == 0 and 1 <= peak <= n_workers

    last_decision = {}
    for row in reports:
        if row["action"] not in (None, "continue"):
            assert row["reason"], row
            assert {"rung", "value", "threshold", "compared_with"} <= set(row["details"]), row
            last_decision[row["trial_id"]] = row
    abandoned = {event["trial_id"] for event in events if event["payload"].get("abandoned")}
    for trial in result.trial_records:
        if trial.trial_id in abandoned:
            # Paused at a rung, then given up on: the pause is stored, the reason says why.
            assert trial.status.value == "stopped"
            assert last_decision[trial.trial_id]["action"] == "pause"
            assert trial.end_reason.startswith("not promoted")
        elif trial.status.value in ("stopped", "paused"):
            row = last_decision[trial.trial_id]
            assert row["action"] == {"stopped": "stop", "paused": "pause"}[trial.status.value]
            assert trial.end_reason == row["reason"]
        # Resumed trials continue from their checkpoint: epochs never repeat.
        epochs = [row["metrics"]["epoch"] for row in reports if row["trial_id"] == trial.trial_id]
        assert epochs == list(range(1, len(epochs) + 1))
    return len(reports), {row["action"] for row in reports}


@pytest.mark.parametrize("searcher", sorted(SEARCHERS))
@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_every_scheduler_in_process(tmp_path, scheduler, searcher):
    result, reports, events = tune(tmp_path, scheduler, searcher)
    epochs, actions = check_conformance(result, reports, events, 1, searcher)
    if scheduler == "fifo":
        assert epochs == N_TRIALS * EPOCHS and actions == {"continue"}
        return
    assert epochs < N_TRIALS * EPOCHS
    expected = "pause" if scheduler in ("successive_halving", "asha_promotion", "hyperband", "hyperband_promotion") else "stop"
    assert expected in actions
    if expected == "pause":
        assert any(event["kind"] == "resume" for event in events)
        # The loss ranks configs the same way at every epoch: the best one ran to the end.
        best_x = min(t.config["x"] for t in result.trial_records)
        assert result.best_value == pytest.approx(best_x + 1.0 / EPOCHS)


@pytest.mark.parametrize(
    "scheduler, searcher",
    [("successive_halving", "grid"), ("asha_promotion", "random"), ("median", "random")],
)
def test_schedulers_with_parallel_workers(tmp_path, scheduler, searcher):
    result, reports, events = tune(tmp_path, scheduler, searcher, backend="process", n_workers=2)
    epochs, _ = check_conformance(result, reports, events, 2, searcher)
    assert epochs < N_TRIALS * EPOCHS


@pytest.mark.parametrize("check_name, check", SCHEDULER_CHECKS, ids=[name for name, _ in SCHEDULER_CHECKS])
@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_every_scheduler_passes_the_shipped_suite(scheduler, check_name, check):
    if check_name in EXEMPT.get(scheduler, ()):
        with pytest.raises(AssertionError, match=check_name):
            check(SCHEDULERS[scheduler], max_resource=EPOCHS)
        return
    check(SCHEDULERS[scheduler], max_resource=EPOCHS)


def test_the_suite_runs_every_check_in_one_call():
    check_scheduler(lambda: ASHA(max_resource=EPOCHS, type="promotion", brackets=2), max_resource=EPOCHS)
    check_scheduler(lambda: Bandit(slack_amount=0.1), max_resource=EPOCHS)
    with pytest.raises(AssertionError, match="mode_symmetry"):
        check_scheduler(SCHEDULERS["bandit"], max_resource=EPOCHS)
    check_scheduler(SCHEDULERS["bandit"], max_resource=EPOCHS, skip=["mode_symmetry"])
    with pytest.raises(ValueError, match="unknown scheduler checks"):
        check_scheduler(FIFO, skip=["no_such_check"])
