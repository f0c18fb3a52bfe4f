"""Carry a running program's reports to the trial's session and its output to the logs.

Two report channels, watched together with ``selectors``:

* the socket inherited by the program (``RUNG_REPORT_FD``): ``rung.report`` in a Python
  script sends ``("report", metrics)`` and blocks until we answer ``("decision", action)``
  (framed JSON, :class:`rung.trial._session.Channel`: data only, never unpickled, and read
  without blocking, so half a message cannot hang the relay);
* the program's stdout: a line ``RUNG_REPORT {"epoch": 3, "loss": 0.21}`` (the prefix, one
  space, a JSON object) is a report from any language; it gets no answer, so a stop is
  carried out by signals alone. Every other line is copied to our stdout.

The program's stderr is copied to our stderr, and its last lines are kept for error
messages. Reports from the two channels are relayed in the order they are read; there is no
ordering between the channels.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
import time
from collections import deque
from typing import Any, TextIO

from ..trial._session import Channel, ChannelError, Session
from ._errors import ScriptFailed

REPORT_PREFIX = "RUNG_REPORT"
STDERR_TAIL_LINES = 20
DRAIN_AFTER_EXIT = 1.0  # seconds to keep reading what background processes still print
MAX_LINE = 1 << 20  # longer lines without a newline are copied through in pieces

_REPORT_LINE = re.compile(rb"^RUNG_REPORT(?![A-Za-z0-9_])")
_EXAMPLE = 'RUNG_REPORT {"epoch": 3, "loss": 0.21}'


class Relay:
    """Pump one program's channels; ``run`` until it exits or the tuner ends the trial."""

    def __init__(self, process: subprocess.Popen, conn: Channel, session: Session) -> None:
        assert process.stdout is not None and process.stderr is not None
        self.process = process
        self.conn = conn
        self.session = session
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self.final_action: str | None = None  # "stop" or "pause" once the tuner said so
        self._relaying = True  # False once the trial is ending: reports are refused, not relayed
        self.told_program = False  # whether the stop or pause was answered to the program itself
        self._stdout_buffer = bytearray()
        self._stderr_buffer = bytearray()
        self._selector = selectors.DefaultSelector()
        self._selector.register(process.stdout.fileno(), selectors.EVENT_READ, self._read_stdout)
        self._selector.register(process.stderr.fileno(), selectors.EVENT_READ, self._read_stderr)
        self._selector.register(conn.fileno(), selectors.EVENT_READ, self._read_message)

    def run(self) -> str | None:
        """Relay until the program has exited and its output is read (returns None), or a
        report was answered with "stop" or "pause" (returns that action).

        Raises :class:`ScriptFailed` for a malformed report; the program is still running
        then, and the caller ends it either way.
        """
        exited_at: float | None = None
        while self._relaying:
            if exited_at is None:
                self.pump(0.1)
                if self.process.poll() is not None:
                    exited_at = time.monotonic()
            else:
                remaining = exited_at + DRAIN_AFTER_EXIT - time.monotonic()
                if remaining <= 0 or not self._selector.get_map():
                    break
                self.pump(remaining)
        if self._relaying:
            self._flush_stdout()
        self._relaying = False
        return self.final_action

    def pump(self, timeout: float) -> None:
        """Handle whatever the program sends within ``timeout`` seconds."""
        if not self._selector.get_map():
            time.sleep(timeout)
            return
        for key, _ in self._selector.select(timeout):
            relaying = self._relaying
            try:
                key.data(key.fd)
            except ScriptFailed:
                if relaying:
                    raise  # while the trial is ending, a bad report changes nothing

    def close(self) -> None:
        self._relaying = False
        self._flush_stdout()
        if self._stderr_buffer:
            self._stderr_line(bytes(self._stderr_buffer))
            self._stderr_buffer.clear()
        self._selector.close()
        self.conn.close()
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()

    # -- channels ----------------------------------------------------------------------
    def _read_stdout(self, fd: int) -> None:
        data = self._read(fd)
        if not data:
            self._flush_stdout()
            return
        self._stdout_buffer += data
        end = self._stdout_buffer.rfind(b"\n")
        if end >= 0:
            lines = bytes(self._stdout_buffer[: end + 1]).splitlines(keepends=True)
            del self._stdout_buffer[: end + 1]
            for line in lines:
                self._stdout_line(line)
        elif len(self._stdout_buffer) > MAX_LINE and not _REPORT_LINE.match(self._stdout_buffer):
            _copy(sys.stdout, bytes(self._stdout_buffer))
            self._stdout_buffer.clear()

    def _read_stderr(self, fd: int) -> None:
        data = self._read(fd)
        if not data:
            return
        _copy(sys.stderr, data)
        self._stderr_buffer += data
        *lines, rest = bytes(self._stderr_buffer).split(b"\n")
        self._stderr_buffer[:] = rest[-MAX_LINE:]
        for line in lines[-STDERR_TAIL_LINES:]:
            self._stderr_line(line)

    def _read_message(self, fd: int) -> None:
        try:
            messages = self.conn.receive_available()
        except ChannelError:
            messages = []
        for message in messages:
            if not (len(message) == 2 and message[0] == "report" and isinstance(message[1], dict) and message[1]
                    and all(isinstance(name, str) for name in message[1])):
                raise self._fail(
                    f"the program sent {_shorten(repr(message))} on the report socket; expected ['report', {{metrics}}]"
                )
            action = self._relay(message[1])
            try:
                self.conn.send(("decision", action))
            except OSError:
                return  # the program is gone; its exit is seen on the other channels
            if action != "continue":
                self.told_program = True
        if self.conn.error is not None:
            self._selector.unregister(fd)
            raise self._fail(
                f"the program wrote something that is not a rung report to RUNG_REPORT_FD ({self.conn.error}); "
                'only rung.report() may write to that socket (other programs print RUNG_REPORT {"loss": 0.2} lines)'
            )
        if self.conn.closed:
            self._selector.unregister(fd)

    def _read(self, fd: int) -> bytes:
        data = os.read(fd, 65536)
        if not data:
            self._selector.unregister(fd)
        return data

    # -- lines -------------------------------------------------------------------------
    def _stdout_line(self, line: bytes) -> None:
        if not _REPORT_LINE.match(line):
            _copy(sys.stdout, line)
            return
        if not self._relaying:
            return
        metrics = _parse_report(line)
        if isinstance(metrics, str):
            raise self._fail(metrics)
        self._relay(metrics)

    def _stderr_line(self, line: bytes) -> None:
        self.stderr_tail.append(line.decode("utf-8", "replace").rstrip("\r"))

    def _flush_stdout(self) -> None:
        if self._stdout_buffer:
            line = bytes(self._stdout_buffer)
            self._stdout_buffer.clear()
            self._stdout_line(line)

    # -- decisions ---------------------------------------------------------------------
    def _relay(self, metrics: dict[str, Any]) -> str:
        """Pass one report to the trial's session; remember a stop or pause."""
        if not self._relaying:
            return self.final_action or "stop"
        action = self.session.report(metrics)
        if action != "continue":
            self.final_action = action
            self._relaying = False
        return action

    def _fail(self, message: str) -> ScriptFailed:
        self._relaying = False
        return ScriptFailed(message)


def _parse_report(line: bytes) -> dict[str, Any] | str:
    """The metrics of a report line, or a message saying what is wrong with it."""
    text = line.decode("utf-8", "replace").rstrip("\r\n")
    shown = text if len(text) <= 300 else text[:300] + "..."
    problem = None
    rest = text[len(REPORT_PREFIX):]
    if not rest[:1].isspace():
        problem = "no space after RUNG_REPORT"
    else:
        try:
            metrics = json.loads(rest)
        except json.JSONDecodeError as exc:
            problem = f"invalid JSON: {exc}"
        else:
            if not isinstance(metrics, dict):
                problem = f"expected a JSON object, got {type(metrics).__name__}"
            elif not metrics:
                problem = "the object has no metrics"
            else:
                return metrics
    return (
        f"malformed report line {shown!r} ({problem}); a report line is RUNG_REPORT, one space and a "
        f"JSON object of metrics, e.g. {_EXAMPLE}"
    )


def _shorten(text: str) -> str:
    return text if len(text) <= 300 else text[:300] + "..."


def _copy(stream: TextIO, data: bytes) -> None:
    """Write the program's bytes through unchanged where the stream allows it."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("utf-8", "replace"))
        stream.flush()
