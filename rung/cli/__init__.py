"""The ``rung`` command line: run experiments from YAML specs and inspect the store.

``rung run SPEC.yaml`` | ``resume NAME`` | ``list`` | ``show NAME`` | ``best NAME`` |
``trials NAME`` | ``stop NAME`` | ``delete NAME`` | ``dashboard`` | ``compare SPEC``; each takes ``--storage URL``.
Exit codes: 0 success, 1 runtime failure, 2 usage or invalid input (one line on stderr),
130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Sequence

from .. import __version__
from ..spec import SpecError
from ..storage import CorruptRecord, ExperimentExists, ExperimentNotFound
from . import _compare, _dashboard, _inspect, _manage, _running
from ._common import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, CliError, storage_parent

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``rung`` argument parser with one subcommand per action."""
    parser = argparse.ArgumentParser(
        prog="rung",
        description="rung: hyperparameter optimization. Run experiments from YAML specs, inspect and manage "
                    "the experiments in a store.",
        epilog="`rung COMMAND --help` describes a command. Exit codes: 0 success, 1 runtime failure, "
               "2 usage or invalid input, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"rung {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the traceback of an unexpected error")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    parents = [storage_parent()]
    _running.register(subparsers, parents)
    _inspect.register(subparsers, parents)
    _manage.register(subparsers, parents)
    _dashboard.register(subparsers, parents)
    _compare.register(subparsers, parents)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit with code 2, --help with 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except CliError as err:
        _error(str(err))
        return err.code
    except (SpecError, ExperimentNotFound, ExperimentExists, CorruptRecord) as err:
        _error(str(err))
        return EXIT_USAGE
    except BrokenPipeError:
        # stdout was closed early (e.g. `rung trials NAME | head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except Exception as err:
        if args.traceback:
            traceback.print_exc()
        _error(f"{type(err).__name__}: {err}" + ("" if args.traceback else " (--traceback shows where)"))
        return EXIT_FAILURE


def _error(message: str) -> None:
    """One line on stderr, whatever the message holds."""
    print("rung: error: " + " ".join(message.split()), file=sys.stderr)
