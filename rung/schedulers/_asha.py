"""Asynchronous successive halving (ASHA): judge each trial as it reaches a rung."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from . import _rungs
from ._base import Decision, ResumeTrial, Scheduler, StartTrial, Suggestion, check_max_resource_attr

if TYPE_CHECKING:
    from ..trial._record import Trial
    from ..searchers import Searcher

TYPES = ("stopping", "promotion")
_RUNNING, _PAUSED, _ENDED = "running", "paused", "ended"


@dataclass
class _TrialState:
    bracket: int
    reached: int = -1  # highest level index reached so far
    state: str = _RUNNING
    stratum: str | None = None  # the searcher's group for it (Searcher.stratum)


class ASHA(Scheduler):
    """Asynchronous successive halving over rung levels ``r_min * eta**k`` and ``r_max``.

    ``min_resource`` is the grace period (``grace_period=`` is accepted as an alias): no
    trial is judged before it. A trial reaches level k at its first report with
    ``resource_attr >= levels[k]``; when one report passes several levels, only the highest
    is recorded. Values are compared only with values recorded at the same level of the
    same bracket.

    ``type="stopping"``: at a level below ``r_max`` the trial's value is recorded; with
    ``n`` values recorded there (its own included), it CONTINUEs iff fewer than ``n / eta``
    of them are strictly better than its own, else it is STOPPED.

    Strata (stopping only): when a trial starts, ASHA asks the searcher for its stratum
    (:meth:`Searcher.stratum`). A trial with a stratum is judged at each rung only against
    the values recorded there by trials of the same stratum (its value still counts for the
    trials without one, which are judged against every value). The default searchers give
    none, except the BOHB-style searcher, which puts its random configs in a stratum of
    their own so that a model's configs cannot crowd them out of the rungs.

    ``type="promotion"``: the trial is PAUSED at every level below ``r_max``.
    :meth:`suggest` first looks for a promotion, from the highest level down (brackets in
    order at equal levels): at level k a paused trial is promotable if it is among the top
    ``floor(n_k / eta)`` values recorded at k (ties: earlier report first) and has not been
    promoted from k; the best such trial gets ``ResumeTrial(trial_id, resource=levels[k+1])``.
    Otherwise a new trial starts (if ``allow_new``), otherwise None. Once no new trial can
    start (``allow_new`` is False, or the searcher has nothing left), the top of a rung is
    ``max(1, floor(n_k / eta))``: promotions go on until no paused trial is promotable, so
    the best trial of every rung is carried on to ``r_max`` instead of waiting, paused, for
    values that will never come. Trials never promoted stay PAUSED.

    In both variants the first report at or beyond ``r_max`` ends the trial: STOP with
    ``details["completed"]`` set (:meth:`Decision.complete`), so it is recorded as completed
    and never runs a step past ``r_max``. A report without ``resource_attr`` gets CONTINUE.

    ``max_resource_attr="max_epochs"`` puts the resource a launch may run to into the
    trial's config under that name: ``max_resource`` for the stopping variant, the next
    rung level for promotion (see :meth:`Scheduler.launch_config`).

    ``brackets=B`` runs B brackets side by side: bracket b starts judging at level index b.
    Each new trial draws its bracket at random with probabilities proportional to the
    Hyperband bracket sizes ``ceil((s_max+1)/(s+1) * eta**s)``, s = s_max - b, from a
    generator seeded with ``seed`` (default: the searcher's seed), so asynchronous Hyperband
    is ASHA with one bracket per level.
    """

    def __init__(
        self,
        resource_attr: str = "epoch",
        *,
        min_resource: float | None = None,
        max_resource: float | None = None,
        reduction_factor: float = 3,
        type: str = "stopping",
        brackets: int = 1,
        seed: int | None = None,
        grace_period: float | None = None,
        max_resource_attr: str | None = None,
    ) -> None:
        if grace_period is not None and min_resource is not None and grace_period != min_resource:
            raise ValueError(
                f"grace_period is an alias of min_resource; got both grace_period={grace_period!r} "
                f"and min_resource={min_resource!r}"
            )
        if min_resource is None:
            min_resource = 1 if grace_period is None else grace_period
        self.resource_attr = _rungs.check_resource_attr(resource_attr)
        self.max_resource_attr = check_max_resource_attr(max_resource_attr)
        self.min_resource, self.max_resource = _rungs.check_resources(min_resource, max_resource, self.__class__.__name__)
        self.reduction_factor = _rungs.check_reduction_factor(reduction_factor)
        if type not in TYPES:
            raise ValueError(f"type must be 'stopping' or 'promotion', got type={type!r}")
        self.type = type
        self.levels = _rungs.rung_levels(self.min_resource, self.max_resource, self.reduction_factor)
        self.brackets = _rungs.check_number("brackets", brackets, minimum=1, strict=False, integer=True)
        if self.brackets > len(self.levels):
            raise ValueError(
                f"brackets must be at most the number of rung levels ({len(self.levels)}: "
                f"{', '.join(f'{level:g}' for level in self.levels)}), got brackets={brackets!r}"
            )
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer or None, got seed={seed!r}")
        self.seed = seed
        sizes = np.array(_rungs.hyperband_sizes(len(self.levels), self.reduction_factor)[: self.brackets], float)
        self.bracket_probabilities = sizes / sizes.sum()
        self._reset()

    def _reset(self) -> None:
        # _rungs[b][k]: trial id -> value recorded at level index k of bracket b (arrival order)
        self._rungs: list[dict[int, dict[int, float]]] = [{} for _ in range(self.brackets)]
        # _ranked[b][k]: (signed value, arrival, trial id), sorted: ranks and cutoffs by bisection.
        self._ranked: list[dict[int, list[tuple[float, int, int]]]] = [{} for _ in range(self.brackets)]
        # _waiting[b][k]: the same keys for paused trials at k not yet promoted from k. Only the
        # best of them can be promotable, so a suggestion costs O(log n) per rung, not O(n).
        self._waiting: list[dict[int, list[tuple[float, int, int]]]] = [{} for _ in range(self.brackets)]
        self._keys: dict[tuple[int, int], tuple[float, int, int]] = {}
        self._arrivals = 0
        self._promoted: list[dict[int, set[int]]] = [{} for _ in range(self.brackets)]
        self._trials: dict[int, _TrialState] = {}
        self._pending: int | None = None
        self._pending_stratum: str | None = None
        # _strata[(b, k, stratum)]: the keys of _ranked[b][k] of that stratum's trials, sorted.
        self._strata: dict[tuple[int, int, str], list[tuple[float, int, int]]] = {}
        self._rng = np.random.default_rng(self.seed)

    def setup(self, searcher: "Searcher", metric: str, mode: str) -> None:
        super().setup(searcher, metric, mode)
        self._reset()
        if self.seed is None:
            self._rng = np.random.default_rng(getattr(searcher, "seed", None))

    def bracket_of(self, trial_id: int) -> int | None:
        """Bracket index of trial ``trial_id`` (0 starts at the first level), None if unknown."""
        state = self._trials.get(trial_id)
        return None if state is None else state.bracket

    def recorded(self, level: float, bracket: int = 0) -> dict[int, float]:
        """Values recorded at rung ``level`` of ``bracket``: trial id -> metric value."""
        return dict(self._rungs[bracket].get(self.levels.index(level), {}))

    # -- suggestions -------------------------------------------------------------------------
    def suggest(self, allow_new: bool = True) -> Suggestion | None:
        if self.type == "promotion":
            promotion = self._promotion(final=not allow_new)
            if promotion is not None:
                return promotion
        if not allow_new:
            return None
        config = self.searcher.suggest()
        if config is None:  # the searcher has nothing left: finish what is paused
            return self._promotion(final=True) if self.type == "promotion" else None
        bracket = 0 if self.brackets == 1 else int(self._rng.choice(self.brackets, p=self.bracket_probabilities))
        self._pending = bracket
        stratum = getattr(self.searcher, "stratum", None) if self.type == "stopping" else None
        self._pending_stratum = stratum(config) if callable(stratum) else None
        resource = self.max_resource if self.type == "stopping" else self.levels[bracket]
        return StartTrial(config, resource=resource)

    def _promotion(self, final: bool = False) -> ResumeTrial | None:
        """The promotion to make now, if any. ``final``: no new trial will start, so the
        top of a rung is at least its best trial (``max(1, floor(n / eta))``) and promotions
        go on up to ``r_max``; otherwise a rung of fewer than eta values promotes nothing."""
        last = len(self.levels) - 1
        for k in range(last - 1, -1, -1):
            for bracket in range(min(k + 1, self.brackets)):
                waiting = self._waiting[bracket].get(k)
                if not waiting:
                    continue
                ranked = self._ranked[bracket][k]
                top = _rungs.n_promoted(len(ranked), self.reduction_factor)
                if final:
                    top = max(1, top)
                best = waiting[0]
                if bisect.bisect_left(ranked, best) < top:
                    waiting.pop(0)
                    trial_id = best[2]
                    self._promoted[bracket].setdefault(k, set()).add(trial_id)
                    return ResumeTrial(trial_id, resource=self.levels[k + 1])
        return None

    # -- events ------------------------------------------------------------------------------
    def on_start(self, trial: "Trial") -> None:
        state = self._trials.get(trial.trial_id)
        if state is not None:
            state.state = _RUNNING
        elif self._pending is not None:
            self._trials[trial.trial_id] = _TrialState(self._pending, stratum=self._pending_stratum)
            self._pending = None
            self._pending_stratum = None

    def on_report(self, trial: "Trial", metrics: Mapping[str, Any]) -> Decision:
        decision = super().on_report(trial, metrics)
        state = self._trials.get(trial.trial_id)
        resource = _rungs.resource_of(metrics, self.resource_attr)
        if state is None or resource is None:
            return decision
        value = float(metrics[self.metric])
        k = _rungs.highest_reached(self.levels, resource)
        if k is None or k < state.bracket:
            return decision
        if k == len(self.levels) - 1:  # the whole budget: recorded there, and the trial is done
            if k > state.reached:
                state.reached = k
                self._rungs[state.bracket].setdefault(k, {})[trial.trial_id] = value
            return _rungs.past_max(resource, self.max_resource, self.resource_attr, value)
        if k <= state.reached:
            return decision
        state.reached = k
        rung = self._rungs[state.bracket].setdefault(k, {})
        rung[trial.trial_id] = value
        own = self.objective.oriented(value)
        key = (own, self._arrivals, trial.trial_id)
        self._arrivals += 1
        self._keys[(trial.trial_id, k)] = key
        ordered = self._ranked[state.bracket].setdefault(k, [])
        bisect.insort(ordered, key)
        if state.stratum is not None:  # judged among its stratum only (it still counts for the others)
            ordered = self._strata.setdefault((state.bracket, k, state.stratum), [])
            bisect.insort(ordered, key)
        n = len(ordered)
        better = bisect.bisect_left(ordered, (own, -1, -1))
        level = self.levels[k]
        if self.type == "promotion":
            top = _rungs.n_promoted(n, self.reduction_factor)
            threshold = self.objective.oriented(ordered[top - 1][0]) if top else None
            return Decision.pause(
                f"reached rung {self.resource_attr}={level:g}: paused until it ranks in the top "
                f"1/{self.reduction_factor:g} there",
                rung=level, value=value, threshold=threshold, compared_with=n - 1,
                bracket=state.bracket, rank=better + 1,
            )
        if better < n / self.reduction_factor:
            return decision
        threshold = self.objective.oriented(ordered[_rungs.stop_cutoff_index(n, self.reduction_factor)][0])
        among = "" if state.stratum is None else f" of stratum {state.stratum!r}"
        extra = {} if state.stratum is None else {"stratum": state.stratum}
        return Decision.stop(
            f"{self.metric}={value:g} at rung {self.resource_attr}={level:g} is not in the top "
            f"1/{self.reduction_factor:g}: {better} of the {n} values{among} there are better",
            rung=level, value=value, threshold=threshold, compared_with=n - 1,
            bracket=state.bracket, rank=better + 1, **extra,
        )

    def on_pause(self, trial: "Trial") -> None:
        super().on_pause(trial)
        self._set_state(trial, _PAUSED)
        state = self._trials.get(trial.trial_id)
        if state is None or state.reached < 0:
            return
        key = self._keys.get((trial.trial_id, state.reached))
        if key is not None and trial.trial_id not in self._promoted[state.bracket].get(state.reached, ()):
            bisect.insort(self._waiting[state.bracket].setdefault(state.reached, []), key)

    def on_complete(self, trial: "Trial", metrics: Mapping[str, Any]) -> None:
        super().on_complete(trial, metrics)
        self._set_state(trial, _ENDED)

    def on_stop(self, trial: "Trial") -> None:
        super().on_stop(trial)
        self._set_state(trial, _ENDED)

    def on_fail(self, trial: "Trial") -> None:
        super().on_fail(trial)
        self._set_state(trial, _ENDED)

    def _set_state(self, trial: "Trial", value: str) -> None:
        state = self._trials.get(trial.trial_id)
        if state is None:
            return
        if state.state == _PAUSED and value != _PAUSED:
            self._stop_waiting(trial.trial_id, state)
        state.state = value

    def _stop_waiting(self, trial_id: int, state: _TrialState) -> None:
        """Take a trial that leaves the paused state off its rung's waiting list."""
        waiting = self._waiting[state.bracket].get(state.reached)
        key = self._keys.get((trial_id, state.reached))
        if waiting and key is not None:
            index = bisect.bisect_left(waiting, key)
            if index < len(waiting) and waiting[index] == key:
                waiting.pop(index)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(resource_attr={self.resource_attr!r}, min_resource={self.min_resource!r}, "
            f"max_resource={self.max_resource!r}, reduction_factor={self.reduction_factor!r}, "
            f"type={self.type!r}, brackets={self.brackets!r}, seed={self.seed!r}"
            + ("" if self.max_resource_attr is None else f", max_resource_attr={self.max_resource_attr!r}") + ")"
        )

