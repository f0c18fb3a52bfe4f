"""The one exception type of the config-space layer."""

from __future__ import annotations


class SpaceError(ValueError):
    """A search space, a domain or a config is invalid.

    ``param`` names the parameter the problem belongs to (``None`` when it is not tied to
    one, e.g. for a domain built on its own); the message then starts with
    ``parameter '<name>': ``. ``reason`` is the message without that prefix.
    """

    def __init__(self, reason: str, param: str | None = None) -> None:
        self.reason = reason
        self.param = param
        super().__init__(reason if param is None else f"parameter {param!r}: {reason}")

    def for_param(self, param: str) -> SpaceError:
        """This error attributed to ``param``, unless it already names a parameter."""
        if self.param is not None:
            return self
        return SpaceError(self.reason, param)

    def __reduce__(self):
        # Keep ``param`` across pickling (trials may run in other processes).
        return (type(self), (self.reason, self.param))
