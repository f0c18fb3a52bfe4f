"""The simulator backend: the real tuner loop on a virtual clock."""

from __future__ import annotations

import time

import pandas as pd
import pytest

import rung
from rung.backends._simulated import Simulated, SimulatedObjective, SimulatedProblem, simulated
from rung.backends._simulator import SimulatorBackend
from rung.schedulers import ASHA
from rung.searchers import Random
from rung.storage import SQLStorage


class Curve(SimulatedProblem):
    """A deterministic learning curve: ``loss = (x - 0.3)**2 + 1/epoch``.

    Epoch k takes ``seconds * (1 + x)`` (so trials finish out of order on several
    workers). Every call of ``steps`` is recorded as ``(x, start_step)``. With
    ``fail_above``, configs with x above it raise at epoch ``fail_at``.
    """

    def __init__(self, epochs: int = 9, seconds: float = 60.0, fail_above: float | None = None, fail_at: int = 2):
        self.epochs = epochs
        self.seconds = seconds
        self.fail_above = fail_above
        self.fail_at = fail_at
        self.calls: list[tuple[float, int]] = []

    def steps(self, config, start_step):
        self.calls.append((config["x"], start_step))
        for step in range(start_step, self.epochs):
            epoch = step + 1
            if self.fail_above is not None and config["x"] > self.fail_above and epoch == self.fail_at:
                raise ValueError(f"diverged at epoch {epoch}")
            yield self.seconds * (1 + config["x"]), {"epoch": epoch, "loss": (config["x"] - 0.3) ** 2 + 1.0 / epoch}


SPACE = {"x": rung.uniform(0, 1)}


def tune(objective, backend=None, space=SPACE, **options):
    """Run the tuner (simulated by default), quietly and in an in-memory store unless told."""
    options = {"metric": "loss", "storage": ":memory:", "verbose": 0, "seed": 7, **options}
    return rung.Tuner(objective, space, backend=backend or SimulatorBackend(), **options).run()


# -- the virtual timeline ----------------------------------------------------------------------
def test_four_workers_run_eight_ten_second_trials_in_twenty_virtual_seconds():
    result = tune(simulated(lambda config: (10.0, {"loss": config["x"]})), n_workers=4, max_trials=8)
    trials = result.trials
    assert list(trials.status) == ["completed"] * 8
    assert list(trials.started) == [0.0] * 4 + [10.0] * 4
    assert list(trials.ended) == [10.0] * 4 + [20.0] * 4
    assert list(trials.run_time) == [10.0] * 8
    assert result.wallclock == 20.0
    assert result.stop_reason == "max_trials"


def test_a_freed_worker_takes_the_next_trial_at_once():
    durations = [10, 30, 20, 40, 5, 15]
    result = tune(
        lambda config: (float(config["d"]), {"loss": float(config["d"])}),  # a plain function is wrapped
        space={"d": rung.choice(durations)}, searcher="grid", n_workers=4,
    )
    trials = result.trials.set_index("trial_id")
    assert list(trials.started) == [0, 0, 0, 0, 10, 15]  # trial 4 replaces trial 0, trial 5 trial 4
    assert list(trials.ended) == [10, 30, 20, 40, 15, 30]
    assert result.wallclock == 40.0
    assert result.trajectory.elapsed.tolist() == [10.0, 15.0]  # the incumbent, in virtual time


def test_a_thousand_simulated_hours_run_on_the_virtual_clock():
    # How little real time this takes is measured by benchmarks (RESULTS.md), not asserted here.
    problem = Curve(epochs=9, seconds=3600.0)
    result = tune(problem, n_workers=4, max_wallclock=1000 * 3600.0,
                  scheduler=ASHA(max_resource=9, reduction_factor=3, type="promotion"))
    assert result.wallclock == pytest.approx(1000 * 3600.0)
    assert result.stop_reason == "max_wallclock"
    assert result.trial_time > 3900 * 3600.0  # the four workers were busy nearly all the time
    assert len(result.trials) > 300


# -- the same decisions as a real run -----------------------------------------------------------
def _decisions(path, name):
    store = SQLStorage(f"sqlite:///{path}")
    log = store.read_log(store.require_experiment(name).id)
    store.dispose()
    return (
        [(t.trial_id, t.status, t.end_reason, t.error) for t in log.trials],
        [(r.trial_id, r.step, r.metrics, r.action, r.reason, r.details) for r in log.reports],
        [(e.trial_id, e.kind) for e in log.events],
    )


@pytest.mark.parametrize("kind", ["stopping", "promotion"])
def test_one_simulated_worker_makes_the_decisions_of_a_real_inprocess_run(tmp_path, kind):
    db = tmp_path / "runs.db"
    runs = {}
    for backend in (SimulatorBackend(n_workers=1), "inprocess"):
        problem = Curve(epochs=9, fail_above=0.8, fail_at=1)
        name = f"{kind}-{getattr(backend, 'name', backend)}"
        result = tune(
            simulated(problem), backend=backend, storage=str(db), experiment=name, max_trials=30,
            scheduler=ASHA(max_resource=9, reduction_factor=3, type=kind),
        )
        runs[backend if isinstance(backend, str) else "simulator"] = (result, problem.calls, _decisions(db, name))
    simulated_run, real_run = runs["simulator"], runs["inprocess"]
    assert simulated_run[2] == real_run[2]  # trials, every report with its decision, every start / end
    assert simulated_run[1] == real_run[1]  # resumed from the same steps
    columns = ["trial_id", "status", "loss", "n_reports", "end_reason", "error"]
    pd.testing.assert_frame_equal(simulated_run[0].trials[columns], real_run[0].trials[columns])
    actions = {row[3] for row in simulated_run[2][1]}
    assert {"continue", "pause" if kind == "promotion" else "stop"} <= actions
    assert "failed" in {row[1] for row in simulated_run[2][0]}


def test_paused_trials_resume_at_the_next_step():
    problem = Curve(epochs=9)
    result = tune(problem, n_workers=4, max_trials=27,
                  scheduler=ASHA(max_resource=9, reduction_factor=3, type="promotion"))
    reports = result.reports
    resumed = [t for t in result.trial_records if t.n_starts > 1]
    assert resumed, "ASHA promoted nobody"
    for trial in result.trial_records:
        epochs = reports[reports.trial_id == trial.trial_id].epoch.tolist()
        assert epochs == list(range(1, len(epochs) + 1))  # no epoch repeated or skipped
        times = reports[reports.trial_id == trial.trial_id].time.tolist()
        assert times == sorted(times)
    by_x = {t.config["x"]: t for t in result.trial_records}
    starts: dict[float, list[int]] = {}
    for x, start_step in problem.calls:
        starts.setdefault(x, []).append(start_step)
    for x, steps in starts.items():
        assert steps[0] == 0 and len(steps) == by_x[x].n_starts
        assert all(later in (1, 3) for later in steps[1:])  # rungs 1, 3 (and 9, the end)
    assert any(t.n_reports == 9 and t.status is rung.TrialStatus.COMPLETED for t in resumed)


# -- budgets in virtual seconds ------------------------------------------------------------------
def test_max_wallclock_stops_the_run_at_that_virtual_time():
    result = tune(Curve(epochs=10, seconds=10.0), n_workers=4, max_wallclock=555.0)
    assert result.wallclock == 555.0
    assert result.stop_reason == "max_wallclock"
    trials = result.trials
    stopped = trials[trials.status == "stopped"]
    assert len(stopped) == 4 and set(stopped.ended) == {555.0}
    assert (trials.ended <= 555.0).all()
    assert result.reports.time.max() <= 555.0


def test_trial_timeout_in_virtual_seconds_fails_a_long_trial():
    def problem(config):
        return (1000.0 if config["d"] == "long" else 10.0), {"loss": 1.0}

    result = tune(problem, space={"d": rung.choice(["short", "long", "short again"])}, searcher="grid",
                  n_workers=2, trial_timeout=100.0)
    trials = result.trials.set_index("trial_id")
    assert list(trials.status) == ["completed", "failed", "completed"]
    assert trials.loc[1, "ended"] == 100.0 and "timed out" in trials.loc[1, "error"]
    assert list(trials.ended) == [10.0, 100.0, 20.0]
    assert result.wallclock == 100.0


# -- decision time -----------------------------------------------------------------------------
class SlowRandom(Random):
    """Random search that takes 20 ms of real time per suggestion."""

    def suggest(self):
        time.sleep(0.02)
        return super().suggest()


def test_counting_decision_time_makes_the_virtual_run_longer():
    one_second = simulated(lambda config: (1.0, {"loss": config["x"]}))
    free = tune(one_second, backend=SimulatorBackend(), searcher=SlowRandom, max_trials=10)
    counted = tune(one_second, backend=SimulatorBackend(count_decision_time=True), searcher=SlowRandom, max_trials=10)
    assert free.wallclock == 10.0
    assert counted.wallclock >= 10.0 + 10 * 0.02
    assert counted.trials.started.iloc[1] >= counted.trials.ended.iloc[0] + 0.02  # the suggestion took time
    assert counted.trials.loss.tolist() == free.trials.loss.tolist()  # same decisions, later


# -- failures ------------------------------------------------------------------------------------
def test_a_failing_objective_is_recorded_as_failed_and_the_run_goes_on():
    result = tune(Curve(epochs=5, fail_above=0.5, fail_at=3), n_workers=3, max_trials=12)
    trials = result.trials
    failed = trials[trials.status == "failed"]
    assert 0 < len(failed) < 12
    assert (trials[trials.status != "failed"].status == "completed").all()
    assert all(failed["config/x"] > 0.5) and set(failed.n_reports) == {2}
    assert set(failed.error) == {"ValueError: diverged at epoch 3"}
    trial = result.trial(int(failed.trial_id.iloc[0]))
    assert "Traceback" in trial.traceback and "diverged at epoch 3" in trial.traceback
    assert trial.ended_at == trial.started_at + 2 * 60.0 * (1 + trial.config["x"])  # when epoch 3 began


@pytest.mark.parametrize(
    "step, message",
    [
        (0.5, "each step must be a pair (duration_seconds, metrics)"),
        ((-1.0, {"loss": 1.0}), "has duration -1.0"),
        ((1.0, 0.3), "they must be a dict"),
    ],
)
def test_a_malformed_step_fails_the_trial_with_a_clear_error(step, message):
    result = tune(lambda config: step, max_trials=2)
    assert list(result.trials.status) == ["failed", "failed"]
    assert message in result.trials.error.iloc[0]
    assert result.wallclock == 0.0


def test_a_trial_without_steps_fails_like_one_that_never_reports():
    class Nothing:
        def steps(self, config, start_step):
            return iter(())

    result = tune(simulated(Nothing()), max_trials=1)
    assert result.trials.status.iloc[0] == "failed"
    assert "never reported" in result.trials.error.iloc[0]


def test_a_run_whose_time_stands_still_is_refused_not_spun_forever():
    def broken(config):
        raise ValueError("bug in the benchmark")

    backend = SimulatorBackend()
    backend.stall_limit = 200
    with pytest.raises(RuntimeError, match="simulation is stuck"):
        # (max_initial_failures=None: otherwise the first five failures end the run first)
        tune(broken, backend=backend, max_wallclock=3600.0, n_workers=2, max_initial_failures=None)


# -- determinism ---------------------------------------------------------------------------------
def test_two_runs_with_the_same_seed_are_identical():
    def run():
        return tune(Curve(epochs=9, fail_above=0.95), n_workers=4, max_wallclock=20000.0,
                    scheduler=ASHA(max_resource=9, reduction_factor=3, type="promotion", brackets=2))

    first, second = run(), run()
    pd.testing.assert_frame_equal(first.trials, second.trials)
    pd.testing.assert_frame_equal(first.reports, second.reports)
    pd.testing.assert_frame_equal(first.trajectory, second.trajectory)
    assert first.wallclock == second.wallclock


# -- the objective adapter and the backend's settings ------------------------------------------
def test_simulated_adapts_functions_and_steps_objects():
    single = simulated(lambda config: (2.0, {"loss": 1.0}))
    assert list(single.steps({}, 0)) == [(2.0, {"loss": 1.0})]
    assert list(single.steps({}, 1)) == []
    curve = Curve(epochs=3)
    assert isinstance(curve, SimulatedObjective) and simulated(curve) is curve

    class Bare:  # steps only: not callable, so the tuner needs it wrapped
        def steps(self, config, start_step):
            return curve.steps(config, start_step)

    assert [m["epoch"] for _, m in simulated(Bare()).steps({"x": 0.0}, 1)] == [2, 3]
    assert simulated(single) is single
    with pytest.raises(TypeError, match="steps"):
        Simulated(42)


def test_the_simulated_workers_are_set_in_one_place():
    assert SimulatorBackend(n_workers=3).default_workers() == 3
    with pytest.raises(ValueError, match="in one place"):
        tune(Curve(), backend=SimulatorBackend(n_workers=2), n_workers=4, max_trials=1)
    with pytest.raises(ValueError, match="at most 2"):
        tune(Curve(), backend=SimulatorBackend(max_workers=2), n_workers=4, max_trials=1)
    with pytest.raises(ValueError, match="positive integer"):
        SimulatorBackend(n_workers=0)
