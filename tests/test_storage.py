"""The durable store: record and reload, versions, resume after SIGKILL, warm start, concurrency."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import postgres
import pytest
import sqlalchemy as sa

import rung
from objectives import dies_at_first_pause, dies_at_first_stop, per_epoch, quadratic
from store_log import decisions
from rung.storage import ExperimentExists, SchemaVersionError, SQLStorage, StorageError, open_storage
from rung.storage import _schema as schema

TESTS = Path(__file__).resolve().parent
SPACE = {"x": rung.uniform(-1, 1), "y": rung.uniform(-1, 1)}
POSTGRES_URL = f"postgresql://postgres@127.0.0.1:5432/{os.environ.get('RUNG_TEST_PG_DB', 'test')}"


def postgres_available() -> bool:
    return postgres.unreachable_reason() is None


STORES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not postgres_available(), reason="no PostgreSQL"))]


def store_url(kind, tmp_path):
    return f"sqlite:///{tmp_path / 'store.db'}" if kind == "sqlite" else POSTGRES_URL


def unique(prefix="exp"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize("kind", STORES)
def test_load_returns_what_run_returned(kind, tmp_path):
    url = store_url(kind, tmp_path)
    name = unique()
    ran = rung.Tuner(per_epoch, {**SPACE, "epochs": 3}, metric="loss", max_trials=6, seed=2, backend="inprocess",
                     verbose=0, storage=url, experiment=name, workdir=tmp_path / "w").run()
    loaded = rung.load(name, storage=url)
    columns = ["trial_id", "status", "loss", "n_reports", "config/x", "config/y", "config/epochs"]
    pd.testing.assert_frame_equal(ran.trials[columns], loaded.trials[columns])
    pd.testing.assert_frame_equal(ran.reports[["trial_id", "step", "epoch", "loss"]],
                                  loaded.reports[["trial_id", "step", "epoch", "loss"]])
    assert loaded.best_config == ran.best_config
    assert loaded.best_value == ran.best_value
    assert list(loaded.trajectory["best_value"]) == list(ran.trajectory["best_value"])
    assert loaded.stop_reason == "max_trials"
    open_storage(url).delete_experiment(name)
    with pytest.raises(rung.storage.ExperimentNotFound, match=name):
        rung.load(name, storage=url)


def test_default_store_is_a_sqlite_file_under_rung_home(tmp_path):
    name = unique()
    rung.Tuner(quadratic, SPACE, metric="loss", max_trials=3, backend="inprocess", verbose=0, experiment=name).run()
    assert (Path(os.environ["RUNG_HOME"]) / "rung.db").exists()
    assert len(rung.load(name).trials) == 3


def test_failures_are_stored_with_reason_and_traceback(tmp_path):
    def objective(config):
        raise ValueError("no good")

    url = tmp_path / "s.db"
    rung.Tuner(objective, SPACE, metric="loss", max_trials=2, backend="inprocess", verbose=0,
               storage=url, experiment="fails").run()
    trial = rung.load("fails", url).trial(0)
    assert trial.status.value == "failed"
    assert trial.error == "ValueError: no good"
    assert "Traceback" in trial.traceback


def test_every_report_stores_the_decision_taken():
    class StopSecond(rung.schedulers.FIFO):
        def on_report(self, trial, metrics):
            if metrics["epoch"] == 2:
                return rung.schedulers.Decision.stop("too slow", rung=2, value=metrics["loss"], threshold=0.1)
            return super().on_report(trial, metrics)

    store = open_storage(":memory:")
    rung.Tuner(per_epoch, {**SPACE, "epochs": 4}, metric="loss", max_trials=2, scheduler=StopSecond(),
               backend="inprocess", verbose=0, storage=store, experiment="decisions").run()
    reports = store.read_log(store.require_experiment("decisions").id).reports
    assert [(r.trial_id, r.step, r.action) for r in reports] == [
        (0, 1, "continue"), (0, 2, "stop"), (1, 1, "continue"), (1, 2, "stop")]
    assert reports[1].reason == "too slow"
    assert reports[1].details["threshold"] == 0.1


def test_an_existing_name_needs_resume(tmp_path):
    url = tmp_path / "s.db"
    rung.Tuner(quadratic, SPACE, metric="loss", max_trials=2, backend="inprocess", verbose=0, storage=url,
               experiment="twice").run()
    with pytest.raises(ExperimentExists, match="resume=True"):
        rung.Tuner(quadratic, SPACE, metric="loss", max_trials=2, backend="inprocess", verbose=0, storage=url,
                   experiment="twice").run()
    with pytest.raises(StorageError, match="different space"):
        rung.Tuner(quadratic, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=2, backend="inprocess",
                   verbose=0, storage=url, experiment="twice", resume=True).run()


def test_resume_after_a_finished_run_continues_with_the_same_random_stream(tmp_path):
    url = tmp_path / "s.db"

    def run(name, max_trials, resume=False):
        return rung.Tuner(quadratic, SPACE, metric="loss", max_trials=max_trials, seed=11, backend="inprocess",
                          verbose=0, storage=url, experiment=name, resume=resume).run()

    reference = run("straight", 10)
    run("in-two-parts", 4)
    resumed = run("in-two-parts", 10, resume=True)
    pd.testing.assert_frame_equal(reference.trials[["trial_id", "config/x", "config/y", "loss"]],
                                  resumed.trials[["trial_id", "config/x", "config/y", "loss"]])


def test_schema_version_mismatch_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    SQLStorage(url).dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.update(schema.meta).where(schema.meta.c.key == "schema_version").values(value="999"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="schema version 999"):
        SQLStorage(url)


def test_warm_start_feeds_fitting_trials_and_reports_the_rest(tmp_path):
    url = tmp_path / "s.db"
    old_space = {"x": rung.uniform(-2, 2), "y": rung.uniform(-1, 1), "dropout": rung.uniform(0, 0.5)}
    rung.Tuner(lambda c: c["x"] ** 2, old_space, metric="loss", max_trials=20, seed=0, backend="inprocess",
               verbose=0, storage=url, experiment="old").run()
    old_trials = rung.load("old", url).trials
    fitting = int(((old_trials["config/x"] >= -1) & (old_trials["config/x"] <= 1)).sum())

    class Recording(rung.searchers.Random):
        seen = []

        def observe(self, config, metrics):
            Recording.seen.append(config)

    result = rung.Tuner(lambda c: c["x"] ** 2, SPACE, metric="loss", max_trials=2, seed=0, backend="inprocess",
                        searcher=Recording, verbose=0, storage=url, experiment="new", warm_start="old").run()
    summary = result.warm_start
    assert summary["used"] == fitting
    assert len(summary["dropped"]) == 20 - fitting
    assert all("'x'" in item["reason"] for item in summary["dropped"])
    assert summary["removed_parameters"] == {"old": ["dropout"]}
    warm = Recording.seen[:fitting]
    assert all(set(config) == {"x", "y"} and -1 <= config["x"] <= 1 for config in warm)
    assert len(result.trials) == 2  # warm-start trials are not trials of the new experiment


@pytest.mark.parametrize("kind", STORES)
def test_several_tuner_processes_share_one_store(kind, tmp_path):
    url = store_url(kind, tmp_path)
    names = [unique("parallel") for _ in range(3)]
    script = (
        "import sys, rung\n"
        "from objectives import per_epoch\n"
        "rung.Tuner(per_epoch, {'x': rung.uniform(-1, 1), 'y': rung.uniform(-1, 1), 'epochs': 5}, metric='loss',\n"
        "           max_trials=40, seed=0, backend='inprocess', verbose=0, storage=sys.argv[1],\n"
        "           experiment=sys.argv[2], workdir=sys.argv[3]).run()\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    processes = [subprocess.Popen([sys.executable, "-c", script, url, name, str(tmp_path / name)], env=env)
                 for name in names]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0]
    store = open_storage(url)
    for name in names:
        result = rung.load(name, store)
        assert len(result.trials) == 40
        assert set(result.trials["status"]) == {"completed"}
        assert len(result.reports) == 200
        store.delete_experiment(name)


def test_resuming_with_an_unseeded_searcher_warns_that_decisions_may_differ(tmp_path):
    url = tmp_path / "s.db"
    rung.Tuner(quadratic, SPACE, metric="loss", max_trials=3, seed=None, backend="inprocess", verbose=0,
               storage=url, experiment="unseeded").run()
    with pytest.warns(RuntimeWarning, match="deterministic under its seed"):
        resumed = rung.Tuner(quadratic, SPACE, metric="loss", max_trials=5, seed=None, backend="inprocess",
                             verbose=0, storage=url, experiment="unseeded", resume=True).run()
    assert len(resumed.trials) == 5


DYING = {"pause": dies_at_first_pause, "stop": dies_at_first_stop}


@pytest.mark.parametrize("decision", list(DYING))
@pytest.mark.parametrize("scheduler", ["sh", "asha-promotion"])
def test_a_decision_committed_but_not_carried_out_still_stands_after_resume(scheduler, decision, tmp_path,
                                                                             monkeypatch):
    """The tuner dies right after committing the first PAUSE (or STOP) and before carrying it
    out; on resume the decision stands. A STOP for reaching max_resource completes the trial
    (it was once recorded as stopped, with the completion's reason)."""
    sys.path.insert(0, str(TESTS))
    from tuner_script import make_tuner

    reference_url = f"sqlite:///{tmp_path / 'ref.db'}"
    make_tuner(reference_url, "reference", tmp_path / "ref", scheduler=scheduler).run()
    reference = decisions(reference_url, "reference")
    url = f"sqlite:///{tmp_path / 'died.db'}"
    env = {**os.environ, "RUNG_TEST_MARKER": str(tmp_path / "marker"),
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(TESTS / "tuner_script.py"), url, "died", str(tmp_path / "w"),
                           scheduler, f"die-at-{decision}"], env=env, timeout=120)
    assert done.returncode == 137 and (tmp_path / "marker").exists()
    actions, _ = decisions(url, "died")
    assert decision in actions.values()  # the decision was committed before the process died
    monkeypatch.setenv("RUNG_TEST_MARKER", str(tmp_path / "marker"))
    make_tuner(url, "died", tmp_path / "w", resume=True, scheduler=scheduler, objective=DYING[decision]).run()
    assert decisions(url, "died") == reference
    if decision == "stop":
        assert "completed" in {status for status, _ in reference[1].values()}
