"""Synchronous successive halving: rank a whole rung at once, promote the top 1/eta."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from . import _rungs
from ._base import Decision, ResumeTrial, Scheduler, StartTrial, Suggestion, check_max_resource_attr

if TYPE_CHECKING:
    from ..trial._record import Trial
    from ..searchers import Searcher

_RUNNING, _PAUSED, _ENDED = "running", "paused", "ended"


@dataclass
class _Bracket:
    """One run of successive halving: trials that start together and are ranked together."""

    index: int
    first: int  # level index its trials start at
    size: int  # how many trials it starts
    rung: int  # level index whose results it is collecting
    started: list[int] = field(default_factory=list)
    sealed: bool = False  # no further trial joins its first rung
    members: list[int] = field(default_factory=list)  # trials expected at `rung`
    values: dict[int, float] = field(default_factory=dict)  # value at `rung`, in arrival order
    done: bool = False


@dataclass
class _TrialState:
    bracket: int
    level: int  # level index the trial is heading for
    config: dict[str, Any]
    state: str = _RUNNING
    recorded: bool = False  # it has a value at `level`
    metrics: dict[str, Any] | None = None  # the report that reached its latest rung


class SuccessiveHalving(Scheduler):
    """Synchronous successive halving (SH) over rung levels ``r_min * eta**k`` and ``r_max``.

    The exact rule:

    * A bracket starts ``num_trials`` trials (default ``prefactor * eta**K``, K = number of
      levels - 1; rounded up). Each runs until its first report with ``resource_attr >=``
      the bracket's first level and is PAUSED there.
    * A rung is judged once every trial of it has a value there or has ended (failed,
      stopped, or returned before reaching it). With ``n`` values, the top
      ``max(1, floor(n / eta))`` (ties: earlier report first) are resumed with
      ``ResumeTrial(trial_id, resource=next level)``; the others stay PAUSED for good, and
      the reason is kept in :attr:`notes` (the searcher is told their last result, as for a
      stopped trial).
    * The first report at or beyond the last level (``r_max``) ends the trial: STOP with
      ``details["completed"]`` (:meth:`Decision.complete`), recorded as completed, so no
      trial runs a step past ``r_max``.
    * ``max_resource_attr="max_epochs"`` puts the level a launch may run to into the trial's
      config under that name (see :meth:`Scheduler.launch_config`).
    * :meth:`suggest` resumes promoted trials first (older brackets first). Otherwise, while
      a rung waits for stragglers, free workers start trials of the next bracket (same
      shape), so no worker idles.
    * When no new trial can join a bracket that is not full yet (the searcher is exhausted
      or the trial budget is spent), that bracket is judged with the trials it has.
    * A report without ``resource_attr`` (or with a non-numeric one) reaches no rung and is
      answered with CONTINUE.
    """

    def __init__(
        self,
        resource_attr: str = "epoch",
        *,
        min_resource: float = 1,
        max_resource: float | None = None,
        reduction_factor: float = 3,
        prefactor: float = 1,
        num_trials: int | None = None,
        max_resource_attr: str | None = None,
    ) -> None:
        self.resource_attr = _rungs.check_resource_attr(resource_attr)
        self.max_resource_attr = check_max_resource_attr(max_resource_attr)
        self.min_resource, self.max_resource = _rungs.check_resources(min_resource, max_resource, type(self).__name__)
        self.reduction_factor = _rungs.check_reduction_factor(reduction_factor)
        self.prefactor = _rungs.check_number("prefactor", prefactor)
        if num_trials is not None:
            num_trials = _rungs.check_number("num_trials", num_trials, integer=True)
        self.levels = _rungs.rung_levels(self.min_resource, self.max_resource, self.reduction_factor)
        default_size = math.ceil(round(self.prefactor * self.reduction_factor ** (len(self.levels) - 1), 9))
        self.num_trials = num_trials if num_trials is not None else default_size
        self._reset()

    def _reset(self) -> None:
        self.notes: dict[int, str] = {}
        self._brackets: list[_Bracket] = []
        self._trials: dict[int, _TrialState] = {}
        self._resume: list[int] = []
        self._pending: int | None = None

    def _shape(self, index: int) -> tuple[int, int]:
        """(first level index, number of trials) of bracket ``index``."""
        return 0, self.num_trials

    def setup(self, searcher: "Searcher", metric: str, mode: str) -> None:
        super().setup(searcher, metric, mode)
        self._reset()

    def bracket_of(self, trial_id: int) -> int | None:
        """Index of the bracket trial ``trial_id`` belongs to (None if unknown)."""
        state = self._trials.get(trial_id)
        return None if state is None else state.bracket

    # -- suggestions -------------------------------------------------------------------------
    def suggest(self, allow_new: bool = True) -> Suggestion | None:
        resume = self._next_resume()
        if resume is not None:
            return resume
        if allow_new:
            config = self.searcher.suggest()
            if config is not None:
                bracket = self._open_bracket()
                self._pending = bracket.index
                return StartTrial(config, resource=self.levels[bracket.first])
        # No new trial will come (searcher exhausted or budget spent): judge open brackets as they are.
        for bracket in self._brackets:
            if not bracket.sealed:
                bracket.sealed = True
                self._advance(bracket)
        return self._next_resume()

    def _next_resume(self) -> ResumeTrial | None:
        for trial_id in list(self._resume):
            state = self._trials[trial_id]
            if state.state == _ENDED:
                self._resume.remove(trial_id)
            elif state.state == _PAUSED:
                self._resume.remove(trial_id)
                return ResumeTrial(trial_id, resource=self.levels[state.level])
        return None

    def _open_bracket(self) -> _Bracket:
        if self._brackets and not self._brackets[-1].sealed:
            return self._brackets[-1]
        first, size = self._shape(len(self._brackets))
        bracket = _Bracket(index=len(self._brackets), first=first, size=size, rung=first)
        self._brackets.append(bracket)
        return bracket

    # -- events ------------------------------------------------------------------------------
    def on_start(self, trial: "Trial") -> None:
        state = self._trials.get(trial.trial_id)
        if state is not None:
            state.state = _RUNNING
            return
        if self._pending is None:
            return  # not started on this scheduler's suggestion: leave it alone
        bracket = self._brackets[self._pending]
        self._pending = None
        bracket.started.append(trial.trial_id)
        bracket.members.append(trial.trial_id)
        if len(bracket.started) >= bracket.size:
            bracket.sealed = True
        self._trials[trial.trial_id] = _TrialState(bracket.index, bracket.first, dict(trial.config))

    def on_report(self, trial: "Trial", metrics: Mapping[str, Any]) -> Decision:
        decision = super().on_report(trial, metrics)
        state = self._trials.get(trial.trial_id)
        resource = _rungs.resource_of(metrics, self.resource_attr)
        if state is None or resource is None:
            return decision
        value = float(metrics[self.metric])
        level = self.levels[state.level]
        if _rungs.at_least(resource, self.max_resource) and not state.recorded:
            # The whole budget (also when a report jumps past the trial's own rung): done.
            bracket = self._brackets[state.bracket]
            state.recorded = True
            state.metrics = dict(metrics)
            bracket.values[trial.trial_id] = value
            return _rungs.past_max(resource, self.max_resource, self.resource_attr, value)
        if _rungs.at_least(resource, self.max_resource):
            return _rungs.past_max(resource, self.max_resource, self.resource_attr, value)
        if state.recorded or not _rungs.at_least(resource, level):
            return decision
        bracket = self._brackets[state.bracket]
        state.recorded = True
        state.metrics = dict(metrics)
        bracket.values[trial.trial_id] = value
        waiting = sum(1 for t in bracket.members if not self._settled(t))
        if not bracket.sealed:
            waiting += bracket.size - len(bracket.started)
        pause = Decision.pause(
            f"reached rung {self.resource_attr}={level:g}: waits until every trial of bracket "
            f"{bracket.index} has reported there",
            rung=level, value=value, threshold=None, compared_with=len(bracket.values) - 1,
            bracket=bracket.index, waiting_for=waiting,
        )
        self._advance(bracket)
        return pause

    def on_pause(self, trial: "Trial") -> None:
        super().on_pause(trial)
        state = self._trials.get(trial.trial_id)
        if state is not None:
            state.state = _PAUSED

    def on_complete(self, trial: "Trial", metrics: Mapping[str, Any]) -> None:
        super().on_complete(trial, metrics)
        self._ended(trial)

    def on_stop(self, trial: "Trial") -> None:
        super().on_stop(trial)
        self._ended(trial)

    def on_fail(self, trial: "Trial") -> None:
        super().on_fail(trial)
        self._ended(trial)

    def _ended(self, trial: "Trial") -> None:
        state = self._trials.get(trial.trial_id)
        if state is None:
            return
        state.state = _ENDED
        self._advance(self._brackets[state.bracket])

    # -- judging a rung ----------------------------------------------------------------------
    def _settled(self, trial_id: int) -> bool:
        state = self._trials[trial_id]
        return state.recorded or state.state == _ENDED

    def _advance(self, bracket: _Bracket) -> None:
        """Judge the bracket's rung as long as it is complete."""
        last = len(self.levels) - 1
        while not bracket.done and bracket.sealed and all(self._settled(t) for t in bracket.members):
            if bracket.rung == last or not bracket.values:
                bracket.done = True
                return
            level = self.levels[bracket.rung]
            ranked = self.objective.ranked(bracket.values, bracket.values.__getitem__)
            n = len(ranked)
            top = max(1, _rungs.n_promoted(n, self.reduction_factor))
            cutoff = bracket.values[ranked[top - 1]]
            for rank, trial_id in enumerate(ranked[top:], start=top + 1):
                state = self._trials[trial_id]
                self.notes[trial_id] = (
                    f"not promoted at rung {self.resource_attr}={level:g} of bracket {bracket.index}: "
                    f"ranked {rank} of {n} with {self.metric}={bracket.values[trial_id]:g}; the top {top} "
                    f"(cutoff {cutoff:g}) continue"
                )
                if state.state != _ENDED:
                    self.abandon(trial_id, self.notes[trial_id])
                if state.state != _ENDED and state.metrics is not None:
                    # It will never run again: the searcher learns its result as for a stopped trial.
                    self.searcher.observe(state.config, state.metrics)
            for trial_id in ranked[:top]:
                state = self._trials[trial_id]
                state.level = bracket.rung + 1
                state.recorded = False
                self._resume.append(trial_id)
            bracket.rung += 1
            bracket.members = ranked[:top]
            bracket.values = {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(resource_attr={self.resource_attr!r}, min_resource={self.min_resource!r}, "
            f"max_resource={self.max_resource!r}, reduction_factor={self.reduction_factor!r}, "
            f"num_trials={self.num_trials!r}"
            + ("" if self.max_resource_attr is None else f", max_resource_attr={self.max_resource_attr!r}") + ")"
        )
