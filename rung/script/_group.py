"""The script's process group: ending it politely, and a guard for when we cannot.

The program starts in a session of its own, so its process group holds it and everything it
spawns (data loaders, ``torchrun`` ranks, a shell's children) and one signal reaches them
all, while a Ctrl-C in the tuner's terminal does not.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

POLL = 0.02


def group_alive(pgid: int) -> bool:
    """Whether any process of group ``pgid`` still runs (zombies nobody reaped do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _has_running_member(pgid)


def _has_running_member(pgid: int) -> bool:
    # A reparented zombie keeps its group "alive" for killpg until init reaps it, which a
    # container's init may never do; /proc tells zombies apart (Linux only).
    if not os.path.isdir("/proc/self"):
        return True
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat_file:
                fields = stat_file.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def end_group(
    process: subprocess.Popen,
    grace_period: float,
    idle: Callable[[float], None] = time.sleep,
    leader_first: bool = False,
) -> None:
    """End the program and everything in its process group, then reap the program.

    With ``leader_first`` (the program was told to stop and may be cleaning up), first
    wait up to ``grace_period`` seconds for it to exit by itself. Then SIGTERM the group
    and SIGKILL whatever is left ``grace_period`` seconds later. ``idle(seconds)`` is
    called while waiting, so the caller can keep reading the program's output.
    """
    pgid = process.pid
    if leader_first:
        _wait_until(lambda: process.poll() is not None, grace_period, idle)
    process.poll()  # reap an exited program, or its zombie would count as alive
    if group_alive(pgid):
        _signal_group(pgid, signal.SIGTERM)
        if not _wait_until(lambda: process.poll() is not None and not group_alive(pgid), grace_period, idle):
            _signal_group(pgid, signal.SIGKILL)
    if process.poll() is None:
        process.kill()  # it moved to another group; it must not outlive the trial either
    process.wait()


def _wait_until(condition: Callable[[], bool], timeout: float, idle: Callable[[float], None]) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        idle(min(POLL, remaining))
    return True


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class Guard:
    """A tiny watcher process that SIGKILLs the group if this process dies first.

    Without it, a trial killed at its timeout (the process backend SIGKILLs the trial's
    own process group) would leave the script running, since the script lives in a group
    of its own. :meth:`release` tells the guard the group has been dealt with;
    :meth:`abandon` makes it kill the group now.
    """

    def __init__(self, pgid: int) -> None:
        read_end, self._write_end = os.pipe()
        try:
            self._process: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-S", "-I", str(Path(__file__).with_name("_guard.py")), str(read_end), str(pgid)],
                pass_fds=[read_end],
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            self._process = None  # no guard: the Script still ends the group itself
        finally:
            os.close(read_end)

    def release(self) -> None:
        """The group is gone: let the guard exit without killing anything."""
        self._close(b"x")

    def abandon(self) -> None:
        """Cleanup failed: let the guard SIGKILL the group."""
        self._close(b"")

    def _close(self, message: bytes) -> None:
        if self._write_end < 0:
            return
        if message:
            try:
                os.write(self._write_end, message)
            except OSError:
                pass  # the guard is gone already
        os.close(self._write_end)
        self._write_end = -1
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
