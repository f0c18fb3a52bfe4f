"""Run one trial's objective under a reporting session and classify how it ended.

Shared by the in-process backend and the worker processes, so a trial behaves the same
wherever it runs.
"""

from __future__ import annotations

import traceback as traceback_module
from typing import Any, Callable

from ..trial._calling import call_objective, plain_result
from ..trial._session import TrialStopped, reset_session, set_session
from ._base import OutcomeKind, TrialOutcome


def describe_exception(exc: BaseException) -> str:
    """``"ValueError: bad lr"``, even for an exception whose ``__str__`` raises."""
    name = type(exc).__name__
    try:
        text = str(exc)
    except BaseException as inner:  # the trial's own __str__ may raise anything
        text = f"(its message cannot be shown: str() raised {type(inner).__name__})"
    return f"{name}: {text}"


def _format_traceback() -> str | None:
    try:
        return traceback_module.format_exc()
    except BaseException:
        return None


def run_objective(
    objective: Callable[[dict], Any],
    config: dict,
    session: Any,
    catch_exit: bool = False,
    catch_interrupt: bool = False,
) -> TrialOutcome:
    """Call ``objective(config)`` (or ``objective(**config)``, see ``rung.trial._calling``)
    with ``session`` installed; never raises ``Exception``.

    ``SystemExit`` propagates unless ``catch_exit`` (then it is a FAILED outcome naming the
    code). ``KeyboardInterrupt`` propagates unless ``catch_interrupt``: in the tuner's own
    process it is the user's Ctrl-C; in a worker (which ignores SIGINT) only the trial can
    have raised it. Any other ``BaseException`` is a FAILED outcome naming its type.
    """
    token = set_session(session)
    try:
        value = plain_result(call_objective(objective, dict(config)))
    except TrialStopped:
        return TrialOutcome(OutcomeKind.STOPPED)
    except SystemExit as exc:
        if not catch_exit:
            raise
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return TrialOutcome(
            OutcomeKind.FAILED,
            error=f"the trial exited with code {code} (sys.exit) before finishing",
            traceback=_format_traceback(),
        )
    except KeyboardInterrupt:
        if not catch_interrupt:
            raise
        return TrialOutcome(
            OutcomeKind.FAILED,
            error="the trial raised KeyboardInterrupt (not a Ctrl-C of the tuner: workers ignore SIGINT)",
            traceback=_format_traceback(),
        )
    except BaseException as exc:
        return TrialOutcome(OutcomeKind.FAILED, error=describe_exception(exc), traceback=_format_traceback())
    finally:
        reset_session(token)
    return TrialOutcome(OutcomeKind.RETURNED, value=value)
