"""``rung compare SPEC --methods random tpe asha --seeds 10``: methods over seeds on a spec's problem."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from ._common import EXIT_FAILURE, EXIT_OK, CliError, positive_int, say


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    compare = subparsers.add_parser(
        "compare", parents=parents, help="compare methods over seeds on the problem of a YAML spec",
        description="Run each method with each seed on SPEC's trial, space and metric (in parallel; on the "
                    "simulator backend when the trial is simulated or tabulated), store every run and the "
                    "comparison, and print final values and time to a target per method. Running the same "
                    "command again skips the runs already finished.",
    )
    compare.add_argument("spec", metavar="SPEC.yaml", help="the experiment spec file")
    compare.add_argument("--methods", nargs="+", metavar="METHOD", default=["random", "tpe", "asha"],
                         help="methods: random grid tpe gp auto asha asha-promotion hyperband sh median bohb "
                              "mobster, or SEARCHER+SCHEDULER such as tpe+asha (default: random tpe asha)")
    compare.add_argument("--seeds", type=positive_int, default=10, metavar="N", help="seeds 0..N-1 (default 10)")
    compare.add_argument("--name", help="the comparison's name in the store (default compare-<date>-<time>)")
    compare.add_argument("--max-trials", type=positive_int, metavar="N", help="trials per run (default: the spec's)")
    compare.add_argument("--max-wallclock", type=float, metavar="S", help="seconds per run (default: the spec's)")
    compare.add_argument("--workers", type=positive_int, metavar="N", help="trials at once in each run")
    compare.add_argument("--jobs", type=positive_int, metavar="N", help="runs at once (default: one per core)")
    compare.add_argument("--resource-attr", metavar="NAME", help="what trials report as their resource (e.g. epoch)")
    compare.add_argument("--max-resource", type=float, metavar="R", help="the resource of a full trial")
    compare.add_argument("--target", type=float, help="the value 'time to target' measures "
                                                      "(default: random search's median final value)")
    compare.add_argument("--plot", metavar="PATH", help="save the incumbent curves (mean and 95%% band) to PATH")
    compare.add_argument("--quiet", action="store_true", help="no line per finished run")
    compare.set_defaults(handler=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from ..compare import compare
    from ..compare._comparison import RunSummary

    def on_run(summary: RunSummary) -> None:
        if not args.quiet:
            say(f"done: {summary.method} seed {summary.seed} ({summary.experiment}): best {summary.final:.6g}, "
                f"{summary.n_trials} trials")

    try:
        comparison = compare(
            args.spec, methods=args.methods, seeds=args.seeds, name=args.name, max_trials=args.max_trials,
            max_wallclock=args.max_wallclock, n_workers=args.workers, jobs=args.jobs,
            resource_attr=args.resource_attr, max_resource=args.max_resource, target=args.target,
            storage=args.storage, on_run=on_run,
        )
    except (ValueError, TypeError) as err:
        raise CliError(str(err)) from None
    _print_summary(comparison)
    if args.plot:
        say(f"plot: {comparison.plot(args.plot)}")
    say(f"stored as comparison {comparison.name!r}; runs are experiments {comparison.name}.<method>.s<seed>")
    return EXIT_OK if any(math.isfinite(r.final) for r in comparison.run_records) else EXIT_FAILURE


def _print_summary(comparison: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    summary = comparison.summary()
    target = float(summary["target"].iloc[0]) if len(summary) else math.nan
    table = Table(title=f"{comparison.name}: {comparison.metric} ({comparison.mode}), {len(comparison.seeds)} seeds; "
                        f"target {target:.6g}")
    for column in ("method", "final mean", "95% interval", "median", "best", "time to target (median)", "reached",
                   "trials"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for row in summary.itertuples():
        interval = "" if math.isnan(row.final_low) else f"{row.final_low:.4g} .. {row.final_high:.4g}"
        time = "never" if math.isinf(row.median_time_to_target) else f"{row.median_time_to_target:.4g} s"
        table.add_row(str(row.method), f"{row.final_mean:.6g}", interval, f"{row.final_median:.6g}",
                      f"{row.final_best:.6g}", time, f"{row.reached}/{row.seeds}", f"{row.trials_mean:.3g}")
    Console(file=sys.stdout, width=140).print(table)
