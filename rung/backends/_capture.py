"""Run one trial's objective under a reporting session and classify how it ended.

Shared by the in-process backend and the worker processes, so a trial behaves the same
wherever it runs.
"""

from __future__ import annotations

import traceback as traceback_module
from typing import Any, Callable

from ..trial._session import TrialStopped, reset_session, set_session
from ._base import OutcomeKind, TrialOutcome


def run_objective(
    objective: Callable[[dict], Any], config: dict, session: Any, catch_exit: bool = False
) -> TrialOutcome:
    """Call ``objective(config)`` with ``session`` installed; never raises ``Exception``.

    ``SystemExit`` propagates (a worker turns it into the process's exit code) unless
    ``catch_exit``: in the tuner's own process a trial must not end the tuner.
    """
    token = set_session(session)
    try:
        value = objective(dict(config))
    except TrialStopped:
        return TrialOutcome(OutcomeKind.STOPPED)
    except SystemExit as exc:
        if not catch_exit:
            raise
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return TrialOutcome(
            OutcomeKind.FAILED,
            error=f"the trial exited with code {code} (sys.exit) before finishing",
            traceback=traceback_module.format_exc(),
        )
    except Exception as exc:
        return TrialOutcome(
            OutcomeKind.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback_module.format_exc(),
        )
    finally:
        reset_session(token)
    return TrialOutcome(OutcomeKind.RETURNED, value=value)
