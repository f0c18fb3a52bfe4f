"""Synthetic experiments of a chosen size for the dashboard benchmark: the same trials written
to a rung store (through its recorder, as a tuner writes them) and to an Optuna study (through
Optuna's SQLite storage), so both dashboards are measured on the same data.

Each trial has three hyperparameters, reports ``loss`` at epochs 1..10 with the decision a
rung-level scheduler would record (rung levels 1, 3, 9), and ends completed, stopped or
failed (with a traceback). Values are drawn from a seeded generator.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from rung.storage import EventRecord, ReportRecord, Storage
from rung.trial._record import Trial, TrialStatus

RUNGS = (1, 3, 9)
EPOCHS = 10


@dataclass
class SyntheticTrial:
    trial_id: int
    config: dict[str, float | int | str]
    losses: list[float]
    status: str
    start: float
    step_time: float


def synthetic_trials(n_trials: int, seed: int = 0, n_workers: int = 8) -> Iterator[SyntheticTrial]:
    """``n_trials`` trials, each with ``EPOCHS`` losses, started back to back on ``n_workers``."""
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-4, -1, n_trials)
    width = rng.integers(16, 512, n_trials)
    act = rng.choice(["relu", "tanh", "gelu"], n_trials)
    outcome = rng.uniform(size=n_trials)
    free_at = np.zeros(n_workers)
    for i in range(n_trials):
        worker = int(np.argmin(free_at))
        start = float(free_at[worker])
        base = 0.2 + (math.log10(lr[i]) + 2.5) ** 2 * 0.1 + 30.0 / width[i]
        losses = [float(base + 2.0 / (epoch + 1) + rng.normal(0, 0.01)) for epoch in range(1, EPOCHS + 1)]
        status = "failed" if outcome[i] < 0.03 else "stopped" if outcome[i] < 0.2 else "completed"
        step_time = float(rng.uniform(0.5, 1.5))
        free_at[worker] = start + step_time * EPOCHS
        yield SyntheticTrial(i, {"lr": float(lr[i]), "width": int(width[i]), "act": str(act[i])},
                             losses, status, start, step_time)


def write_rung(store: Storage, name: str, n_trials: int, seed: int = 0, flush_every: int = 2000) -> int:
    """Write the experiment through the store's recorder; returns its id."""
    space = {"lr": {"type": "loguniform", "low": 1e-4, "high": 0.1},
             "width": {"type": "randint", "low": 16, "high": 512},
             "act": {"type": "choice", "values": ["relu", "tanh", "gelu"]}}
    experiment_id = store.create_experiment(
        name, metric="loss", mode="min", seed=seed, space=space,
        settings={"searcher": "Random", "scheduler": "ASHA", "scheduler_params": {"resource_attr": "epoch"}},
    )
    store.claim(experiment_id)
    recorder = store.recorder(experiment_id)
    seq = 0
    end_time = 0.0
    for number, synthetic in enumerate(synthetic_trials(n_trials, seed)):
        trial = Trial(trial_id=synthetic.trial_id, config=synthetic.config, created_at=synthetic.start)
        trial.started_at = synthetic.start
        trial.n_starts = 1
        recorder.append(EventRecord(seq, "start", trial.trial_id, synthetic.start, {"resource": None}))
        seq += 1
        now = synthetic.start
        for epoch, loss in enumerate(synthetic.losses, start=1):
            now += synthetic.step_time
            last = epoch == EPOCHS
            if epoch in RUNGS:
                action, reason, details = "continue", f"in the top third at rung {epoch}", {"rung": epoch}
            else:
                action, reason, details = "continue", "", {}
            if last and synthetic.status == "stopped":
                action, reason, details = "stop", "not in the top third at rung 10", {"rung": 10}
            metrics = {"loss": loss, "epoch": epoch}
            recorder.append(ReportRecord(seq, trial.trial_id, epoch, now, metrics, action, reason, details))
            seq += 1
            trial.n_reports = epoch
            trial.last_metrics = metrics
            trial.metric_value = loss
        trial.status = TrialStatus(synthetic.status)
        trial.ended_at = now
        trial.run_time = now - synthetic.start
        if synthetic.status == "failed":
            trial.error = "RuntimeError: diverged"
            trial.traceback = "Traceback (most recent call last):\n  File \"train.py\", line 3\nRuntimeError: diverged\n"
        elif synthetic.status == "stopped":
            trial.end_reason = "not in the top third at rung 10"
        recorder.append(EventRecord(seq, "end", trial.trial_id, now, {"status": synthetic.status}))
        seq += 1
        recorder.save_trial(trial)
        end_time = max(end_time, now)
        if number % flush_every == flush_every - 1:
            recorder.flush()
    recorder.close()
    store.finish(experiment_id, status="finished", stop_reason="max_trials", elapsed=end_time, decision_time=0.0)
    return experiment_id


def write_optuna(url: str, name: str, n_trials: int, seed: int = 0) -> None:
    """The same trials as an Optuna study in ``url`` (an Optuna RDB storage)."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize")
    distributions = {"lr": FloatDistribution(1e-4, 0.1, log=True), "width": IntDistribution(16, 512),
                     "act": CategoricalDistribution(["relu", "tanh", "gelu"])}
    states = {"completed": TrialState.COMPLETE, "stopped": TrialState.PRUNED, "failed": TrialState.FAIL}
    batch = []
    for synthetic in synthetic_trials(n_trials, seed):
        state = states[synthetic.status]
        batch.append(create_trial(
            params=dict(synthetic.config), distributions=distributions,
            value=synthetic.losses[-1] if state is TrialState.COMPLETE else None,
            intermediate_values={epoch: loss for epoch, loss in enumerate(synthetic.losses, start=1)},
            state=state,
        ))
        if len(batch) >= 1000:
            study.add_trials(batch)
            batch = []
    if batch:
        study.add_trials(batch)


def write_optuna_bulk(url: str, name: str, n_trials: int, seed: int = 0) -> None:
    """The same trials as :func:`write_optuna`, written faster: Optuna creates the storage
    and the study, then the trial rows go into its tables in one transaction, in the
    shapes Optuna itself writes (``add_trials`` commits trial by trial: 10,000 trials took
    9.5 minutes here). :func:`check_optuna` reads them back through Optuna."""
    import json
    import sqlite3
    from datetime import datetime

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name=name, storage=url, direction="minimize")
    path = url[len("sqlite:///"):]
    connection = sqlite3.connect(path)
    study_id = connection.execute("SELECT study_id FROM studies WHERE study_name = ?", (name,)).fetchone()[0]
    distributions = {
        "lr": json.dumps({"name": "FloatDistribution", "attributes": {"step": None, "low": 0.0001, "high": 0.1, "log": True}}),
        "width": json.dumps({"name": "IntDistribution", "attributes": {"log": False, "step": 1, "low": 16, "high": 512}}),
        "act": json.dumps({"name": "CategoricalDistribution", "attributes": {"choices": ["relu", "tanh", "gelu"]}}),
    }
    choices = ["relu", "tanh", "gelu"]
    states = {"completed": "COMPLETE", "stopped": "PRUNED", "failed": "FAIL"}
    trials, params, values, intermediate = [], [], [], []
    now = datetime.now().isoformat(sep=" ")
    for synthetic in synthetic_trials(n_trials, seed):
        tid = synthetic.trial_id + 1
        trials.append((tid, synthetic.trial_id, study_id, states[synthetic.status], now, now))
        config = synthetic.config
        params += [(tid, "lr", float(config["lr"]), distributions["lr"]),
                   (tid, "width", float(config["width"]), distributions["width"]),
                   (tid, "act", float(choices.index(str(config["act"]))), distributions["act"])]
        if synthetic.status == "completed":
            values.append((tid, 0, synthetic.losses[-1], "FINITE"))
        intermediate += [(tid, epoch, loss, "FINITE") for epoch, loss in enumerate(synthetic.losses, start=1)]
    with connection:
        connection.executemany("INSERT INTO trials (trial_id, number, study_id, state, datetime_start, "
                               "datetime_complete) VALUES (?, ?, ?, ?, ?, ?)", trials)
        connection.executemany("INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) "
                               "VALUES (?, ?, ?, ?)", params)
        connection.executemany("INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, ?, ?, ?)",
                               values)
        connection.executemany("INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, "
                               "intermediate_value_type) VALUES (?, ?, ?, ?)", intermediate)
    connection.close()


def check_optuna(url: str, name: str, n_trials: int, seed: int = 0) -> None:
    """Optuna reads back exactly the synthetic trials (AssertionError otherwise)."""
    import optuna

    study = optuna.load_study(study_name=name, storage=url)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == n_trials, (len(trials), n_trials)
    for synthetic, trial in zip(synthetic_trials(n_trials, seed), trials):
        assert trial.number == synthetic.trial_id and trial.params == synthetic.config, (trial.params, synthetic.config)
        assert trial.intermediate_values == dict(enumerate(synthetic.losses, start=1))
        expected = synthetic.losses[-1] if synthetic.status == "completed" else None
        assert trial.value == expected and trial.state.name == {"completed": "COMPLETE", "stopped": "PRUNED",
                                                                 "failed": "FAIL"}[synthetic.status]
