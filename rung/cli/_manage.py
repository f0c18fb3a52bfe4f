"""Changing the store: ``rung stop NAME`` and ``rung delete NAME``."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

from ..storage import rung_home
from ._common import EXIT_FAILURE, CliError, open_store, require_experiment, say


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
        description="Remove the experiment, its trials and reports from the store, and its trial files when "
                    "they are in rung's default place ($RUNG_HOME/experiments/NAME). Nothing is asked.",
    )
    delete.add_argument("name", metavar="NAME", help="the experiment")
    delete.add_argument("--force", action="store_true",
                        help="delete even if the store says it is running (e.g. its process died)")
    delete.set_defaults(handler=cmd_delete)


def cmd_stop(args: argparse.Namespace) -> int:
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
    store = open_store(args.storage)
    try:
        experiment = require_experiment(store, args.name, args.storage)
        assert store is not None
        if experiment.status == "running" and not args.force:
            raise CliError(
                f"experiment {args.name!r} is running; stop it first with `rung stop {args.name}` "
                "(or pass --force if the process running it is gone)"
            )
        store.delete_experiment(args.name)
    finally:
        if store is not None:
            store.dispose()
    say(f"deleted experiment {args.name!r}")
    workdir = experiment.workdir
    if workdir and Path(workdir).exists():
        # Only rung's own directory is removed: a workdir chosen by the user may hold other files.
        if Path(workdir).resolve() == (rung_home() / "experiments" / args.name).resolve():
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"its trial files are left in {workdir}")
    return 0
