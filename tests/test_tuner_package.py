"""The tuner's parts on their own: run state from the log, outcomes, budgets, callbacks,
the settings check on resume, and the public signature."""

import math

import pytest

import rung
from rung import Objective
from rung.backends import OutcomeKind, TrialOutcome
from rung.schedulers import ASHA, Decision
from rung.storage import MemoryStorage, StorageError, open_storage
from rung.trial import TrialStatus
from rung.tuner import Budgets, RunState
from rung.tuner._outcomes import PendingEnd, classify, returned_value

from tests.objectives import per_epoch, quadratic

SPACE = {"x": rung.uniform(-1, 1), "y": rung.uniform(-1, 1)}
EPOCH_SPACE = {**SPACE, "epochs": 9}


def _asha_run(storage, name="asha", **kwargs):
    scheduler = ASHA("epoch", min_resource=1, max_resource=9, reduction_factor=3, type="promotion")
    return rung.Tuner(per_epoch, EPOCH_SPACE, metric="loss", searcher="random", scheduler=scheduler,
                      max_trials=12, backend="inprocess", verbose=0, seed=3, storage=storage,
                      experiment=name, **kwargs).run()


def _as_tuples(state_or_result):
    trials = getattr(state_or_result, "trial_records", None)
    if trials is None:
        trials = list(state_or_result.trials.values())
    return [(t.trial_id, t.status, t.config, t.n_reports, t.metric_value, t.end_reason, t.n_starts)
            for t in sorted(trials, key=lambda t: t.trial_id)]


# -- the run state ---------------------------------------------------------------------------
def test_the_state_rebuilt_from_the_log_is_the_live_state():
    store = MemoryStorage()
    live = _asha_run(store)
    assert live.count("paused") + live.count("stopped") > 0  # the log has pauses and abandonments
    experiment = store.require_experiment("asha")
    state = RunState.from_log(Objective("loss", "min"), store.read_log(experiment.id))
    assert _as_tuples(state) == _as_tuples(live)
    assert [(r.trial_id, r.step, r.metrics) for r in state.reports] == \
        [(r.trial_id, r.step, r.metrics) for r in live.report_records]
    assert [(p.best_value, p.trial_id) for p in state.trajectory] == \
        [(p.best_value, p.trial_id) for p in live.trajectory_points]
    assert state.decision_rungs >= live.decision_rungs
    assert state.n_finished == sum(t.status.is_finished for t in live.trial_records)
    assert state.n_running == 0


def test_incremental_reads_give_the_same_state_as_one_whole_read():
    store = MemoryStorage()
    _asha_run(store)
    experiment_id = store.require_experiment("asha").id
    whole = RunState.from_log(Objective("loss"), store.read_log(experiment_id))
    # Replay the log in slices of 7 entries, as a live reader polling the store would see it.
    full = store.read_log(experiment_id)
    follower = RunState(Objective("loss"))
    rows = {row.trial_id: row for row in full.trials}
    entries = full.entries
    for start in range(0, len(entries), 7):
        chunk = entries[start:start + 7]
        touched = sorted({entry.trial_id for entry in chunk})
        from rung.storage import LogSlice

        follower.apply(LogSlice([rows[i] for i in touched], chunk, chunk[-1].seq))
    assert _as_tuples(follower) == _as_tuples(whole)
    assert [(p.best_value, p.trial_id) for p in follower.trajectory] == \
        [(p.best_value, p.trial_id) for p in whole.trajectory]
    assert follower.next_seq == whole.next_seq == full.last_seq + 1


def test_rung_load_matches_the_run():
    store = MemoryStorage()
    live = _asha_run(store)
    loaded = rung.load("asha", storage=store)
    assert _as_tuples(loaded) == _as_tuples(live)
    assert loaded.best_value == live.best_value and loaded.stop_reason == live.stop_reason


# -- outcomes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("value, status, reason", [
    (None, TrialStatus.FAILED, "the objective returned None and never reported metric 'loss'"),
    (0.5, TrialStatus.COMPLETED, None),
    ({"loss": 0.5, "acc": 1}, TrialStatus.COMPLETED, None),
    ({"acc": 1}, TrialStatus.FAILED, "the returned value has no metric 'loss' (got: acc)"),
    (math.nan, TrialStatus.FAILED, "the returned value: metric 'loss' is nan"),
    ("0.5", TrialStatus.FAILED, "the objective returned str '0.5'; return a number, a dict with 'loss', "
                                "or None after rung.report()"),
    (True, TrialStatus.FAILED, "the objective returned bool True; return a number, a dict with 'loss', "
                               "or None after rung.report()"),
])
def test_what_the_objective_returns_decides_its_status(value, status, reason):
    verdict = returned_value(value, metric="loss", reported=False)
    assert (verdict.status, verdict.reason) == (status, reason)


def test_the_tuner_s_own_knowledge_wins_over_the_backend_s_outcome():
    returned = TrialOutcome(OutcomeKind.RETURNED, value=1.0)
    kwargs = dict(metric="loss", reported=True, stop_message=None)
    assert classify(returned, PendingEnd(bad_metric="report 2 has no metric"), **kwargs).status is TrialStatus.FAILED
    killed = PendingEnd(kill=(TrialStatus.FAILED, "timed out"))
    assert classify(TrialOutcome(OutcomeKind.KILLED), killed, **kwargs).reason == "timed out"
    assert classify(TrialOutcome(OutcomeKind.KILLED), PendingEnd(), **kwargs).reason == "terminated"
    paused = PendingEnd(decision=Decision.pause("rung 3"))
    assert classify(TrialOutcome(OutcomeKind.STOPPED), paused, **kwargs).status is TrialStatus.PAUSED
    stopping = dict(kwargs, stop_message="experiment stopped: max_wallclock=1 s reached")
    verdict = classify(TrialOutcome(OutcomeKind.STOPPED), PendingEnd(), **stopping)
    assert (verdict.status, verdict.reason) == (TrialStatus.STOPPED, "experiment stopped: max_wallclock=1 s reached")
    failed = TrialOutcome(OutcomeKind.FAILED, error="ValueError: bad")
    assert classify(failed, paused, **kwargs).reason == "ValueError: bad"  # a crash beats the pause it was heading to


# -- budgets -----------------------------------------------------------------------------------
def test_budgets_name_the_limit_reached():
    budgets = Budgets.checked(max_trials=3, max_wallclock=10, metric_threshold=0.1, max_failures=2)
    assert budgets.allows_new_trial(2) and not budgets.allows_new_trial(3)
    assert budgets.wallclock_spent(9.99) is None and budgets.wallclock_spent(10) == "max_wallclock=10 s reached"
    assert budgets.threshold_reached(Objective("loss"), 0.1, 4) == "trial 4 reached loss=0.1 (threshold 0.1)"
    assert budgets.threshold_reached(Objective("acc", "max"), 0.1, 4) == "trial 4 reached acc=0.1 (threshold 0.1)"
    assert budgets.threshold_reached(Objective("acc", "max"), 0.05, 4) is None
    assert budgets.failures_spent(1) is None and budgets.failures_spent(2) == "max_failures=2 reached"
    assert budgets.end_of_search(2) == "search_exhausted" and budgets.end_of_search(3) == "max_trials"
    with pytest.raises(ValueError, match="max_failures must be a positive integer, got max_failures=0"):
        Budgets.checked(max_failures=0)
    with pytest.raises(ValueError, match="metric_threshold must be a number"):
        Budgets.checked(metric_threshold="low")


# -- callbacks ---------------------------------------------------------------------------------
class Recording(rung.Callback):
    def __init__(self):
        self.events = []

    def on_experiment_start(self, state):
        self.events.append(("experiment_start", len(state.trials)))

    def on_trial_start(self, state, trial, kind):
        self.events.append(("start", trial.trial_id, kind))

    def on_report(self, state, trial, report, decision):
        self.events.append(("report", trial.trial_id, report.step, decision.action.value))

    def on_trial_end(self, state, trial):
        self.events.append(("end", trial.trial_id, trial.status.value))
        if trial.status.value == "completed":  # the state already counts it and its value
            assert state.best_value is not None and state.best_value <= trial.metric_value

    def on_experiment_end(self, state, result):
        self.events.append(("experiment_end", result.stop_reason))


def test_callbacks_see_every_start_report_and_end_in_order():
    recording = Recording()
    result = _asha_run(":memory:", callbacks=[recording])
    events = recording.events
    assert events[0] == ("experiment_start", 0) and events[-1] == ("experiment_end", result.stop_reason)
    reports = [e for e in events if e[0] == "report"]
    assert len(reports) == sum(1 for r in result.report_records)
    assert [(e[1], e[2]) for e in reports] == [(r.trial_id, r.step) for r in result.report_records]
    for trial in result.trial_records:
        mine = [e for e in events if e[0] in ("start", "end") and e[1] == trial.trial_id]
        assert [e[0] for e in mine[:1]] == ["start"] and mine[0][2] == "start"
        assert mine[-1] == ("end", trial.trial_id, trial.status.value)
        assert sum(e[0] == "start" for e in mine) == trial.n_starts


def test_a_callback_must_be_a_callback():
    with pytest.raises(TypeError, match="rung.Callback instances"):
        rung.Tuner(quadratic, SPACE, metric="loss", max_trials=1, callbacks=[print])


# -- resume checks the settings ----------------------------------------------------------------
def test_resume_with_another_searcher_or_scheduler_is_refused_naming_the_change(tmp_path):
    url = tmp_path / "s.db"
    base = dict(metric="loss", max_trials=3, backend="inprocess", verbose=0, storage=url, experiment="e", seed=1)
    rung.Tuner(quadratic, SPACE, searcher="tpe", **base).run()
    with pytest.raises(StorageError, match=r"searcher TPE -> GP"):
        rung.Tuner(quadratic, SPACE, searcher="gp", resume=True, **base).run()
    rung.Tuner(per_epoch, EPOCH_SPACE, searcher="random", scheduler=ASHA("epoch", max_resource=9),
               **{**base, "experiment": "f"}).run()
    with pytest.raises(StorageError, match=r"scheduler ASHA.max_resource: 9 -> 27"):
        rung.Tuner(per_epoch, EPOCH_SPACE, searcher="random", scheduler=ASHA("epoch", max_resource=27),
                   resume=True, **{**base, "experiment": "f"}).run()
    with pytest.raises(StorageError, match="force_resume=True"):
        rung.Tuner(quadratic, SPACE, searcher="gp", resume=True, **base).run()
    result = rung.Tuner(quadratic, SPACE, searcher="random", resume=True, force_resume=True,
                        **{**base, "max_trials": 5}).run()
    assert len(result.trial_records) == 5
    # The same settings resume without a word.
    again = rung.Tuner(per_epoch, EPOCH_SPACE, searcher="random", scheduler=ASHA("epoch", max_resource=9),
                       resume=True, **{**base, "experiment": "f", "max_trials": 6}).run()
    assert len(again.trial_records) == 6


# -- the public signature ----------------------------------------------------------------------
def test_everything_after_objective_and_space_is_keyword_only():
    with pytest.raises(TypeError):
        rung.Tuner(quadratic, SPACE, "loss")  # type: ignore[misc]


def test_memory_storage_is_documented_and_keeps_nothing_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNG_HOME", str(tmp_path))
    result = rung.Tuner(quadratic, SPACE, metric="loss", max_trials=3, backend="inprocess", verbose=0,
                        storage=":memory:", workdir=tmp_path / "work").run()
    assert len(result.trial_records) == 3
    assert not (tmp_path / "rung.db").exists()
    assert isinstance(open_storage(":memory:"), MemoryStorage)


def test_from_spec_builds_the_tuner_a_spec_file_describes(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: from-spec\nmetric: loss\ntrial: {function: tests.objectives:quadratic}\n"
        "space:\n  x: {type: uniform, low: -1, high: 1}\n  y: {type: uniform, low: -1, high: 1}\n"
        "budget: {max_trials: 3}\nbackend: inprocess\n"
    )
    tuner = rung.Tuner.from_spec(spec, storage=":memory:", verbose=0)
    assert tuner.experiment == "from-spec" and tuner.spec["name"] == "from-spec"
    assert len(tuner.run().trial_records) == 3


def test_a_trial_timeout_the_backend_cannot_enforce_is_refused_when_the_tuner_is_built():
    with pytest.raises(ValueError, match="backend 'inprocess' cannot stop a running trial"):
        rung.Tuner(quadratic, SPACE, metric="loss", max_trials=2, backend="inprocess", trial_timeout=5)


def test_a_script_argument_too_long_to_be_a_path_is_kept_as_an_argument(tmp_path):
    script = rung.Script(["python", "-c", "print(1)", "x" * 300], base_dir=tmp_path)
    assert script.command[-1] == "x" * 300
