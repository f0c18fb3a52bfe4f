"""The worker program a Ray slot runs on its node (``python -m rung.backends._ray_worker FD``).

It is the process backend's warm worker (:mod:`rung.backends._worker`: a fresh interpreter
that loads the objective once and forks a child per trial) with three differences that
come from running on a cluster node:

* its socket ``FD`` is a TCP connection to the driver (opened and introduced by the slot
  actor, :mod:`rung.backends._ray_slot`), not one end of a local socketpair; the messages
  are the same framed JSON tuples, so nothing a trial writes is ever unpickled;
* it dies with its slot actor (``PR_SET_PDEATHSIG``), and so does every trial child it
  forks: when Ray kills the actor (a lost node, the memory monitor, the driver gone) no
  trial keeps running unseen;
* the driver's ``sys.path`` is put in front of this node's own instead of replacing it
  (the driver's directories may not exist here), and each trial's files are prepared
  and saved through the experiment's :class:`~rung.backends._ray_files.TrialFiles`
  (no-ops for a shared directory; the place an object store would download and upload).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from ..trial._session import Channel, ChannelError
from ._base import EXIT_CHANNEL_LOST
from ._capture import describe_exception
from ._ray_files import TrialFiles, files_from_dict
from ._worker import _Run, _run_forked, read_init, unpickle_objective, warm

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _load_objective(options: dict[str, Any]) -> Callable:
    here = [path for path in sys.path if path not in options["sys_path"]]
    sys.path[:] = [path for path in options["sys_path"] if path == "" or os.path.isdir(path)] + here
    for module in options.get("preload", ()):
        importlib.import_module(module)
    return unpickle_objective(options)


def main(fd: int, parent: int) -> int:
    die_with_parent()
    if os.getppid() != parent:  # the actor died before the request above took effect
        return EXIT_CHANNEL_LOST
    # Every trial child dies with this worker too (the request is not inherited by fork).
    os.register_at_fork(after_in_child=die_with_parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Channel.from_fd(fd)
    options = read_init(conn)
    if options is None:
        return EXIT_CHANNEL_LOST
    try:
        objective = _load_objective(options)
        files: TrialFiles = files_from_dict(options["files"])
        warm(objective)  # as in the process backend's worker
    except BaseException as exc:
        conn.send(("init_error", describe_exception(exc), traceback.format_exc()))
        return 1
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, ChannelError):
            return 0
        if message[0] == "run":
            _, trial_id, config, trial_dir, resource, environment = message
            run = _Run(trial_id, config, Path(trial_dir), resource, environment)
            files.before_run(run.trial_dir)
            returncode = _run_forked(conn, objective, run)
            files.after_run(run.trial_dir)
            try:
                conn.send(("exited", trial_id, returncode))
            except OSError:
                return EXIT_CHANNEL_LOST
        elif message[0] == "shutdown":
            return 0
        # Anything else is a decision for a trial that has already ended: drop it.


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
