"""``rung dashboard``: serve the live web dashboard of a store, and ``--dashboard`` for
``rung run`` / ``rung resume`` (the dashboard on a thread of the tuning process)."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import CliError, open_store, say


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    dashboard = subparsers.add_parser(
        "dashboard", parents=parents, help="serve the live web dashboard of the store's experiments",
        description="Serve every experiment of the store as web pages that follow running experiments live "
                    "(read-only, except a 'stop experiment' button). Listens on 127.0.0.1 unless --host says "
                    "otherwise; on any other address every request needs a token (given with --token or "
                    "$RUNG_DASHBOARD_TOKEN, else a random one, printed in the URL). Ctrl-C ends it.",
    )
    dashboard.add_argument("--host", default=None, help="address to listen on (default: 127.0.0.1)")
    dashboard.add_argument("--port", type=_port, default=None, help="port (default: 8470; 0 picks a free one)")
    dashboard.add_argument("--token", default=None, help="the token requests must carry (at least 8 characters)")
    dashboard.add_argument("--experiment", default=None, metavar="NAME", help="open this experiment's page first")
    dashboard.set_defaults(handler=cmd_dashboard)


def add_dashboard_flag(parser: argparse.ArgumentParser) -> None:
    """``--dashboard`` (and its port) for the commands that run a tuner."""
    parser.add_argument("--dashboard", action="store_true",
                        help="also serve the live dashboard of this experiment on 127.0.0.1 while it runs "
                             "(the URL is printed)")
    parser.add_argument("--dashboard-port", type=_port, default=0, metavar="PORT",
                        help="with --dashboard: its port (default: a free one)")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return value


def cmd_dashboard(args: argparse.Namespace) -> int:
    try:
        from ..dashboard import DEFAULT_HOST, DEFAULT_PORT, serve
    except ImportError as err:
        raise CliError(str(err)) from None
    if args.experiment is not None:
        from ._manage import check_name_argument

        check_name_argument(args.experiment, "--experiment")
    store = open_store(args.storage)
    if store is None:
        raise CliError(f"no store at {args.storage or 'the default location'} yet: run an experiment first")
    try:
        if args.experiment is not None and store.get_experiment(args.experiment) is None:
            raise CliError(f"--experiment: no experiment named {args.experiment!r} in {store.url}")
        host = args.host or DEFAULT_HOST
        port = DEFAULT_PORT if args.port is None else args.port
        try:
            serve(store, host=host, port=port, token=args.token, experiment=args.experiment,
                  on_ready=lambda url: say(f"rung dashboard of {store.url} at {url} (Ctrl-C ends it)"))
        except ValueError as err:
            raise CliError(str(err)) from None
        except OSError as err:
            raise CliError(f"{err}; pick another with --port", code=1) from None
    finally:
        store.dispose()
    return 0
