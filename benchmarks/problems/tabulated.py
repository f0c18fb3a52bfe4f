"""Tabulated problems: LCBench and rbv2 XGBoost tables from YAHPO Gym.

The tables live in ``shared/bench-data/`` beside the repository (``$RUNG_BENCH_DATA``
overrides the folder); its README describes them. Each holds 2000 configurations drawn from
the original space, with every metric at every fidelity level.

**How a config is answered: the nearest tabulated config.** The searcher sees the original
space (continuous, log-scaled and, for XGBoost, conditional) and may propose any config; the
problem answers with the table row nearest to it in rung's unit-cube encoding: squared
differences of the numeric coordinates, plus 1 for each categorical that differs and for
each parameter active in one config but not the other (so the booster always matches).
Why not let the searcher pick from the finite set: model-based searchers and the peers
(Optuna, Syne Tune) model the real space; a categorical "row id" with 2000 values would
strip them of all structure and make the comparison meaningless. The nearest-row answer
keeps every method on the same space, and a tabulated config gets exactly its own row.
``configs()`` lists the rows for a searcher that prefers to choose among them (e.g. as
``points_to_evaluate``); ``nearest(config)`` tells which row answers a config.
Because every answer is a table value, the best full-fidelity value in the table is the true
optimum of the problem as served; ``optimum`` is that value.

**Cost.** LCBench's ``time`` column is cumulative training time; as the data's README says it
is not always monotone, so it is made monotone with a running maximum and each epoch costs
the increase (with a floor of 1 ms where the surrogate gives none, so that every step takes
time). XGBoost's ``timetrain`` is the time of one training at that training-set fraction:
growing the fraction means training again, so each step costs the full ``timetrain`` of its
level.

**Metrics.** LCBench: ``val_balanced_accuracy`` (maximized; the README warns that plain
accuracy only tracks the majority class on task 3945, and balanced accuracy is bounded,
unlike cross-entropy); every step also reports ``val_accuracy`` (%) and
``val_cross_entropy``. XGBoost: ``acc`` (maximized; the table's main metric), plus ``logloss``.

**Single-fidelity variants** (``lcbench-sf-<task>``, ``xgboost-sf-1489``): the same tables
at their highest fidelity only (epoch 52, training-set fraction 1), one step per evaluation
charged the table's cost of a full evaluation (LCBench: the running-max cumulative time at
epoch 52; XGBoost: ``timetrain`` at fraction 1), with the same nearest-row answer. They are
the single-fidelity problems with spaces like real ones: log-scaled integers
(``batch_size``, ``max_units``), a small integer (``num_layers``), a conditional space
(XGBoost's ``booster``), and an objective that is piecewise constant (each answer is one of
2000 rows), so it is flat around every tabulated config.

Tables are read on first use and cached per process (``functools.lru_cache``), so importing
the registry and pickling a problem stay cheap.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import rung
from rung.space import Choice, Space

from ._base import Problem, Step

LCBENCH_TASKS = ("3945", "34539", "126026", "146212", "167104")
XGBOOST_TASKS = ("1489",)
MIN_EPOCH_SECONDS = 1e-3


def data_root() -> Path:
    """The bench-data folder: ``$RUNG_BENCH_DATA`` or ``<repo>/../shared/bench-data``."""
    env = os.environ.get("RUNG_BENCH_DATA")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[3] / "shared" / "bench-data"


def space_from_json(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A rung space dict from the ``hyperparameters`` list of a ``space.json``."""
    space: dict[str, Any] = {}
    for hp in spec["hyperparameters"]:
        if hp["type"] == "categorical":
            domain = rung.choice(list(hp["categories"]))
        elif hp["type"] == "int":
            domain = rung.randint(int(hp["low"]), int(hp["high"]), log=bool(hp["log"]))
        elif hp["log"]:
            domain = rung.loguniform(hp["low"], hp["high"])
        else:
            domain = rung.uniform(hp["low"], hp["high"])
        condition = hp.get("condition")
        if condition:
            domain = domain.when(condition["parent"], "in", list(condition["values"]))
        space[hp["name"]] = domain
    return space


@dataclass
class Table:
    """One instance's table: configs, their encoding for lookups, metrics per level."""

    spec: dict[str, Any]
    space: Space
    configs: list[dict[str, Any]]
    numeric: np.ndarray  # [n, d_num] unit-cube coordinates, NaN where inactive
    categorical: np.ndarray  # [n, d_cat] category codes, -1 where inactive
    fidelities: np.ndarray
    metrics: dict[str, np.ndarray]  # name -> [n, n_fid]

    def encode(self, config: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """``config`` as (numeric unit coordinates, categorical codes) like the rows."""
        num_names, cat_names = _split_names(self.space)
        unit = self.space.to_unit(config)
        index = {name: i for i, name in enumerate(self.space.tunable_names)}
        numeric = np.array([unit[index[name]] for name in num_names])
        codes = []
        for name in cat_names:
            if name in config:
                codes.append(list(self.space[name].values).index(config[name]))
            else:
                codes.append(-1)
        return numeric, np.array(codes, dtype=int)

    def nearest(self, config: Mapping[str, Any]) -> int:
        """Index of the row nearest to ``config`` (see the module docstring)."""
        numeric, codes = self.encode(config)
        rows_active = ~np.isnan(self.numeric)
        query_active = ~np.isnan(numeric)
        both = rows_active & query_active
        diff = np.where(both, self.numeric - np.where(query_active, numeric, 0.0), 0.0)
        distance = np.sum(diff**2, axis=1)
        distance += np.sum(rows_active != query_active, axis=1)
        distance += np.sum(self.categorical != codes, axis=1)
        return int(np.argmin(distance))


def _split_names(space: Space) -> tuple[list[str], list[str]]:
    names = space.tunable_names
    return ([n for n in names if not isinstance(space[n], Choice)],
            [n for n in names if isinstance(space[n], Choice)])


def _row_config(spec: Mapping[str, Any], arrays: Mapping[str, np.ndarray], row: int) -> dict:
    config: dict[str, Any] = {}
    for hp in spec["hyperparameters"]:
        value = arrays[f"config_{hp['name']}"][row]
        if hp["type"] != "categorical" and np.isnan(value):
            continue  # inactive
        if hp["type"] == "categorical":
            if int(value) < 0:
                continue
            config[hp["name"]] = str(arrays[f"categories_{hp['name']}"][int(value)])
        elif hp["type"] == "int":
            config[hp["name"]] = int(round(float(value)))
        else:
            config[hp["name"]] = float(value)
    return config


@functools.lru_cache(maxsize=None)
def load_table(scenario: str, instance: str) -> Table:
    """Read ``<data_root>/<scenario>/<instance>.npz`` and its ``space.json`` (cached)."""
    folder = data_root() / scenario
    if not folder.is_dir():
        raise FileNotFoundError(
            f"benchmark tables not found at {folder}; set RUNG_BENCH_DATA to the bench-data folder"
        )
    spec = json.loads((folder / "space.json").read_text())
    space = Space(space_from_json(spec))
    with np.load(folder / f"{instance}.npz", allow_pickle=False) as z:
        arrays = {key: z[key] for key in z.files}
    n = len(arrays[f"config_{spec['hyperparameters'][0]['name']}"])
    configs = [space.validate(_row_config(spec, arrays, row)) for row in range(n)]
    num_names, cat_names = _split_names(space)
    index = {name: i for i, name in enumerate(space.tunable_names)}
    units = np.array([space.to_unit(c) for c in configs])
    numeric = units[:, [index[name] for name in num_names]]
    categorical = np.array(
        [[list(space[name].values).index(c[name]) if name in c else -1 for name in cat_names]
         for c in configs],
        dtype=int,
    ).reshape(n, len(cat_names))
    metrics = {key[len("metric_"):]: np.asarray(value, dtype=float)
               for key, value in arrays.items() if key.startswith("metric_")}
    return Table(spec, space, configs, numeric, categorical,
                 np.asarray(arrays["fidelities"]), metrics)


class TabulatedProblem(Problem):
    """A table-backed problem answered by the nearest tabulated config (multi-fidelity, or
    its highest level only with ``single_fidelity=True``)."""

    kind = "tabulated"

    def __init__(self, scenario: str, instance: str, *, name: str, metric: str, mode: str,
                 fidelity: str, levels: tuple[float, ...], time_column: str,
                 cumulative_time: bool, extra_metrics: tuple[str, ...],
                 single_fidelity: bool = False) -> None:
        self.scenario = scenario
        self.instance = instance
        self.time_column = time_column
        self.cumulative_time = cumulative_time
        self.extra_metrics = extra_metrics
        #: the table's fidelity levels (``levels`` is ``(1,)`` on a single-fidelity variant)
        self.table_levels = tuple(levels)
        self.single_fidelity = single_fidelity
        if single_fidelity:
            cost = ("tabulated cumulative time (running max) at the last epoch, one step"
                    if cumulative_time else "tabulated training time at the last level, one step")
        else:
            cost = ("increase of the tabulated cumulative time (running max) per epoch"
                    if cumulative_time else "tabulated training time of each level, per step")
        super().__init__(
            name=name, metric=metric, mode=mode,
            fidelity=None if single_fidelity else fidelity,
            levels=(1,) if single_fidelity else levels,
            optimum=None,
            optimum_note=f"best full-fidelity {metric} among the 2000 tabulated configs "
            "(exact: every answer is a table row)",
            cost_note=cost,
        )

    def table(self) -> Table:
        return load_table(self.scenario, self.instance)

    @property
    def optimum(self) -> float:
        final = self.table().metrics[self.metric][:, -1]
        return float(np.min(final) if self.mode == "min" else np.max(final))

    def _make_space(self) -> dict[str, Any]:
        spec = json.loads((data_root() / self.scenario / "space.json").read_text())
        return space_from_json(spec)

    def rung_space(self) -> Space:
        return self.table().space

    def configs(self) -> list[dict[str, Any]]:
        """Every tabulated config (row order), for searchers that choose among them."""
        return [dict(c) for c in self.table().configs]

    def nearest(self, config: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """The row that answers ``config`` and its tabulated config."""
        table = self.table()
        row = table.nearest(self.rung_space().validate(config))
        return row, dict(table.configs[row])

    def default_config(self) -> dict[str, Any]:
        """The defaults recorded in ``space.json`` (conditional ones when active)."""
        defaults = {hp["name"]: hp["default"] for hp in self.table().spec["hyperparameters"]}
        space = self.rung_space()
        return space.validate({k: v for k, v in defaults.items() if space.is_active(k, defaults)})

    def durations(self, row: int) -> np.ndarray:
        """Seconds charged for each step of a row (module docstring: Cost).

        One per table level; a single-fidelity variant charges one duration, the cost of
        reaching the last level (LCBench: the sum of the epochs' increases; XGBoost: one
        training at the full training set).
        """
        times = self.table().metrics[self.time_column][row]
        if not self.cumulative_time:
            per_level = np.maximum(times, MIN_EPOCH_SECONDS)
            return per_level[-1:] if self.single_fidelity else per_level
        monotone = np.maximum.accumulate(times)
        per_epoch = np.maximum(np.diff(monotone, prepend=0.0), MIN_EPOCH_SECONDS)
        return np.array([per_epoch.sum()]) if self.single_fidelity else per_epoch

    def _steps(self, config: dict[str, Any], start_step: int) -> Iterator[Step]:
        table = self.table()
        row = table.nearest(config)
        durations = self.durations(row)
        names = (self.metric, *self.extra_metrics)
        if self.single_fidelity:
            if start_step == 0:
                yield float(durations[0]), {m: float(table.metrics[m][row, -1]) for m in names}
            return
        for i in range(start_step, self.n_steps):
            metrics = {self.fidelity: self.levels[i]}
            metrics.update({m: float(table.metrics[m][row, i]) for m in names})
            yield float(durations[i]), metrics

    def table_value(self, row: int, step: int = -1) -> float:
        """The tabulated ``metric`` of ``row`` at ``step`` (the last by default)."""
        return float(self.table().metrics[self.metric][row, step])


def lcbench(task: str) -> TabulatedProblem:
    """LCBench on OpenML task ``task``: 52 epochs of an MLP trained with SGD."""
    return TabulatedProblem(
        "lcbench", task, name=f"lcbench-{task}", metric="val_balanced_accuracy", mode="max",
        fidelity="epoch", levels=tuple(range(1, 53)), time_column="time",
        cumulative_time=True, extra_metrics=("val_accuracy", "val_cross_entropy"),
    )


def xgboost(task: str) -> TabulatedProblem:
    """rbv2 XGBoost on OpenML task ``task``: training-set fraction 0.05..1 in 20 levels."""
    levels = tuple(round(0.05 * k, 2) for k in range(1, 21))
    return TabulatedProblem(
        "rbv2_xgboost", task, name=f"xgboost-{task}", metric="acc", mode="max",
        fidelity="trainsize", levels=levels, time_column="timetrain",
        cumulative_time=False, extra_metrics=("logloss",),
    )


def lcbench_sf(task: str) -> TabulatedProblem:
    """LCBench on ``task`` at 52 epochs only: one step, the whole training's cost."""
    return TabulatedProblem(
        "lcbench", task, name=f"lcbench-sf-{task}", metric="val_balanced_accuracy", mode="max",
        fidelity="epoch", levels=tuple(range(1, 53)), time_column="time",
        cumulative_time=True, extra_metrics=("val_accuracy", "val_cross_entropy"),
        single_fidelity=True,
    )


def xgboost_sf(task: str) -> TabulatedProblem:
    """rbv2 XGBoost on ``task`` at the full training set only: one step."""
    levels = tuple(round(0.05 * k, 2) for k in range(1, 21))
    return TabulatedProblem(
        "rbv2_xgboost", task, name=f"xgboost-sf-{task}", metric="acc", mode="max",
        fidelity="trainsize", levels=levels, time_column="timetrain",
        cumulative_time=False, extra_metrics=("logloss",), single_fidelity=True,
    )


def problems() -> dict[str, Callable[[], Problem]]:
    """The registry entries of this family: name to a factory."""
    entries: dict[str, Callable[[], Problem]] = {}
    for task in LCBENCH_TASKS:
        entries[f"lcbench-{task}"] = functools.partial(lcbench, task)
    for task in XGBOOST_TASKS:
        entries[f"xgboost-{task}"] = functools.partial(xgboost, task)
    for task in LCBENCH_TASKS:
        entries[f"lcbench-sf-{task}"] = functools.partial(lcbench_sf, task)
    for task in XGBOOST_TASKS:
        entries[f"xgboost-sf-{task}"] = functools.partial(xgboost_sf, task)
    return entries
