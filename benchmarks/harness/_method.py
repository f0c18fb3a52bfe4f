"""The contract between the benchmark runner and every optimizer it compares.

A *method* is one optimizer with its settings (rung's ASHA, Optuna's TPE, ...). The runner
calls ``method.run(problem, seed, budget)`` once per cell (method x problem x seed) and
stores the :class:`RunResult` it returns. rung's methods live in ``benchmarks/methods.py``,
the peers' in ``benchmarks/peers/``; both follow this module, which is kept stable.

Names follow ``<library>-<algorithm>``: ``rung-asha``, ``optuna-tpe``,
``synetune-bohb``, ``sklearn-halving``. The library part tells rung from its peers in the
ratio tables; the algorithm part pairs a peer with rung's method of the same name
(``optuna-tpe`` with ``rung-tpe``). Shared algorithm names: ``random``, ``grid``, ``tpe``,
``gp``, ``cmaes``, ``asha``, ``asha-promotion``, ``hyperband``, ``sh``, ``median``,
``bohb``, ``tpe-asha``, ``gp-asha``, ``tpe-median``, ``tpe-hyperband``.

Time. On synthetic and tabulated problems time is *simulated*: an evaluation takes the
seconds ``problem.steps`` says, ``budget.n_workers`` workers run side by side, and a point's
time is the simulated second at which that evaluation's report arrived (decision time not
counted unless ``budget.count_decision_time``). On real problems (``problem.kind ==
"real"``) time is wall-clock seconds since the method started, and the runner sets
``n_workers`` to 1 (it already runs one cell per core).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from rung.compare import scoring

if TYPE_CHECKING:
    from benchmarks.problems import Problem

Point = tuple[float, float]

# Relative tolerance for "this report reached max_resource" (0.05 * 20 counts as 1.0).
_RESOURCE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Budget:
    """What one run may spend; the first limit reached ends it.

    ``max_evaluations``: configurations started (trials), whatever fidelity they reach
    (Tuner ``max_trials``, Optuna ``n_trials``). ``max_time``: seconds on the problem's
    clock (simulated for synthetic and tabulated problems, wall-clock for real ones).
    ``n_workers``: evaluations running at once. ``count_decision_time``: on simulated
    problems, add the real seconds the optimizer spends deciding to the simulated clock.
    At least one of ``max_evaluations`` and ``max_time`` must be set.
    """

    max_evaluations: int | None = None
    max_time: float | None = None
    n_workers: int = 1
    count_decision_time: bool = False

    def __post_init__(self) -> None:
        if self.max_evaluations is None and self.max_time is None:
            raise ValueError("a budget needs max_evaluations or max_time (or both)")
        if self.max_evaluations is not None and (
            isinstance(self.max_evaluations, bool) or not isinstance(self.max_evaluations, int) or self.max_evaluations < 1
        ):
            raise ValueError(f"max_evaluations must be a positive integer, got {self.max_evaluations!r}")
        if self.max_time is not None and not (math.isfinite(self.max_time) and self.max_time > 0):
            raise ValueError(f"max_time must be a positive number of seconds, got {self.max_time!r}")
        if isinstance(self.n_workers, bool) or not isinstance(self.n_workers, int) or self.n_workers < 1:
            raise ValueError(f"n_workers must be a positive integer, got {self.n_workers!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Budget:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


@dataclass
class RunResult:
    """What one run of a method on a problem with a seed produced.

    ``points``: ``(time, value)`` of every finished evaluation, in time order, where a
    *finished evaluation* is a report at the problem's full fidelity: on a single-fidelity
    problem every evaluation, on a multi-fidelity one only reports whose resource reached
    ``max_resource`` (a trial stopped early contributes nothing here). The incumbent, the
    scores and the plots are computed from these points.

    ``any_fidelity``: optional, the incumbent over reports at *any* fidelity, as
    ``(time, value)`` each time it improved (empty if the method does not track it).

    ``n_evaluations``: configurations started (trials). ``total_resource``: resource spent
    in the fidelity's units, summed over trials (the highest resource each trial reported;
    1 per finished evaluation on single-fidelity problems). ``decision_time``: real seconds
    the optimizer spent deciding (suggesting, scheduling, updating its model).
    ``real_time``: real seconds the whole run took. ``elapsed``: the run's length on the
    problem's clock (simulated or wall-clock seconds; default: the last point's time).
    ``n_failed``: evaluations that failed. ``info``: free-form notes (settings, versions).
    """

    method: str
    problem: str
    seed: int
    mode: str
    points: list[Point]
    n_evaluations: int
    total_resource: float
    decision_time: float
    real_time: float
    elapsed: float | None = None
    any_fidelity: list[Point] = field(default_factory=list)
    n_failed: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {self.mode!r}")
        # Stable sorts: points arriving out of order (threads) are put in time order.
        self.points = sorted(((float(t), float(v)) for t, v in self.points), key=lambda p: p[0])
        self.any_fidelity = sorted(((float(t), float(v)) for t, v in self.any_fidelity), key=lambda p: p[0])
        if self.elapsed is None:
            self.elapsed = self.points[-1][0] if self.points else 0.0

    # -- the incumbent ---------------------------------------------------------------------
    def _sign(self) -> float:
        return 1.0 if self.mode == "min" else -1.0

    def incumbent(self, any_fidelity: bool = False) -> list[Point]:
        """The best value so far as a step function: ``(time, best)`` at each improvement."""
        return scoring.incumbent_steps(self.any_fidelity if any_fidelity else self.points, self.mode)

    def incumbent_at(self, times: Sequence[float] | np.ndarray, any_fidelity: bool = False) -> np.ndarray:
        """The incumbent value at each of ``times`` (NaN before the first finished evaluation)."""
        return scoring.incumbent_at(self.incumbent(any_fidelity), times)

    def incumbent_after(self, n_points: int) -> float:
        """The best value among the first ``n_points`` finished evaluations (NaN if none)."""
        values = [v for _, v in self.points[:n_points] if math.isfinite(v)]
        if not values:
            return math.nan
        return min(values) if self.mode == "min" else max(values)

    @property
    def best_value(self) -> float:
        """The final incumbent (NaN if no evaluation finished)."""
        steps = self.incumbent()
        return steps[-1][1] if steps else math.nan

    def time_to(self, target: float) -> float:
        """First time the incumbent is at least as good as ``target`` (inf if never)."""
        return scoring.time_to(self.incumbent(), target, self.mode)

    # -- serialization ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        kwargs = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
        kwargs["points"] = [tuple(p) for p in kwargs.get("points", [])]
        kwargs["any_fidelity"] = [tuple(p) for p in kwargs.get("any_fidelity", [])]
        return cls(**kwargs)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.method, self.problem, self.seed)


@runtime_checkable
class Method(Protocol):
    """One optimizer with its settings, as the runner sees it.

    ``name``: ``<library>-<algorithm>`` (see the module docstring). ``run`` optimizes
    ``problem`` (a ``benchmarks.problems.Problem``) from scratch with ``seed`` within
    ``budget`` and returns a :class:`RunResult` (``method=self.name``,
    ``problem=problem.name``, ``mode=problem.mode``). It must be deterministic given the
    seed on simulated problems, must not print to stdout, and the object must pickle (the
    runner sends it to a worker process): a module-level class holding plain settings.
    """

    name: str

    def run(self, problem: Problem, seed: int, budget: Budget) -> RunResult: ...


class EvaluationLog:
    """Build a :class:`RunResult` from reports as they arrive; a helper for method adapters.

    Call :meth:`report` with the time and the metrics of every report of every trial (the
    problem's metric and, on multi-fidelity problems, its fidelity attribute), then
    :meth:`result`. Full-fidelity reports become ``points``; every report feeds the
    any-fidelity incumbent and the resource count.
    """

    def __init__(self, problem: Problem, method: str, seed: int) -> None:
        self.problem = problem
        self.method = method
        self.seed = seed
        self._points: list[Point] = []
        self._any: list[Point] = []
        self._resource: dict[Any, float] = {}
        self._sign = 1.0 if problem.mode == "min" else -1.0

    def reaches_full_fidelity(self, metrics: Mapping[str, Any]) -> bool:
        fidelity = self.problem.fidelity
        if fidelity is None:
            return True
        resource = metrics.get(fidelity)
        top = float(self.problem.max_resource)
        return resource is not None and float(resource) >= top - _RESOURCE_TOLERANCE * abs(top)

    def report(self, time: float, metrics: Mapping[str, Any], trial: Any = None) -> None:
        """One report of ``trial`` (any hashable id) at ``time`` on the problem's clock."""
        value = float(metrics[self.problem.metric])
        if self.problem.fidelity is None:
            resource = 1.0
        else:
            resource = float(metrics.get(self.problem.fidelity, 0.0))
        key = trial if trial is not None else len(self._resource)
        self._resource[key] = max(self._resource.get(key, 0.0), resource)
        if not math.isfinite(value):
            return
        self._any.append((float(time), value))
        if self.reaches_full_fidelity(metrics):
            self._points.append((float(time), value))

    def result(
        self,
        *,
        n_evaluations: int,
        decision_time: float,
        real_time: float,
        elapsed: float | None = None,
        n_failed: int = 0,
        info: Mapping[str, Any] | None = None,
    ) -> RunResult:
        points = sorted(self._points, key=lambda p: p[0])
        improving: list[Point] = []
        for time, value in sorted(self._any, key=lambda p: p[0]):
            if not improving or self._sign * value < self._sign * improving[-1][1]:
                improving.append((time, value))
        return RunResult(
            method=self.method, problem=self.problem.name, seed=self.seed, mode=self.problem.mode,
            points=points, n_evaluations=n_evaluations, total_resource=float(sum(self._resource.values())),
            decision_time=decision_time, real_time=real_time, elapsed=elapsed,
            any_fidelity=improving, n_failed=n_failed, info=dict(info or {}),
        )


def library_of(method_name: str) -> str:
    """``"rung"`` for ``"rung-asha"``: the part before the first dash."""
    return method_name.split("-", 1)[0]


def algorithm_of(method_name: str) -> str:
    """``"asha"`` for ``"rung-asha"``: the part after the first dash (the name if none)."""
    parts = method_name.split("-", 1)
    return parts[1] if len(parts) == 2 else method_name


def check_results(results: Iterable[RunResult]) -> list[RunResult]:
    """The results as a list, refusing two runs of the same cell."""
    seen: set[tuple[str, str, int]] = set()
    out = []
    for result in results:
        if result.key in seen:
            raise ValueError(f"two results for {result.key}")
        seen.add(result.key)
        out.append(result)
    return out
