"""The error a script trial fails with."""

from __future__ import annotations


class ScriptFailed(Exception):
    """The trial's program could not start, exited with a nonzero code, was killed by a
    signal, or sent a malformed report; the message says which and quotes the evidence."""
