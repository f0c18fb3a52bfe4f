"""Changing the store: ``rung stop NAME`` and ``rung delete NAME``."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

from .._names import name_problem, stored_name_problem
from ..storage import ExperimentRecord, Storage, rung_home
from ._common import EXIT_FAILURE, CliError, open_store, require_experiment, say, storage_hint


def check_name_argument(name: str, label: str = "NAME") -> str:
    """An experiment name given on the command line, or a usage error (exit code 2) naming
    the argument: rung never looks up, and so never deletes, by a name such as ``../..``."""
    problem = name_problem(name)
    if problem is not None:
        raise CliError(f"{label}: an experiment name {problem}")
    return name


def check_stored_name_argument(name: str, label: str = "NAME") -> str:
    """A name of an experiment that must already be in the store (``stop``, ``delete``,
    ``resume``, ``show``): held to the looser rule for names stored before today's rule, so
    such experiments stay manageable, while ``..`` or a path is still refused unlooked-up."""
    problem = stored_name_problem(name)
    if problem is not None:
        raise CliError(f"{label}: an experiment name {problem}")
    return name


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    stop = subparsers.add_parser(
        "stop", parents=parents, help="ask a running experiment to stop",
        description="Set the experiment's stop flag; the tuner running it checks about once a second, "
                    "stops its running trials and ends with stop reason 'stop_requested'.",
    )
    stop.add_argument("name", metavar="NAME", help="the experiment")
    stop.add_argument("--wait", action="store_true", help="return only once the experiment has ended")
    stop.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                      help="with --wait: give up (exit code 1) after this long (default: 60)")
    stop.set_defaults(handler=cmd_stop)

    delete = subparsers.add_parser(
        "delete", parents=parents, help="delete an experiment and its records",
        description="Remove the experiment, its trials and reports from the store, and the directory of trial "
                    "files the store records for it when that directory is inside $RUNG_HOME/experiments/ "
                    "(anywhere else, the files are left and their place is printed). Nothing is asked.",
    )
    delete.add_argument("name", metavar="NAME", help="the experiment")
    delete.add_argument("--force", action="store_true",
                        help="delete even if the store says it is running (e.g. its process died)")
    delete.set_defaults(handler=cmd_delete)


def cmd_stop(args: argparse.Namespace) -> int:
    check_stored_name_argument(args.name)
    store = open_store(args.storage)
    try:
        experiment = require_experiment(store, args.name, args.storage)
        assert store is not None
        if experiment.status != "running":
            say(f"experiment {args.name!r} is not running (status: {experiment.status}); nothing to stop")
            return 0
        store.request_stop(args.name)
        say(f"stop requested for {args.name!r}")
        if not args.wait:
            return 0
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            current = store.get_experiment(args.name)
            if current is None or current.status != "running":
                say(f"experiment {args.name!r} ended" + (f" ({current.stop_reason})" if current else ""))
                return 0
            time.sleep(0.2)
        raise CliError(f"experiment {args.name!r} is still running after {args.timeout:g} s", code=EXIT_FAILURE)
    finally:
        if store is not None:
            store.dispose()


def cmd_delete(args: argparse.Namespace) -> int:
    check_stored_name_argument(args.name)
    store = open_store(args.storage)
    try:
        experiment = require_experiment(store, args.name, args.storage)
        assert store is not None
        if experiment.status == "running" and not args.force:
            raise CliError(
                f"experiment {args.name!r} is running; stop it first with `rung stop {args.name}` "
                "(or pass --force if the process running it is gone)"
            )
        removable, why_not = removable_workdir(experiment, store)
        store.delete_experiment(args.name)
    finally:
        if store is not None:
            store.dispose()
    say(f"deleted experiment {args.name!r}")
    if removable is not None:
        shutil.rmtree(removable, ignore_errors=True)
    elif why_not:
        say(f"its trial files are left in {experiment.workdir} ({why_not})")
    return 0


def removable_workdir(experiment: ExperimentRecord, store: Storage) -> tuple[Path | None, str]:
    """The directory ``rung delete`` may remove for ``experiment``, or None and why not
    (an empty reason: there is nothing to remove).

    Only the directory the store records for the experiment, and only if it is a real
    directory (not a symlink) strictly inside ``$RUNG_HOME/experiments/`` once resolved, and
    no other experiment of the store records it or a directory inside it. Anything else
    may hold the user's own files (a chosen ``workdir=``, or a store written by someone else).
    """
    if not experiment.workdir:
        return None, ""
    workdir = Path(experiment.workdir)
    if not workdir.exists() and not workdir.is_symlink():
        return None, ""
    if workdir.is_symlink():
        return None, "it is a symbolic link"
    if not workdir.is_dir():
        return None, "it is not a directory"
    root = (rung_home() / "experiments").resolve()
    resolved = workdir.resolve()
    if resolved == root or root not in resolved.parents:
        return None, f"it is not inside {root}"
    for summary in store.list_experiments():
        if summary.name == experiment.name:
            continue
        try:
            other = store.get_experiment(summary.name)
        except Exception:  # an unreadable record: it might name this directory
            return None, f"the record of experiment {summary.name!r} cannot be read"
        if other is not None and other.workdir:
            other_dir = Path(other.workdir).resolve()
            if other_dir == resolved or resolved in other_dir.parents:
                return None, f"experiment {other.name!r} keeps its files there too"
    return resolved, ""


def nothing_to_resume(store: Storage, experiment: ExperimentRecord, max_trials: int | None,
                      spec_max_trials: int | None) -> str | None:
    """Why ``rung resume`` has nothing to do for ``experiment``, and how to add trials; None
    when resuming would run something (it was interrupted or stopped, or the total number
    of trials, ``max_trials`` or else the spec's ``spec_max_trials``, is above the trials it
    has)."""
    if experiment.status != "finished":
        return None
    reason = experiment.stop_reason
    summary = next((e for e in store.list_experiments() if e.name == experiment.name), None)
    n_trials = 0 if summary is None else summary.n_trials
    hint = storage_hint(store)
    total = max_trials if max_trials is not None else spec_max_trials
    more = f"rung resume {experiment.name} --max-trials {n_trials + 10}{hint}"
    if reason == "max_trials" and isinstance(total, int) and n_trials >= total:
        given = "--max-trials" if max_trials is not None else "the spec's budget.max_trials"
        return (
            f"nothing to do: experiment {experiment.name!r} is finished with {n_trials} trials, and {given} is "
            f"{total} (a total, not a number to add). To run 10 more trials: {more}"
        )
    if reason == "search_exhausted" and max_trials is None:
        return f"nothing to do: experiment {experiment.name!r} is finished: its searcher has no config left to try"
    if reason == "metric_threshold":
        return (
            f"nothing to do: experiment {experiment.name!r} is finished: a trial reached its metric_threshold "
            "(`rung show` has the details)"
        )
    return None
