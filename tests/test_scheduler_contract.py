"""The scheduler contract, exercised end to end with a scripted scheduler.

The scripted scheduler makes exact decisions (stop trial 0 at its 2nd report, pause trial 1
at its 2nd report and resume it once nothing else is left), so each backend must carry out
continue / stop / pause / resume exactly as decided.
"""

import json

import pytest

import rung
from rung.schedulers import FIFO, Decision, ResumeTrial, Scheduler, StartTrial


def counting_objective(config):
    """Counts to 4, saving progress so a resumed trial continues where it paused."""
    state_file = rung.checkpoint_dir() / "state.json"
    start = json.loads(state_file.read_text())["step"] if state_file.exists() else 0
    for step in range(start + 1, 5):
        state_file.write_text(json.dumps({"step": step}))
        rung.report(step=step, loss=config["x"] + 1.0 / step)


class Scripted(Scheduler):
    def __init__(self):
        self.resumed = False
        self.events = []

    def suggest(self, allow_new=True):
        if allow_new:
            config = self.searcher.suggest()
            if config is not None:
                return StartTrial(config)
        if not self.resumed and any(kind == "pause" for kind, _ in self.events):
            self.resumed = True
            return ResumeTrial(1, resource=4)
        return None

    def on_report(self, trial, metrics):
        if trial.trial_id == 0 and metrics["step"] == 2:
            return Decision.stop("scripted stop", rung=2, value=metrics["loss"])
        if trial.trial_id == 1 and metrics["step"] == 2 and not self.resumed:
            return Decision.pause("scripted pause", rung=2)
        return super().on_report(trial, metrics)

    def on_complete(self, trial, metrics):
        self.events.append(("complete", trial.trial_id))

    def on_stop(self, trial):
        self.events.append(("stop", trial.trial_id))

    def on_pause(self, trial):
        self.events.append(("pause", trial.trial_id))


@pytest.mark.parametrize("backend", ["inprocess", "process"])
def test_stop_pause_and_resume_are_carried_out_exactly(backend, tmp_path):
    scheduler = Scripted()
    result = rung.Tuner(
        counting_objective, {"x": rung.choice([0.0, 1.0, 2.0])}, metric="loss", searcher="grid",
        scheduler=scheduler, backend=backend, n_workers=1, verbose=0, workdir=tmp_path,
    ).run()
    trials = result.trials.set_index("trial_id")
    assert trials.loc[0, "status"] == "stopped"
    assert trials.loc[0, "end_reason"] == "scripted stop"
    assert trials.loc[0, "n_reports"] == 2
    # Trial 1 paused at step 2, then resumed from its checkpoint and finished steps 3 and 4.
    assert trials.loc[1, "status"] == "completed"
    assert list(result.reports[result.reports.trial_id == 1]["step"]) == [1, 2, 3, 4]
    assert result.trial(1).n_starts == 2
    assert result.trial(1).resource == 4
    assert trials.loc[2, "status"] == "completed"
    assert scheduler.events == [("stop", 0), ("pause", 1), ("complete", 2), ("complete", 1)]
    stopped_steps = result.reports[result.reports.trial_id == 0]["step"]
    assert list(stopped_steps) == [1, 2]


def test_trial_can_catch_the_stop_and_clean_up():
    cleaned = []

    class StopAtOnce(FIFO):
        def on_report(self, trial, metrics):
            return Decision.stop("stop at once")

    def objective(config):
        try:
            rung.report(loss=1.0)
            rung.report(loss=0.5)
        except rung.TrialStopped:
            cleaned.append(True)
            return 123.0  # ignored: the scheduler already stopped this trial

    result = rung.Tuner(objective, {}, metric="loss", max_trials=2, scheduler=StopAtOnce(),
                        backend="inprocess", verbose=0).run()
    assert cleaned == [True, True]
    assert set(result.trials["status"]) == {"stopped"}
    assert list(result.trials["loss"]) == [1.0, 1.0]


class _FixedConfigs(rung.searchers.Searcher):
    def __init__(self, space, configs, **kwargs):
        super().__init__(space, **kwargs)
        self._configs = list(configs)
        self.observed = []

    def suggest(self):
        return self._configs.pop(0) if self._configs else None

    @property
    def is_finite(self):
        return True

    def observe(self, config, metrics):
        self.observed.append((config["x"], metrics["loss"]))


def test_fifo_runs_to_completion_and_tells_the_searcher_every_result():
    searcher = _FixedConfigs({"x": rung.uniform(0, 1)}, [{"x": 0.1}, {"x": 0.2}, {"x": 0.3}], metric="loss")
    result = rung.Tuner(lambda c: c["x"] * 2, {"x": rung.uniform(0, 1)}, metric="loss",
                        searcher=searcher, scheduler="fifo", backend="inprocess", verbose=0).run()
    assert result.stop_reason == "search_exhausted"
    assert searcher.observed == [(0.1, 0.2), (0.2, 0.4), (0.3, 0.6)]


def test_a_scheduler_that_starts_past_the_budget_is_a_bug_reported_loudly():
    class Greedy(FIFO):
        def suggest(self, allow_new=True):
            return StartTrial(self.searcher.suggest())

    with pytest.raises(RuntimeError, match="trial budget is spent"):
        rung.Tuner(lambda c: 1.0, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=2,
                   scheduler=Greedy(), backend="inprocess", verbose=0).run()


def test_paused_trials_the_scheduler_abandons_end_as_stopped_with_the_reason(tmp_path):
    from rung.schedulers import SuccessiveHalving

    def curve(config):
        state = rung.load_checkpoint() or {"epoch": 0}
        for epoch in range(state["epoch"] + 1, 10):
            try:
                rung.report(epoch=epoch, loss=config["x"] + 1.0 / epoch)
            finally:
                rung.save_checkpoint({"epoch": epoch})

    url = tmp_path / "s.db"
    result = rung.Tuner(curve, {"x": rung.choice([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])}, metric="loss",
                        searcher="grid", scheduler=SuccessiveHalving("epoch", min_resource=1, max_resource=9,
                                                                    reduction_factor=3, num_trials=9),
                        backend="inprocess", verbose=0, storage=url, experiment="sh").run()
    trials = result.trials.set_index("config/x")
    assert trials.loc[0.1, "status"] == "completed" and trials.loc[0.1, "n_reports"] == 9
    for x in (0.2, 0.3):
        assert trials.loc[x, "status"] == "stopped"
        assert "not promoted at rung epoch=3" in trials.loc[x, "end_reason"]
    for x in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        assert trials.loc[x, "status"] == "stopped"
        assert "not promoted at rung epoch=1" in trials.loc[x, "end_reason"]
    loaded = rung.load("sh", url).trials.set_index("config/x")
    assert list(loaded["status"]) == list(trials["status"])


# -- the shipped conformance suite catches broken schedulers ---------------------------------
from rung.schedulers import ASHA  # noqa: E402
from rung.testing import schedulers as suite  # noqa: E402


class _IgnoresMode(FIFO):
    """Stops a trial whose value is above the first one seen, whatever the mode."""

    def on_report(self, trial, metrics):
        first = self.__dict__.setdefault("_first", metrics["loss"])
        if metrics["loss"] > first:
            return Decision.stop("worse", rung=metrics["epoch"], value=metrics["loss"], threshold=first,
                                 compared_with=1)
        return super().on_report(trial, metrics)


class _NoDetails(FIFO):
    def on_report(self, trial, metrics):
        return Decision.stop("no details") if metrics["epoch"] == 3 else super().on_report(trial, metrics)


class _IgnoresBudget(FIFO):
    def suggest(self, allow_new=True):
        config = self.searcher.suggest()
        return None if config is None else StartTrial(config)


class _ResumesAnything(FIFO):
    def suggest(self, allow_new=True):
        if getattr(self, "_ended", None) is not None:
            trial_id, self._ended = self._ended, None
            return ResumeTrial(trial_id)
        return super().suggest(allow_new)

    def on_complete(self, trial, metrics):
        super().on_complete(trial, metrics)
        self._ended = trial.trial_id


class _Unseeded(FIFO):
    def on_report(self, trial, metrics):
        import random

        if random.random() < 0.3:
            return Decision.stop("coin", rung=metrics["epoch"], value=metrics["loss"], threshold=None, compared_with=0)
        return super().on_report(trial, metrics)


class _RemembersOldRuns(ASHA):
    def setup(self, searcher, metric, mode):  # forgets to start over
        if not hasattr(self, "searcher"):
            super().setup(searcher, metric, mode)
        self.searcher = searcher


class _ToldTwice(FIFO):
    def on_complete(self, trial, metrics):
        super().on_complete(trial, metrics)
        self.searcher.observe(trial.config, metrics)


@pytest.mark.parametrize(
    "broken, check",
    [
        (_IgnoresMode, "mode_symmetry"),
        (_NoDetails, "decisions_and_suggestions"),
        (_IgnoresBudget, "decisions_and_suggestions"),
        (_ResumesAnything, "decisions_and_suggestions"),
        (_Unseeded, "deterministic"),
        (lambda: _RemembersOldRuns(max_resource=9), "setup_starts_over"),
        (_ToldTwice, "searcher_told_once"),
    ],
)
def test_the_scheduler_suite_catches_broken_schedulers(broken, check):
    function = dict(suite.SCHEDULER_CHECKS)[check]
    with pytest.raises(AssertionError, match=check):
        function(broken)
