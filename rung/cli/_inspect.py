"""Reading the store: ``rung list``, ``show NAME``, ``best NAME`` and ``trials NAME``."""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from typing import Any

from ..results._load import load
from ..results._result import TuningResult
from ..results._view import ExperimentView, view_of_best, view_of_result
from ..storage import ExperimentRecord, ExperimentSummary, StorageError
from ._common import (
    EXIT_FAILURE,
    CliError,
    json_default,
    open_store,
    positive_int,
    require_experiment,
    say,
    stdout_console,
)
from ._tables import experiments_table, summary_table, trials_table

#: Beyond this many trials ``rung show`` without ``--top`` lists the best
#: :data:`SHOW_BEST` only and says so: drawing a table of 100,000 rows takes minutes
#: (about 2 ms a row) and no one reads it; ``--top N`` and ``rung trials NAME`` give more.
SHOW_ALL_UP_TO = 200
SHOW_BEST = 50


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    listing = subparsers.add_parser("list", parents=parents, help="list the experiments in the store",
                                    description="A table of the experiments: status, trials, best value, creation time. "
                                                "PATTERN keeps the names that contain it (or match it, with * ? [ ]); "
                                                "--status keeps one status; --limit keeps the N most recent.")
    listing.add_argument("pattern", nargs="?", metavar="PATTERN",
                         help="only names containing PATTERN, or matching it as a glob (e.g. 'mlp-*')")
    listing.add_argument("--status", choices=("created", "running", "finished", "interrupted", "failed"),
                         help="only experiments with this status")
    listing.add_argument("--limit", type=positive_int, metavar="N", help="only the N most recently created")
    listing.set_defaults(handler=cmd_list)

    show = subparsers.add_parser("show", parents=parents, help="summary and trials of an experiment",
                                 description="Status, metric, trial counts, best value and config, stop reason, "
                                             f"wall-clock, then one row per trial (above {SHOW_ALL_UP_TO} trials, "
                                             f"the best {SHOW_BEST}, unless --top says how many).")
    show.add_argument("name", metavar="NAME", help="the experiment")
    show.add_argument("--top", type=positive_int, metavar="N", help="only the N best trials, best first")
    show.set_defaults(handler=cmd_show)

    best = subparsers.add_parser("best", parents=parents, help="print the best config (JSON or YAML)",
                                 description="Print only the best config, ready to paste; nothing else goes to stdout.")
    best.add_argument("name", metavar="NAME", help="the experiment")
    best.add_argument("--format", choices=("json", "yaml"), default="json", help="output format (default: json)")
    best.set_defaults(handler=cmd_best)

    trials = subparsers.add_parser("trials", parents=parents, help="export every trial as CSV or JSON",
                                   description="Write the trials table (one row per trial, config columns named "
                                               "config/<parameter>) to stdout.")
    trials.add_argument("name", metavar="NAME", help="the experiment")
    trials.add_argument("--format", choices=("csv", "json"), default="csv",
                        help="csv, or json (a list of records) (default: csv)")
    trials.set_defaults(handler=cmd_trials)


def cmd_list(args: argparse.Namespace) -> int:
    store = open_store(args.storage)
    if store is None:
        say("no experiments (the store does not exist yet)")
        return 0
    try:
        experiments = store.list_experiments()
        unreadable = store.unreadable_experiments()
    finally:
        store.dispose()
    if not experiments:
        say(f"no experiments in {store.url}")
        return 0
    total = len(experiments)
    experiments = select_experiments(experiments, args.pattern, args.status, args.limit)
    if not experiments:
        say(f"none of the {total} experiments in {store.url} match ({_filters(args)})")
        return 0
    stdout_console().print(experiments_table(experiments, unreadable))
    if len(experiments) < total:
        say(f"{len(experiments)} of {total} experiments shown ({_filters(args)})")
    for problem in unreadable.values():
        say(f"rung: unreadable: {problem}")
    return 0


def select_experiments(experiments: list[ExperimentSummary], pattern: str | None, status: str | None,
                       limit: int | None) -> list[ExperimentSummary]:
    """The experiments whose name contains ``pattern`` (or matches it as a glob when it has
    ``* ? [``), with ``status``, the ``limit`` most recently created, in creation order."""
    chosen = list(experiments)
    if pattern:
        if any(c in pattern for c in "*?["):
            chosen = [e for e in chosen if fnmatch.fnmatchcase(e.name, pattern)]
        else:
            chosen = [e for e in chosen if pattern in e.name]
    if status:
        chosen = [e for e in chosen if e.status == status]
    chosen.sort(key=lambda e: (e.created_at, e.id))
    if limit is not None:
        chosen = chosen[-limit:]
    return chosen


def _filters(args: argparse.Namespace) -> str:
    parts = []
    if args.pattern:
        parts.append(f"name {args.pattern!r}")
    if args.status:
        parts.append(f"--status {args.status}")
    if args.limit:
        parts.append(f"--limit {args.limit}")
    return ", ".join(parts)


def _load(args: argparse.Namespace) -> tuple[ExperimentRecord, TuningResult]:
    """The experiment's record and its result, or a usage error if there is no such experiment."""
    store = open_store(args.storage)
    try:
        experiment = require_experiment(store, args.name, args.storage)
        return experiment, load(args.name, storage=store)
    except StorageError as err:  # e.g. a corrupt row: one line naming the experiment and row
        raise CliError(str(err)) from None
    finally:
        if store is not None:
            store.dispose()


def _view(args: argparse.Namespace) -> tuple[ExperimentRecord, ExperimentView]:
    """What ``show`` prints: a small experiment whole, a large one (or ``--top N``) from its
    best trials only, without reading its whole log."""
    store = open_store(args.storage)
    try:
        experiment = require_experiment(store, args.name, args.storage)
        assert store is not None
        limit = args.top or SHOW_BEST
        best = store.read_best_trials(experiment.id, experiment.mode, limit)
        if args.top is None and sum(best.counts.values()) <= SHOW_ALL_UP_TO:
            return experiment, view_of_result(load(args.name, storage=store))
        return experiment, view_of_best(experiment, best, limit)
    except StorageError as err:  # e.g. a corrupt row: one line naming the experiment and row
        raise CliError(str(err)) from None
    finally:
        if store is not None:
            store.dispose()


def cmd_show(args: argparse.Namespace) -> int:
    experiment, view = _view(args)
    console = stdout_console()
    console.print(summary_table(experiment, view))
    if view.n_trials:
        console.print()
        console.print(trials_table(view, width=console.width))
        if args.top is None and view.ranked:
            console.print(f"{view.n_trials:,} trials: the best {SHOW_BEST} shown; "
                          f"`rung show {args.name} --top N` for more, `rung trials {args.name}` for all")
    return 0


def cmd_best(args: argparse.Namespace) -> int:
    _, result = _load(args)
    config = result.best_config
    if config is None:
        raise CliError(f"experiment {args.name!r} has no trial with a value yet", code=EXIT_FAILURE)
    if args.format == "json":
        sys.stdout.write(json.dumps(config, indent=2, default=json_default) + "\n")
    else:
        import yaml

        plain = json.loads(json.dumps(config, default=json_default))  # numpy values -> plain data
        sys.stdout.write(yaml.safe_dump(plain, sort_keys=False, default_flow_style=False))
    return 0


def cmd_trials(args: argparse.Namespace) -> int:
    _, result = _load(args)
    frame = result.trials
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        sys.stdout.write(json.dumps(records, default=json_default) + "\n")  # floats exact, NaN as null
    return 0
