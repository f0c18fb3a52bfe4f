"""``python -m benchmarks``: run benchmark suites, report them, and the smoke check.

Commands:

- ``run``: methods x problems x seeds, in parallel, stored in the rung store (resumable:
  a rerun of the same ``--suite`` skips finished cells), then the report.
- ``report``: the markdown tables of a stored suite, and the plots with ``--out``.
- ``smoke``: tiny budgets on a few problems and methods, 2 seeds, in a fresh temporary store;
  prints the comparison table; exits 1 if a cell failed (what CI runs).
- ``list``: the problems a selection gives, with the methods that apply to each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ._runner import Cell, run_suite
from ._selection import BudgetSpec, parse_time, peers_module, select_methods, select_problems
from ._store import BudgetMismatch, ResultStore

SMOKE_PROBLEMS = ("branin", "mf-hartmann6-lowbias", "lcbench-3945")
SMOKE_METHODS = ("rung-random", "rung-auto", "rung-tpe", "rung-gp", "rung-asha", "rung-hyperband", "rung-bohb-asha",
                 "rung-mobster-asha",
                 "*-random", "*-tpe", "*-asha", "*-halving")
SMOKE_TIME = "20x"
SMOKE_WORKERS = 2
SMOKE_SEEDS = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    def selection(sub: argparse.ArgumentParser, problems_default: str) -> None:
        sub.add_argument("--problems", nargs="+", metavar="P",
                         help="problem names, fnmatch patterns or groups: synthetic, tabulated, real, "
                              f"multi-fidelity, single-fidelity, all (default: {problems_default})")
        sub.add_argument("--methods", nargs="+", metavar="M",
                         help="method names, fnmatch patterns (rung-*, *-tpe) or libraries (rung, optuna); "
                              "default: all that apply")
        sub.add_argument("--no-peers", action="store_true", help="rung's methods only")

    def storage(sub: argparse.ArgumentParser, suite_default: str | None) -> None:
        sub.add_argument("--store", metavar="PATH", help="rung store (path or SQLAlchemy URL; default: rung's "
                                                          "default store, $RUNG_HOME/rung.db)")
        if suite_default is not None:
            sub.add_argument("--suite", default=suite_default, help=f"suite name in the store (default: {suite_default})")

    run = commands.add_parser("run", help="run a suite (resumable) and print its report",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    selection(run, "synthetic tabulated")
    run.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1")
    run.add_argument("--max-evaluations", type=int, default=None, help="configurations per run")
    run.add_argument("--max-time", default="100x",
                     help="seconds on the problem's clock, or Nx = the time of N average full-fidelity "
                          "evaluations on the workers (on real problems: N evaluations)")
    run.add_argument("--workers", type=int, default=4, help="simulated workers per run (real problems: 1)")
    run.add_argument("--count-decision-time", action="store_true",
                     help="add the optimizers' real decision time to the simulated clock")
    run.add_argument("--jobs", type=int, default=None, help="parallel runs (default: one per core)")
    storage(run, "default")
    run.add_argument("--out", metavar="DIR", help="write report.md, regret.png and ranks.png here")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    report = commands.add_parser("report", help="print the tables of a stored suite; plots with --out")
    storage(report, "default")
    report.add_argument("--problems", nargs="+", metavar="P", help="only these problems (fnmatch patterns)")
    report.add_argument("--methods", nargs="+", metavar="M", help="only these methods (patterns or libraries)")
    report.add_argument("--out", metavar="DIR", help="write report.md, regret.png and ranks.png here")

    smoke = commands.add_parser("smoke", help="tiny suite, 2 seeds, fresh store: checks the harness end to end")
    smoke.add_argument("--store", metavar="PATH", help="store (default: a new temporary file)")
    smoke.add_argument("--out", metavar="DIR", help="plots and report.md (default: a new temporary folder)")
    smoke.add_argument("--jobs", type=int, default=None, help="parallel runs (default: one per core)")
    smoke.add_argument("--no-peers", action="store_true", help="rung's methods only")
    smoke.add_argument("--quiet", action="store_true", help="no progress bar")

    listing = commands.add_parser("list", help="problems of a selection and the methods for each")
    selection(listing, "all")
    return parser


def _peers_note(no_peers: bool) -> str:
    if no_peers:
        return "peers: left out (--no-peers); rung's methods only"
    module, why = peers_module()
    if module is None:
        return f"peers: benchmarks.peers is not importable ({why}); rung's methods only"
    return "peers: benchmarks.peers imported"


def _execute(
    *, problems: Sequence[str] | None, methods: Sequence[str] | None, no_peers: bool, seeds: int,
    spec: BudgetSpec, store_url: str | None, suite: str, jobs: int | None, out: str | None, quiet: bool,
) -> int:
    from ._report import build_report

    chosen, notes = select_problems(problems)
    peers_note = _peers_note(no_peers)
    print(peers_note, file=sys.stderr)
    notes = [peers_note, *notes]
    budgets = {problem.name: spec.resolve(problem) for problem in chosen}
    cells = [Cell(method, problem, seed, budgets[problem.name])
             for problem in chosen
             for method in select_methods(problem, methods, peers=not no_peers)
             for seed in range(seeds)]
    if not cells:
        print("nothing to run: no method matches on the chosen problems", file=sys.stderr)
        return 2
    store = ResultStore(store_url)
    try:
        print(f"suite {suite!r}: {len(cells)} runs in {store.url}", file=sys.stderr)
        outcome = run_suite(cells, store, suite, jobs=jobs, progress=not quiet)
        wanted = {cell.key for cell in cells}
        results = [r for r in store.results(suite) if r.key in wanted]
    finally:
        store.close()
    print(f"ran {len(outcome.ran)}, skipped {len(outcome.skipped)} already finished, failed "
          f"{len(outcome.failed)} in {outcome.real_time:.1f} s", file=sys.stderr)
    for (method, problem, seed), error in outcome.failed.items():
        last = error.strip().splitlines()[-1] if error.strip() else "?"
        notes.append(f"failed: {method} on {problem} seed {seed}: {last}")
        print(f"FAILED {method} {problem} seed {seed}:\n{error}", file=sys.stderr)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
    print(build_report(results, suite=suite, budgets=budgets, notes=notes, out=out))
    if out is not None:
        print(f"report and plots written to {out}", file=sys.stderr)
    return 1 if outcome.failed else 0


def _run(args: argparse.Namespace) -> int:
    seconds, multiple = parse_time(args.max_time) if args.max_time not in (None, "", "none") else (None, None)
    spec = BudgetSpec(max_evaluations=args.max_evaluations, max_time=seconds, time_multiple=multiple,
                      n_workers=args.workers, count_decision_time=args.count_decision_time)
    return _execute(problems=args.problems, methods=args.methods, no_peers=args.no_peers, seeds=args.seeds,
                    spec=spec, store_url=args.store, suite=args.suite, jobs=args.jobs, out=args.out,
                    quiet=args.quiet)


def _smoke(args: argparse.Namespace) -> int:
    from benchmarks import problems as registry

    available = set(registry.names())
    # A problem whose data is missing (no tables here) is left out, with a note in the report.
    problems = [name for name in SMOKE_PROBLEMS if name in available]
    temp = tempfile.mkdtemp(prefix="rung-bench-smoke-")
    store = args.store or str(Path(temp) / "smoke.db")
    out = args.out or str(Path(temp) / "out")
    _, multiple = parse_time(SMOKE_TIME)
    spec = BudgetSpec(time_multiple=multiple, n_workers=SMOKE_WORKERS)
    return _execute(problems=problems, methods=SMOKE_METHODS, no_peers=args.no_peers, seeds=SMOKE_SEEDS,
                    spec=spec, store_url=store, suite="smoke", jobs=args.jobs, out=out, quiet=args.quiet)


def _report(args: argparse.Namespace) -> int:
    from ._report import build_report
    from ._selection import method_matches

    store = ResultStore(args.store)
    try:
        if args.suite not in store.suites():
            known = ", ".join(store.suites()) or "none"
            print(f"no suite {args.suite!r} in {store.url} (suites: {known})", file=sys.stderr)
            return 2
        results = store.results(args.suite)
        budgets = store.budgets(args.suite)
        failures = store.failures(args.suite)
    finally:
        store.close()
    import fnmatch

    if args.problems:
        results = [r for r in results if any(fnmatch.fnmatchcase(r.problem, p) for p in args.problems)]
    if args.methods:
        results = [r for r in results if method_matches(r.method, args.methods)]
    notes = [f"failed (not scored): {f['method']} on {f['problem']} seed {f['seed']}" for f in failures]
    if args.out is not None:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    print(build_report(results, suite=args.suite, budgets=budgets, notes=notes, out=args.out))
    return 0


def _list(args: argparse.Namespace) -> int:
    chosen, notes = select_problems(args.problems or ["all"])
    print(_peers_note(args.no_peers))
    for problem in chosen:
        fidelity = f"{problem.fidelity} {problem.min_resource:g}..{problem.max_resource:g}" if problem.fidelity else "-"
        names = [m.name for m in select_methods(problem, args.methods, peers=not args.no_peers)]
        print(f"{problem.name} [{problem.kind}, fidelity {fidelity}]: {', '.join(names)}")
    for note in notes:
        print(note)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "smoke":
            return _smoke(args)
        if args.command == "report":
            return _report(args)
        return _list(args)
    except (KeyError, ValueError, BudgetMismatch) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 2
