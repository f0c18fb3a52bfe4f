"""``Script``: a training program in any language, run once per trial, as an objective."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..trial._session import (
    RESOURCE_VARIABLE,
    Channel,
    TrialPaused,
    TrialStopped,
    checkpoint_dir,
    current_session,
    open_private,
    private_dir,
)
from ..backends._base import describe_exit
from ._arguments import config_flags, write_config
from ._command import check_args, check_base_dir, check_command, check_env, check_grace_period
from ._errors import ScriptFailed
from ._group import Guard, end_group
from ._relay import Relay


class Script:
    """Run ``command`` once per trial; pass it to ``rung.Tuner`` like any objective.

    >>> tuner = rung.Tuner(Script(["python", "train.py"]), space, metric="loss", max_trials=20)

    Per trial the program runs in a fresh ``work/`` directory inside the trial directory
    (emptied at each start, so keep state to resume from in ``RUNG_CHECKPOINT_DIR``) and gets
    the config as arguments:

    * ``args="flags"``: ``--name=value`` per parameter (argparse's ``--name value`` parsing
      accepts this form); floats are ``repr``-exact, bools ``true``/``false``, lists, dicts
      and None JSON;
    * ``args="json"``: ``--config=<trial dir>/config.json``.

    Its environment holds ``RUNG_CONFIG_FILE`` (config.json, written in both modes),
    ``RUNG_TRIAL_ID``, ``RUNG_TRIAL_DIR``, ``RUNG_CHECKPOINT_DIR``, ``RUNG_REPORT_FD`` (and
    ``RUNG_RESOURCE``, the launch's resource cap, when it has one),
    plus ``env`` and ``PYTHONUNBUFFERED=1`` (unless set), so output arrives as it is printed.
    ``CUDA_VISIBLE_DEVICES`` and the rest are inherited from the worker.

    Reporting: a Python program calls ``rung.report(...)`` as a function would (it needs
    rung importable by its interpreter); any program may print lines
    ``RUNG_REPORT {"epoch": 3, "loss": 0.21}`` (prefix, one space, a JSON object) to stdout.
    Other output goes to the trial's ``stdout.log`` / ``stderr.log``.

    Ending: exit code 0 completes the trial with the reported metrics; anything else fails it
    with :class:`ScriptFailed` quoting the last stderr lines. When the scheduler stops or
    pauses the trial, a Python program is told first (its ``rung.report`` raises and it may
    clean up for up to ``grace_period`` seconds), then the program's whole process group
    gets SIGTERM and, ``grace_period`` seconds later, SIGKILL. If the process running the
    trial dies (e.g. killed at ``trial_timeout``), a small guard process kills the group.

    Parameters
    ----------
    command:
        Program and arguments, e.g. ``["python", "train.py"]`` (no shell is involved).
        Arguments naming existing files or directories relative to ``base_dir`` are made
        absolute now; a missing ``*.py`` / ``*.sh`` / ... file is an error.
    args:
        ``"flags"`` or ``"json"``: how the config reaches the program.
    base_dir:
        Directory relative paths in ``command`` refer to (default: the current directory).
    env:
        Extra environment variables for the program.
    grace_period:
        Seconds a stopped program gets to exit before the next, harder signal.
    """

    def __init__(
        self,
        command: Sequence[str],
        args: str = "flags",
        base_dir: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None,
        grace_period: float = 5.0,
    ) -> None:
        self.args = check_args(args)
        self.grace_period = check_grace_period(grace_period)
        self.env = check_env(env)
        self.base_dir = check_base_dir(base_dir)
        self.command = check_command(command, self.base_dir, self.env.get("PATH", os.environ.get("PATH")))
        self._shown = [os.fspath(part) for part in command]  # as the user wrote it, for messages

    def __repr__(self) -> str:
        return f"Script({self._shown!r}, args={self.args!r})"

    def __call__(self, config: dict[str, Any]) -> None:
        """Run the program for one trial; returns None, or raises ScriptFailed,
        TrialStopped or TrialPaused."""
        session = current_session()
        if session is None:
            raise RuntimeError(
                f"{self!r} was called outside a trial; pass it as the objective of rung.Tuner(...)"
            )
        if os.name != "posix":
            raise RuntimeError("script trials need a POSIX system (process groups and signals)")
        trial_dir = Path(os.path.abspath(session.trial_dir))
        work_dir = trial_dir / "work"
        shutil.rmtree(work_dir, ignore_errors=True)
        private_dir(work_dir)
        config_file = write_config(config, _private_target(trial_dir / "config.json"))
        argv = self.command + (config_flags(config) if self.args == "flags" else [f"--config={config_file}"])

        ours, theirs = socket.socketpair()
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": os.environ.get("PYTHONUNBUFFERED", "1"),
            **self.env,
            "RUNG_CONFIG_FILE": str(config_file),
            "RUNG_TRIAL_ID": str(session.trial_id),
            "RUNG_TRIAL_DIR": str(trial_dir),
            "RUNG_CHECKPOINT_DIR": str(Path(os.path.abspath(checkpoint_dir()))),
            "RUNG_REPORT_FD": str(theirs.fileno()),
        }
        env.pop(RESOURCE_VARIABLE, None)  # a cap of this launch only, never an inherited one
        resource = getattr(session, "resource", None)
        if resource is not None:
            env[RESOURCE_VARIABLE] = repr(float(resource))
        try:
            process = subprocess.Popen(
                argv,
                cwd=work_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=[theirs.fileno()],
                start_new_session=True,  # its own process group: one signal reaches its children
            )
        except OSError as exc:
            ours.close()
            raise ScriptFailed(f"could not start command {self._shown}: {exc}") from None
        finally:
            theirs.close()
        return self._supervise(process, Relay(process, Channel(ours), session))

    def _supervise(self, process: subprocess.Popen, relay: Relay) -> None:
        guard = Guard(process.pid)
        action = None
        try:
            action = relay.run()
        finally:
            try:
                # A Python program told to stop gets the grace period to clean up on its own.
                end_group(process, self.grace_period, idle=relay.pump, leader_first=relay.told_program)
                relay.close()
            except BaseException:
                guard.abandon()
                raise
            guard.release()
        if action == "pause":
            raise TrialPaused()
        if action is not None:
            raise TrialStopped()
        if process.returncode != 0:
            raise ScriptFailed(self._failure(describe_exit(process.returncode), relay))
        return None

    def _failure(self, how: str, relay: Relay) -> str:
        tail = "\n".join(relay.stderr_tail).strip("\n")
        return f"command {self._shown} {how}; " + (
            f"last stderr lines:\n{tail}" if tail else "it wrote nothing to stderr"
        )


def _private_target(path: Path) -> Path:
    """Make ``write_config``'s temporary file (renamed to ``path``) a 0600 file before it is
    written, so the config is never readable by others, whatever the umask."""
    os.close(open_private(path.with_name(path.name + ".partial"), os.O_WRONLY | os.O_TRUNC))
    return path
