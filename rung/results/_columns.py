"""Shared by ``result.trials`` and ``rung show``: the structured end of a trial, and int
columns that stay ints.

A scheduler's PAUSE or STOP comes with details (the rung, the trial's value there and the
threshold it was held to); :func:`end_fields` gives them as three fields next to the
reason, so a table shows them in columns instead of a long sentence. A conditional int
parameter is missing where it is inactive, which makes pandas store the column as floats
(``80.0``); :func:`keep_ints` gives such columns the nullable ``Int64`` dtype.
"""

from __future__ import annotations

import numbers
import re
from typing import TYPE_CHECKING, Any

from ..trial._record import Trial, TrialStatus

if TYPE_CHECKING:
    import pandas as pd

#: The structured end columns, in order, and the detail key each comes from.
END_FIELDS = (("end_rung", "rung"), ("end_value", "value"), ("end_threshold", "threshold"))


def end_fields(trial: Trial) -> dict[str, Any]:
    """``{"end_rung": ..., "end_value": ..., "end_threshold": ...}`` of the scheduler decision
    that ended (or paused) ``trial``; None where it has no such detail or its end was not
    that decision."""
    empty: dict[str, Any] = {column: None for column, _ in END_FIELDS}
    details = trial.end_details
    if not details or trial.status not in (TrialStatus.STOPPED, TrialStatus.PAUSED):
        return empty
    if details.get("reason") != trial.end_reason:
        return empty
    for column, key in END_FIELDS:
        value = details.get(key)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            empty[column] = value
    return empty


# "loss=0.54 at rung epoch=1 is not in the top 1/3 ..." -> "not in the top 1/3 ..."
_JUDGED = re.compile(r"^\S+=\S+ at .+? is (?P<why>.+)$")


def short_reason(trial: Trial) -> str:
    """The first line of why the trial ended (its error, else its reason), '' if none; for a
    scheduler's decision whose rung, value and threshold have their own columns, only the
    verdict (``"not in the top 1/3 of 6 trials there"``)."""
    note = trial.error or trial.end_reason or ""
    line = note.splitlines()[0] if note else ""
    if any(value is not None for value in end_fields(trial).values()):
        judged = _JUDGED.match(line)
        if judged:
            return judged.group("why")
    return line


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def keep_ints(frame: "pd.DataFrame", raw: dict[str, list[Any]]) -> "pd.DataFrame":
    """``frame`` with each column of ``raw`` (column name -> the values it was built from,
    None where missing) whose present values are all ints, and some missing, as the
    nullable ``Int64`` dtype, so ``80`` is not shown or written as ``80.0``."""
    import pandas as pd

    for column, values in raw.items():
        if column not in frame or frame[column].dtype.kind in "iu":
            continue
        present = [v for v in values if v is not None]
        if present and len(present) < len(values) and all(_is_int(v) for v in present):
            frame[column] = pd.array(values, dtype="Int64")
    return frame
