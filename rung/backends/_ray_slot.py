"""The Ray actor behind one slot of the Ray backend (runs on whichever node Ray picks).

Ray places the actor with the trial's resources (CPUs, GPUs, custom resources), so every
trial launched on the slot runs within them; Ray sets ``CUDA_VISIBLE_DEVICES`` for the
actor and the trials inherit it. The actor itself never runs trial code. ``serve``
connects to the driver's listener, introduces itself with the slot's secret and where it
runs (framed JSON), and starts the node's worker program
(:mod:`rung.backends._ray_worker`) on that connection; from then on the driver and the
worker talk directly and the actor only waits, kills a trial's process group when the
driver asks (``kill_trial``) and ends with its worker. So the only values the driver
reads through Ray are this actor's own (``serve``'s exit code, or Ray's error when the
actor or its node died); everything from trial code arrives as JSON on the connection.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import ray

from ..trial._session import Channel

#: Set in every trial's environment: the id of the Ray node it runs on.
NODE_VARIABLE = "RUNG_RAY_NODE_ID"
KEEPALIVE = (("TCP_KEEPIDLE", 5), ("TCP_KEEPINTVL", 2), ("TCP_KEEPCNT", 3))


def keep_alive(sock: socket.socket) -> None:
    """Send each message at once, and notice a peer that vanished without closing (a dead
    node) within about 11 s."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small messages, each awaited: no Nagle delay
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in KEEPALIVE:
        option = getattr(socket, name, None)
        if option is not None:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)


class Slot:
    """One slot: a worker program on this node, connected to the driver."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None

    def where(self) -> dict[str, Any]:
        context = ray.get_runtime_context()
        return {"node_id": context.get_node_id(), "ip": ray.util.get_node_ip_address(), "pid": os.getpid(),
                "host": socket.gethostname(), "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}

    def serve(self, host: str, port: int, token: str, environment: dict[str, str]) -> int:
        """Connect to the driver, run the worker program on the connection; its exit code."""
        sock = socket.create_connection((host, port), timeout=30)
        sock.settimeout(None)
        keep_alive(sock)
        Channel(sock).send(("hello", token, self.where()))
        env = dict(os.environ)
        env.update(environment)
        env[NODE_VARIABLE] = str(ray.get_runtime_context().get_node_id())  # trials may log where they ran
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "rung.backends._ray_worker", str(sock.fileno()), str(os.getpid())],
                pass_fds=[sock.fileno()], env=env, stdin=subprocess.DEVNULL,
            )
        finally:
            sock.close()  # the worker holds the connection now
        return self._process.wait()

    def kill_trial(self, pid: int) -> bool:
        """SIGKILL the process group of trial process ``pid`` if it is a child of our worker."""
        process = self._process
        if process is None or not isinstance(pid, int) or pid <= 0:
            return False
        try:
            with open(f"/proc/{pid}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if parent != process.pid:
            return False  # not a trial of this slot: never kill what a message merely names
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def stop(self) -> None:
        """End the worker program (and with it any trial it runs)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
