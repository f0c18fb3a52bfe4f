"""A tiny stand-in for the tuner, to drive a scheduler through scripted events.

It keeps real ``rung.trial._record.Trial`` records and calls the scheduler hooks in the order the
tuner does (suggest -> on_start -> on_report* -> one end hook), so decisions can be
checked exactly without running any objective.
"""

import rung
from rung.trial._record import Trial, TrialStatus
from rung.schedulers import Action, ResumeTrial, StartTrial
from rung.searchers import Grid


class Driver:
    def __init__(self, scheduler, n_configs=100, mode="min", metric="loss", resource_attr="epoch"):
        self.scheduler = scheduler
        self.metric = metric
        self.resource_attr = resource_attr
        self.searcher = Grid({"x": rung.choice(list(range(n_configs)))}, metric=metric, mode=mode)
        scheduler.setup(self.searcher, metric, mode)
        self.trials = {}
        self.suggestions = []
        self._last = {}

    def suggest(self, allow_new=True):
        """Ask the scheduler and carry out what it says; returns the suggestion."""
        suggestion = self.scheduler.suggest(allow_new)
        self.suggestions.append(suggestion)
        if isinstance(suggestion, StartTrial):
            assert allow_new
            trial = Trial(trial_id=len(self.trials), config=suggestion.config)
            self.trials[trial.trial_id] = trial
        elif isinstance(suggestion, ResumeTrial):
            trial = self.trials[suggestion.trial_id]
            assert trial.status is TrialStatus.PAUSED, (trial.trial_id, trial.status)
        else:
            assert suggestion is None
            return None
        trial.status = TrialStatus.RUNNING
        trial.resource = suggestion.resource
        trial.n_starts += 1
        self.scheduler.on_start(trial)
        return suggestion

    def start(self, allow_new=True):
        """Suggest and insist on a new trial; returns its id."""
        suggestion = self.suggest(allow_new)
        assert isinstance(suggestion, StartTrial), suggestion
        return len(self.trials) - 1

    def report(self, trial_id, resource, value, **extra):
        trial = self.trials[trial_id]
        assert trial.status is TrialStatus.RUNNING, (trial_id, trial.status)
        metrics = {self.metric: value, **extra}
        if resource is not None:
            metrics[self.resource_attr] = resource
        trial.n_reports += 1
        trial.last_metrics = metrics
        trial.metric_value = float(value)
        decision = self.scheduler.on_report(trial, metrics)
        if decision.action is not Action.CONTINUE:
            self._last[trial_id] = decision
            assert decision.reason
            assert {"rung", "value", "threshold", "compared_with"} <= set(decision.details)
        return decision

    def end(self, trial_id):
        """The trial leaves its worker: paused / stopped after such a decision, else (also after
        reaching max_resource) completed."""
        trial = self.trials[trial_id]
        decision = self._last.pop(trial_id, None)
        if decision is not None and decision.action is Action.PAUSE:
            trial.status = TrialStatus.PAUSED
            self.scheduler.on_pause(trial)
        elif decision is not None and not decision.completes:
            trial.status = TrialStatus.STOPPED
            self.scheduler.on_stop(trial)
        else:
            trial.status = TrialStatus.COMPLETED
            self.scheduler.on_complete(trial, trial.last_metrics)

    def fail(self, trial_id):
        trial = self.trials[trial_id]
        trial.status = TrialStatus.FAILED
        self.scheduler.on_fail(trial)

    def step(self, trial_id, resource, value):
        """Report once and, unless the answer is CONTINUE, let the trial leave its worker."""
        decision = self.report(trial_id, resource, value)
        if decision.action is not Action.CONTINUE:
            self.end(trial_id)
        return decision.action.value
