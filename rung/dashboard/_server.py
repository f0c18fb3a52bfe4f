"""Serving the dashboard with uvicorn: in the foreground (``rung dashboard``) or on a thread
of a running tuner (``Tuner(dashboard=True)``, ``rung run --dashboard``).

The socket is bound here before uvicorn starts, so a busy port is an error at once and the
URL printed is the real one (port 0 picks a free port).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from ..storage import Storage, open_storage
from ._app import Dashboard

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470
TOKEN_ENV = "RUNG_DASHBOARD_TOKEN"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_access(host: str, token: str | None) -> str | None:
    """The token to require: the one given (or ``$RUNG_DASHBOARD_TOKEN``); on a non-loopback
    address without one, a fresh random token (printed in the URL). None: loopback only."""
    if not isinstance(host, str) or not host:
        raise ValueError(f"host must be an address to listen on, got host={host!r}")
    token = token or os.environ.get(TOKEN_ENV) or None
    if token is not None and (len(token) < 8 or not token.isascii() or any(c.isspace() for c in token)):
        raise ValueError("token must be at least 8 printable ASCII characters without spaces")
    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(24)
    return token


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; OSError naming the address if it is taken."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer from 0 to 65535, got port={port!r}")
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as err:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


@dataclass
class RunningDashboard:
    """A dashboard served on a background thread; :meth:`stop` ends it."""

    url: str
    dashboard: Dashboard
    server: Any
    thread: threading.Thread
    sock: socket.socket
    token: str | None = field(default=None, repr=False)

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.dashboard.close()
        self.sock.close()


def url_of(sock: socket.socket, host: str, token: str | None, experiment: str | None) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
    path = "/" if experiment is None else f"/experiments/{experiment}"
    return f"http://{shown}:{port}{path}" + (f"?token={token}" if token else "")


def _server(dashboard: Dashboard, log_level: str) -> Any:
    import uvicorn

    config = uvicorn.Config(dashboard, log_level=log_level, access_log=False, lifespan="off")
    return uvicorn.Server(config)


def serve(storage: "str | os.PathLike[str] | Storage | None" = None, *, host: str = DEFAULT_HOST,
          port: int = DEFAULT_PORT, token: str | None = None, experiment: str | None = None,
          on_ready: Any = None) -> None:
    """Serve the dashboard of ``storage`` until interrupted; ``on_ready(url)`` is called
    once it listens (the CLI prints the URL)."""
    token = check_access(host, token)
    store = open_storage(storage)
    sock = bind(host, port)
    dashboard = Dashboard(store, token=token, experiment=experiment)
    server = _server(dashboard, "warning")
    if on_ready is not None:
        on_ready(url_of(sock, host, token, experiment))
    try:
        server.run(sockets=[sock])
    finally:
        dashboard.close()
        sock.close()


def start(storage: "str | os.PathLike[str] | Storage | None" = None, *, host: str = DEFAULT_HOST,
          port: int = 0, token: str | None = None, experiment: str | None = None) -> RunningDashboard:
    """Serve the dashboard on a daemon thread (a tuner's); returns once it listens."""
    token = check_access(host, token)
    store = storage if isinstance(storage, Storage) else open_storage(storage)
    sock = bind(host, port)
    dashboard = Dashboard(store, token=token, experiment=experiment)
    server = _server(dashboard, "error")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="rung-dashboard", daemon=True)
    thread.start()
    return RunningDashboard(url_of(sock, host, token, experiment), dashboard, server, thread, sock, token)
