"""The experiment spec: a YAML file that says everything a tuning run needs.

``load_spec(path)`` reads and checks the file (refusing a bad one before anything runs);
``spec.build_tuner(**overrides)`` makes the :class:`rung.Tuner`. The tuner stores the spec
as written, plus where it came from, so ``rung resume NAME`` can rebuild the same tuner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..tuner import Tuner
from ..space import Space
from ._checks import Checker, describe
from ._components import (
    Budget,
    Component,
    build_budget,
    build_scheduler,
    build_searcher,
    build_space,
    check_backend,
    check_buildable,
    scheduler_component,
    searcher_component,
)
from ._source import FieldPath, read_spec_file
from ._trial import build_objective

FIELDS = ("name", "trial", "space", "metric", "mode", "searcher", "scheduler", "seed", "budget", "storage",
          "backend", "warm_start")
REQUIRED = ("name", "trial", "space", "metric")
SOURCE_KEY = "_source"  # added to the stored copy: where the spec file was


@dataclass(frozen=True)
class ExperimentSpec:
    """A checked experiment spec; :meth:`build_tuner` turns it into a :class:`rung.Tuner`."""

    name: str
    objective: Callable[[dict], Any]
    space: Space
    metric: str
    mode: str
    searcher: Component
    scheduler: Component
    seed: int | None
    budget: Budget
    storage: str | None
    backend: str
    warm_start: tuple[str, ...]
    base_dir: Path
    file: str
    data: dict[str, Any] = field(repr=False)
    lines: dict[FieldPath, int] = field(default_factory=dict, repr=False, compare=False)

    # -- building ----------------------------------------------------------------------------
    def tuner_kwargs(self) -> dict[str, Any]:
        """The :class:`rung.Tuner` arguments this spec stands for (fresh searcher and scheduler)."""
        budget = self.budget
        return {
            "objective": self.objective,
            "space": self.space,
            "metric": self.metric,
            "mode": self.mode,
            "searcher": build_searcher(self.searcher, self.space, self.metric, self.mode, self.seed),
            "scheduler": build_scheduler(self.scheduler),
            "n_workers": budget.max_concurrent,
            "max_trials": budget.max_trials,
            "max_wallclock": budget.max_wallclock,
            "metric_threshold": budget.metric_threshold,
            "max_failures": budget.max_failures,
            "max_initial_failures": budget.max_initial_failures,
            "trial_timeout": budget.trial_timeout,
            "backend": self.backend,
            "seed": self.searcher.options.get("seed", self.seed),
            "experiment": self.name,
            "storage": self.storage,
            "warm_start": list(self.warm_start),
        }

    def build_tuner(self, **overrides: Any) -> Tuner:
        """A :class:`rung.Tuner` for this spec; ``overrides`` are Tuner arguments that win
        over the spec's (e.g. ``max_trials=``, ``n_workers=``, ``storage=``, ``resume=True``).

        Raises SpecError if the experiment would have no end (no trial, time or threshold
        budget and an endless searcher), ValueError for invalid overrides.
        """
        kwargs = self.tuner_kwargs()
        stored = self.to_stored()
        if "experiment" in overrides:
            stored = {**stored, "name": overrides["experiment"]}
        kwargs.update(overrides)
        ends = any(kwargs.get(key) is not None for key in ("max_trials", "max_wallclock", "metric_threshold"))
        if not ends and not getattr(kwargs["searcher"], "is_finite", False):
            check = Checker(self.file, self.lines)
            raise check.error(
                ("budget",),
                "the experiment has no end: set budget.max_trials, budget.max_wallclock or "
                "budget.metric_threshold (or use a finite searcher such as grid)",
            )
        tuner = Tuner(**kwargs)
        tuner.spec = stored  # stored with the experiment, so that a resume can rebuild it
        return tuner

    # -- the stored copy ---------------------------------------------------------------------
    def to_stored(self) -> dict[str, Any]:
        """The spec as written, plus its file and directory (relative paths resolve on resume)."""
        return {**self.data, SOURCE_KEY: {"file": _absolute(self.file), "base_dir": str(self.base_dir)}}

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any], label: str | None = None) -> ExperimentSpec:
        """Rebuild a spec from :meth:`to_stored` output (what ``rung resume`` does)."""
        data = dict(stored)
        source = data.pop(SOURCE_KEY, None) or {}
        base_dir = Path(source.get("base_dir") or os.getcwd())
        if label is None:
            label = f"stored spec of {data.get('name')!r}"
            if source.get("file"):
                label += f" (from {source['file']})"
        return parse_spec(data, base_dir=base_dir, file=label)


def _absolute(file: str) -> str:
    path = Path(file)
    return str(path.resolve()) if path.exists() else file


def load_spec(path: str | os.PathLike) -> ExperimentSpec:
    """Read and check the YAML experiment spec at ``path``.

    Relative paths in it (``module:function`` modules, script files, a SQLite ``storage``)
    resolve against the spec file's directory, which is put first on ``sys.path``. Raises
    :class:`SpecError` naming the file, the field and its line for anything invalid.
    """
    file = os.fspath(path)
    data, lines = read_spec_file(file)
    return parse_spec(data, base_dir=Path(file).resolve().parent, file=file, lines=lines)


def parse_spec(
    data: Any,
    base_dir: str | os.PathLike | None = None,
    file: str = "<spec>",
    lines: Mapping[FieldPath, int] | None = None,
) -> ExperimentSpec:
    """Check a spec already parsed into ``data``; ``lines`` maps field paths to lines."""
    check = Checker(file, lines)
    base = Path(base_dir if base_dir is not None else os.getcwd()).resolve()
    data = check.mapping(data, (), FIELDS, REQUIRED)
    name = check.experiment_name(data["name"], ("name",))
    metric = check.string(data["metric"], ("metric",))
    mode = check.string(data.get("mode", "min"), ("mode",), ("min", "max"))
    space = build_space(data["space"], check)
    seed = check.integer(data.get("seed"), ("seed",))
    searcher = searcher_component(data.get("searcher"), check)
    seed_of_searcher = searcher.options.get("seed", seed)
    check_buildable("searcher", searcher, lambda: build_searcher(searcher, space, metric, mode, seed_of_searcher), check)
    scheduler = scheduler_component(data.get("scheduler"), check)
    check_buildable("scheduler", scheduler, lambda: build_scheduler(scheduler), check)
    budget = build_budget(data.get("budget"), check)
    backend = check_backend(data.get("backend", "process"), budget, check)
    storage = data.get("storage")
    if storage is not None:
        storage = _storage_url(check.string(storage, ("storage",)), base)
    warm_start = tuple(
        check.experiment_name(item, ("warm_start", index))
        for index, item in enumerate(check.string_list(data.get("warm_start") or [], ("warm_start",)))
    )
    _check_storable(data, check)  # after the field checks, whose messages say more
    objective = build_objective(data["trial"], base, check)  # last: it imports user code
    return ExperimentSpec(
        name=name, objective=objective, space=space, metric=metric, mode=mode, searcher=searcher,
        scheduler=scheduler, seed=seed, budget=budget, storage=storage, backend=backend,
        warm_start=warm_start, base_dir=base, file=file, data=data, lines=dict(lines or {}),
    )


def _storage_url(url: str, base_dir: Path) -> str:
    """A SQLite path in a spec is relative to the spec file, not to where rung runs."""
    if url == ":memory:":
        return url
    if "://" not in url:
        path = Path(url).expanduser()
        return str(path if path.is_absolute() else base_dir / path)
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != prefix:
        rest = Path(url[len(prefix):]).expanduser()
        if not rest.is_absolute():
            return prefix + str(base_dir / rest)
    return url


def _check_storable(data: Any, check: Checker, path: FieldPath = ()) -> None:
    """The store keeps the spec as JSON: refuse dates, binary and other YAML-only values."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return
    if isinstance(data, list):
        for index, item in enumerate(data):
            _check_storable(item, check, (*path, index))
        return
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                raise check.error((*path, key), f"keys must be strings, got {describe(key)}")
            _check_storable(value, check, (*path, key))
        return
    raise check.error(path, f"{describe(data)} cannot be stored; quote it to make it a string")

