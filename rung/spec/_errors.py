"""The one exception type of experiment specs."""

from __future__ import annotations


class SpecError(ValueError):
    """An experiment spec is invalid; raised before anything runs.

    The message reads ``FILE:LINE: FIELD: REASON`` (like a compiler's), so that an editor or
    a terminal user can jump straight to the problem. ``file``, ``line`` (1-based, or None
    when the YAML gives no position, e.g. for a missing field), ``field`` (a dotted path
    such as ``budget.max_trials``, or None) and ``reason`` are kept as attributes.
    """

    def __init__(self, reason: str, file: str | None = None, field: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.file = file
        self.field = field
        self.line = line
        where = file or "<spec>"
        if line is not None:
            where += f":{line}"
        head = f"{where}: {field}: " if field else f"{where}: "
        super().__init__(head + reason)

    def __reduce__(self):
        return (type(self), (self.reason, self.file, self.field, self.line))
