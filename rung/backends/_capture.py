"""Run one trial's objective under a reporting session and classify how it ended.

Shared by the in-process backend and the worker processes, so a trial behaves the same
wherever it runs.
"""

from __future__ import annotations

import traceback as traceback_module
from typing import Any, Callable

from .._reporting import TrialStopped, reset_session, set_session
from ._base import OutcomeKind, TrialOutcome


def run_objective(objective: Callable[[dict], Any], config: dict, session: Any) -> TrialOutcome:
    """Call ``objective(config)`` with ``session`` installed; never raises ``Exception``."""
    token = set_session(session)
    try:
        value = objective(dict(config))
    except TrialStopped:
        return TrialOutcome(OutcomeKind.STOPPED)
    except Exception as exc:
        return TrialOutcome(
            OutcomeKind.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback_module.format_exc(),
        )
    finally:
        reset_session(token)
    return TrialOutcome(OutcomeKind.RETURNED, value=value)
