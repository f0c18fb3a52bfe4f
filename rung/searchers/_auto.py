"""``searcher="auto"``: the searcher that won on problems like this one in rung's benchmarks.

The rule reads only what is known before the first trial: the space, and whether a
multi-fidelity scheduler is in charge (it calls :meth:`Searcher.set_fidelity` during its
setup). The choice, and the benchmark evidence behind each branch, are in
:func:`choose_searcher`; ``benchmarks/RESULTS.md`` has the tables.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ..space import Choice as ChoiceDomain
from ..space import Space
from . import _warmup
from ._base import Searcher

#: Above this many tunable parameters the GP's model of the whole space gets too little data
#: from a typical budget; TPE's per-group densities degrade more gracefully.
GP_MAX_DIMENSIONS = 16
#: Largest share of the time between two results that a GP decision may cost before
#: ``auto`` hands over to TPE: results arrive every ``trial time / workers``, and every
#: one of them asks for a new decision, which must be ready (computed ahead, on a core the
#: trials also need) before the next result arrives.
MAX_DECISION_SHARE = 0.25
#: The cost rule compares the median of the latest ``COST_WINDOW`` decision times with the
#: mean time between the latest ``RESULT_WINDOW + 1`` results (a mean over a window, since
#: workers started together finish together: half the gaps between two results are near 0).
COST_WINDOW = 5
RESULT_WINDOW = 8


@dataclass(frozen=True)
class Choice:
    """The searcher ``auto`` picked (a name in ``rung.searchers.SEARCHERS``) and why."""

    name: str
    reason: str


def choose_searcher(space: Space, multi_fidelity: bool, available: Iterable[str]) -> Choice:
    """Pick a searcher for ``space`` from the names in ``available``.

    - Multi-fidelity scheduler: the BOHB-style searcher (TPE densities per rung level),
      which beat TPE learning from final results only under ASHA on rung's multi-fidelity
      suite, with its three guards on (:mod:`._bohb`): a level's model suggests only once it
      ranks held-out results better than chance (until then ASHA gets random configs),
      candidates within the objective's observed resolution of a tried config are
      dropped (on tables answering with the nearest row, BOHB without them spent most of
      its budget retraining one config, issue 18), and ASHA judges the random configs
      only against each other, so the model's configs cannot crowd them out of the rungs;
      plain TPE when BOHB is not available.
    - More than :data:`GP_MAX_DIMENSIONS` tunable parameters, or only categorical ones: TPE,
      whose densities cost the same at any dimension and fit categories directly.
    - Otherwise the GP, the best single-fidelity method at small budgets on rung's suite,
      conditional spaces included (inactive parameters are imputed in its encoding). Until
      2026-12-02 conditional spaces went to TPE; measured at 50 evaluations over 20 seeds,
      the GP (with its plateau guard) scored 55.2 against TPE's 31.1 on the conditional
      XGBoost table (``xgboost-sf-1489``), and 99.7 against 64.3 on the mixed conditional
      space of ``tests/test_searcher_gp.py`` (normalized: 100 = optimum, 0 = random's median).
    """
    names = set(available)
    tunable = space.tunable_names
    if multi_fidelity and "bohb" in names:
        return Choice("bohb", "a multi-fidelity scheduler reports intermediate results: "
                              "density models per rung level (BOHB-style), each used once it ranks "
                              "held-out results better than chance")
    if multi_fidelity:
        return Choice("tpe", "a multi-fidelity scheduler is in charge; TPE learns from finished trials")
    if len(tunable) > GP_MAX_DIMENSIONS:
        return Choice("tpe", f"{len(tunable)} tunable parameters (more than {GP_MAX_DIMENSIONS}): TPE scales better")
    if tunable and all(isinstance(space[name], ChoiceDomain) for name in tunable):
        return Choice("tpe", "only categorical parameters: TPE's categorical densities fit them directly")
    if "gp" in names:
        return Choice("gp", "a small continuous or mixed space: Gaussian-process BO")
    return Choice("tpe", "the GP searcher is not available")


class Auto(Searcher):
    """Delegates to the searcher :func:`choose_searcher` picks; rung's default searcher.

    The pick is made at the first ``suggest`` / ``observe`` call, once the scheduler's
    setup has said whether it is multi-fidelity: ``chosen`` holds the :class:`Choice` and
    ``delegate`` the searcher. Same seed, same pick, same configs, so resumed experiments
    replay exactly. When the tuner runs trials in real time it also turns on the cost rule
    (:meth:`measure_costs`): a GP whose decisions cost more than
    :data:`MAX_DECISION_SHARE` of the time between results hands over to TPE (``picks``
    lists every pick in order, ``handovers`` why).
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any],
        *,
        metric: str | None = None,
        mode: str = "min",
        seed: int | None = None,
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(space, metric=metric, mode=mode, seed=seed)
        _warmup.start()  # the pick is made later; its imports can start now
        self._set_starting_points(points_to_evaluate)
        self._fidelity: tuple[str, list[float] | None, float | None] | None = None
        self.chosen: Choice | None = None
        self.delegate: Searcher | None = None
        # The cost rule (see measure_costs), off until the tuner's run proper starts.
        self._measuring = False
        self._calls: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []  # fed to a successor
        self._pending: list[dict[str, Any]] = []
        self._decision_costs: list[float] = []
        self._result_times: list[float] = []
        self.handovers: list[str] = []
        #: Every pick in order: the rule's, then any handover by the cost rule.
        self.picks: list[Choice] = []
        # Resume: each handover as (suggest calls made by then, reason), for the log; how
        # many of them the log has; a logged handover to repeat after that many suggestions.
        self._n_suggested = 0
        self._handover_log: list[tuple[int, str]] = []
        self._n_logged = 0
        self._replayed_handover: tuple[int, str] | None = None

    def set_fidelity(
        self,
        resource_attr: str,
        levels: Sequence[float] | None = None,
        max_resource: float | None = None,
    ) -> None:
        self._fidelity = (resource_attr, None if levels is None else list(levels), max_resource)
        if self.delegate is not None:
            self.delegate.set_fidelity(resource_attr, levels=levels, max_resource=max_resource)

    def _resolved(self) -> Searcher:
        if self.delegate is None:
            from . import SEARCHERS

            available = [name for name in SEARCHERS if name != "auto"]
            self.chosen = choose_searcher(self.space, self._fidelity is not None, available)
            self.picks.append(self.chosen)
            cls: Any = SEARCHERS[self.chosen.name]  # every built-in takes points_to_evaluate but Grid
            points = self._starting_points or None
            self.delegate = cls(self.space, metric=self.metric, mode=self.mode, seed=self.seed,
                                points_to_evaluate=points)
            if self._fidelity is not None:
                resource_attr, levels, max_resource = self._fidelity
                self.delegate.set_fidelity(resource_attr, levels=levels, max_resource=max_resource)
        return self.delegate

    def suggest(self) -> dict[str, Any] | None:
        delegate = self._resolved()
        started = time.perf_counter()
        config = delegate.suggest()
        cost = time.perf_counter() - started
        self._n_suggested += 1
        if config is not None:
            self._pending.append(dict(config))
        if self._replayed_handover is not None and self._n_suggested >= self._replayed_handover[0]:
            self._repeat_logged_handover()
        elif self._measuring:
            self._decision_costs.append(cost)
            self._apply_cost_rule()
        return config

    def observe_prior(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        self._resolved().observe_prior(config, metrics)
        self._note_result("observe", config, metrics)

    def prepend_starting_points(self, points: Iterable[Mapping[str, Any]]) -> None:
        if self.delegate is None:
            super().prepend_starting_points(points)
        else:
            self.delegate.prepend_starting_points(points)

    def observe(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        self._resolved().observe(config, metrics)
        self._note_result("observe", config, metrics)

    def observe_partial(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
        self._resolved().observe_partial(config, metrics)
        if self._may_hand_over:
            self._calls.append(("observe_partial", dict(config), dict(metrics)))

    def stratum(self, config: Mapping[str, Any]) -> str | None:
        return None if self.delegate is None else self.delegate.stratum(config)

    def on_failed(self, config: Mapping[str, Any]) -> None:
        self._resolved().on_failed(config)
        self._note_result("on_failed", config, None)

    # -- the cost rule ------------------------------------------------------------------------
    def measure_costs(self) -> None:
        """Weigh the measured cost of each decision against the time between results.

        Called by the tuner when trials run in real time (not during the replay of a
        stored log, not under a simulated clock). From then on, while the GP is the pick,
        once its median decision time over the latest :data:`COST_WINDOW` suggestions
        exceeds :data:`MAX_DECISION_SHARE` of the mean time between the latest
        :data:`RESULT_WINDOW` + 1 results, ``auto``
        hands over to TPE: every result seen so far is fed to it and the configs still
        running are its pending ones. ``handovers`` and ``chosen`` say so. The handover
        depends on timing, so it is logged (:meth:`take_handovers`, with the next trial's
        start) and a resumed experiment repeats it at the same suggestion
        (:meth:`replay_handovers`) instead of measuring again.
        """
        self._resolved()
        self._measuring = True

    def _note_result(self, kind: str, config: Mapping[str, Any], metrics: Mapping[str, Any] | None) -> None:
        if self._may_hand_over:
            self._calls.append((kind, dict(config), None if metrics is None else dict(metrics)))
        if self._measuring:
            self._result_times.append(time.perf_counter())
        for i, pending in enumerate(self._pending):
            if pending == config:
                del self._pending[i]
                break

    @property
    def _may_hand_over(self) -> bool:
        """Only the GP is handed over (its calls are kept for the successor)."""
        return self.chosen is not None and self.chosen.name == "gp"

    def _apply_cost_rule(self) -> None:
        if not self._may_hand_over:
            return
        costs = self._decision_costs[-COST_WINDOW:]
        times = self._result_times[-(RESULT_WINDOW + 1):]
        if len(costs) < COST_WINDOW or len(times) < RESULT_WINDOW + 1:
            return
        cost = statistics.median(costs)
        interval = (times[-1] - times[0]) / RESULT_WINDOW
        if cost <= MAX_DECISION_SHARE * interval:
            return
        self._hand_over("tpe", f"GP decisions took {cost * 1e3:.1f} ms, more than {MAX_DECISION_SHARE:.0%} of "
                               f"the {interval * 1e3:.1f} ms between results: TPE from result {len(self._result_times)}")

    def take_handovers(self) -> list[list[Any]]:
        """Handovers not yet in the log, as ``[suggestions made by then, reason]``."""
        new = self._handover_log[self._n_logged:]
        self._n_logged += len(new)
        return [[n, reason] for n, reason in new]

    def replay_handovers(self, logged: Sequence[Sequence[Any]] | None) -> None:
        """Repeat a logged handover once as many suggestions were made (replay of a log)."""
        for n, reason in logged or ():
            self._replayed_handover = (int(n), str(reason))
            if self._n_suggested >= int(n):
                self._repeat_logged_handover()

    def _repeat_logged_handover(self) -> None:
        assert self._replayed_handover is not None
        _, reason = self._replayed_handover
        self._replayed_handover = None
        if self._may_hand_over:
            self._hand_over("tpe", reason)
        self._n_logged = len(self._handover_log)  # already in the log

    def _hand_over(self, name: str, reason: str) -> None:
        from . import SEARCHERS

        cls: Any = SEARCHERS[name]
        successor = cls(self.space, metric=self.metric, mode=self.mode, seed=self.seed)
        for kind, config, metrics in self._calls:
            if kind == "on_failed":
                successor.on_failed(config)
            else:
                getattr(successor, kind)(config, metrics)
        for config in self._pending:
            successor.add_pending(config)
        self.delegate = successor
        self._calls = []  # no further handover: nothing more to keep
        self.chosen = Choice(name, reason)
        self.handovers.append(reason)
        self.picks.append(self.chosen)
        self._handover_log.append((self._n_suggested, reason))

    def __repr__(self) -> str:
        picked = "undecided" if self.chosen is None else self.chosen.name
        return f"Auto(metric={self.metric!r}, mode={self.mode!r}, seed={self.seed!r}, chosen={picked})"
