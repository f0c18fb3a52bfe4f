"""``rung run SPEC.yaml`` and ``rung resume NAME``: tuning runs from the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..results._result import TuningResult
from ..spec import ExperimentSpec, load_spec
from ..storage import Storage
from ._common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CliError,
    json_default,
    open_store,
    positive_int,
    require_experiment,
    say,
    storage_hint,
)
from ._dashboard import add_dashboard_flag
from ._manage import check_name_argument, check_stored_name_argument, nothing_to_resume


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser(
        "run", parents=parents, help="run the experiment described by a YAML spec",
        description="Check SPEC (refusing an invalid one before anything runs), then tune. "
                    "--storage wins over the spec's storage field. "
                    "Exit code 1 if no trial produced a value, 130 if interrupted.",
    )
    run.add_argument("spec", metavar="SPEC.yaml", help="the experiment spec file")
    run.add_argument("--name", help="experiment name (default: the spec's name)")
    _add_overrides(run)
    run.set_defaults(handler=cmd_run)

    resume = subparsers.add_parser(
        "resume", parents=parents, help="continue an experiment started with `rung run`",
        description="Rebuild the tuner from the spec stored with experiment NAME and continue it: "
                    "finished trials are kept, interrupted ones start again. The stored budgets "
                    "apply unless overridden.",
    )
    resume.add_argument("name", metavar="NAME", help="the experiment")
    _add_overrides(resume)
    resume.set_defaults(handler=cmd_resume)


def _add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-trials", type=positive_int, metavar="N",
                        help="the experiment's total number of trials, counting those already run, not a number "
                             "to add (overrides budget.max_trials)")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="trials at once (overrides budget.max_concurrent)")
    parser.add_argument("--quiet", action="store_true", help="no progress display and no summary")
    add_dashboard_flag(parser)


def _overrides(args: argparse.Namespace, store: Storage) -> dict[str, Any]:
    overrides: dict[str, Any] = {"storage": store, "verbose": 0 if args.quiet else 1}
    if args.dashboard:
        overrides["dashboard"] = {"port": args.dashboard_port}
    if args.max_trials is not None:
        overrides["max_trials"] = args.max_trials
    if args.workers is not None:
        overrides["n_workers"] = args.workers
    return overrides


def cmd_run(args: argparse.Namespace) -> int:
    if args.name is not None:
        check_name_argument(args.name, "--name")
    spec = load_spec(args.spec)
    name = args.name or spec.name
    store = open_store(args.storage or spec.storage, create=True)
    assert store is not None
    try:
        if store.get_experiment(name) is not None:
            raise CliError(
                f"experiment {name!r} already exists in {store.url}; continue it with "
                f"`rung resume {name}{storage_hint(store)}`, remove it with `rung delete {name}{storage_hint(store)}`, "
                "or pick another name with --name"
            )
        for other in spec.warm_start:
            if store.get_experiment(other) is None:
                raise CliError(f"warm_start: no experiment named {other!r} in {store.url}")
        overrides = _overrides(args, store)
        if args.name:
            overrides["experiment"] = name
        return _run(spec, overrides, store, args.quiet)
    finally:
        store.dispose()


def cmd_resume(args: argparse.Namespace) -> int:
    check_stored_name_argument(args.name)
    store = open_store(args.storage)
    try:
        experiment = require_experiment(store, args.name, args.storage)
        assert store is not None
        if experiment.spec is None:
            raise CliError(
                f"experiment {args.name!r} was not started from a spec file (it was run from Python), so "
                f"its objective cannot be rebuilt here; resume it from Python with "
                f"rung.Tuner(..., experiment={args.name!r}, resume=True)"
            )
        spec = ExperimentSpec.from_stored(experiment.spec)
        nothing = nothing_to_resume(store, experiment, args.max_trials, spec.budget.max_trials)
        if nothing is not None:  # finished: say so, and how to add trials
            say(nothing)
            return EXIT_OK
        overrides = {**_overrides(args, store), "experiment": args.name, "resume": True}
        return _run(spec, overrides, store, args.quiet)
    finally:
        if store is not None:
            store.dispose()


def _run(spec: ExperimentSpec, overrides: dict[str, Any], store: Storage, quiet: bool) -> int:
    """Build the tuner (bad overrides are usage errors), run it and say how it went."""
    try:
        tuner = spec.build_tuner(**overrides)
    except ValueError as err:  # SpecError included
        raise CliError(str(err)) from None
    result = tuner.run()
    return _conclude(result, store, quiet)


def _conclude(result: TuningResult, store: Storage, quiet: bool) -> int:
    name = result.experiment
    if result.status == "interrupted":
        say(f"interrupted; {len(result.trial_records)} trial(s) are recorded. "
            f"Continue with: rung resume {name}{storage_hint(store)}")
        return EXIT_INTERRUPTED
    best = result.best_trial
    if best is None:
        say(f"rung: error: no trial of {name!r} produced a value; "
            f"see the errors with: rung show {name}{storage_hint(store)}")
        return EXIT_FAILURE
    if not quiet:
        print(f"best {result.metric}={best.metric_value:.6g} (trial {best.trial_id}): "
              f"{json.dumps(result.best_config, default=json_default)}")
        say(f"details: rung show {name}{storage_hint(store)}")
    return EXIT_OK
