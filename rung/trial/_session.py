"""``rung.report``: how trial code talks to the tuner.

Trial code calls ``rung.report(epoch=3, validation_error=0.21)`` once per step. The call
sends the metrics to the tuner and waits for the scheduler's answer:

* CONTINUE: ``report`` returns ``None`` and the trial goes on;
* STOP: ``report`` raises :class:`TrialStopped`;
* PAUSE: ``report`` raises :class:`TrialPaused` (a subclass of ``TrialStopped``); the trial
  should have saved a checkpoint, since it may be resumed later from it.

Letting the exception propagate out of the objective is the normal way to end; an objective
may also catch it to clean up and then return. Either way the tuner records the trial as
stopped (or paused), never as failed. The exception derives from ``Exception`` so that
cleanup code in ``try/finally`` runs as usual.

Where the call goes depends on where the trial runs: the backend installs a *session*
for the duration of the trial (in-process, a context variable; in a worker process, a pipe
to the tuner). A training program started by :class:`rung.script.Script` has no installed
session; it finds its trial through environment variables instead (``RUNG_REPORT_FD``, a
socket inherited from the Script, and ``RUNG_TRIAL_DIR`` / ``RUNG_CHECKPOINT_DIR``), so the
same ``rung.report`` calls work in a script as in a function.
"""

from __future__ import annotations

import contextvars
import errno
import json
import os
import socket
import stat
import struct
import sys
import threading
from pathlib import Path
from typing import Any, Mapping, Protocol

from ._calling import plain_metrics


class TrialStopped(Exception):
    """Raised by :func:`report` when the scheduler decided to stop this trial."""

    action = "stop"

    def __init__(self, message: str = "the scheduler stopped this trial") -> None:
        super().__init__(message)


class TrialPaused(TrialStopped):
    """Raised by :func:`report` when the scheduler paused this trial (it may resume later)."""

    action = "pause"

    def __init__(self, message: str = "the scheduler paused this trial") -> None:
        super().__init__(message)


class Session(Protocol):
    """What a backend provides to trial code while a trial runs.

    ``resource`` is the launch's cap on the scheduler's resource attribute (e.g. the epoch
    a paused trial may run to before its next rung), None when uncapped.
    """

    trial_id: int
    trial_dir: Path
    resource: float | None

    def report(self, metrics: dict[str, Any]) -> str:
        """Deliver ``metrics``; return the scheduler's action ("continue", "stop", "pause")."""


_current_session: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "rung_session", default=None
)


def set_session(session: Session | None) -> contextvars.Token:
    return _current_session.set(session)


def reset_session(token: contextvars.Token) -> None:
    _current_session.reset(token)


def current_session() -> Session | None:
    return _current_session.get()


# -- the wire format -------------------------------------------------------------------------
# Every channel that trial code or a trial program can write to (a worker's socket to the
# tuner, a script's RUNG_REPORT_FD) carries data only: a 4-byte big-endian length, then a
# JSON array (the message). Nothing received is ever unpickled, so bytes a trial writes can
# at worst fail that trial. Python's JSON keeps NaN and infinities (as NaN / Infinity).

_HEADER = struct.Struct("!I")
MAX_MESSAGE = 1 << 30  # a length above this is garbage, not a message
_CHUNK = 1 << 20


class ChannelError(Exception):
    """The other side wrote bytes that are not a rung message (the stream is unusable now)."""


class UnsendableError(TypeError):
    """A message holds a value that is not data (numbers, strings, lists, dicts, None)."""


def _plain(value: Any) -> Any:
    """JSON fallback: numpy (and 0-d tensor) scalars become numbers, arrays lists."""
    if getattr(value, "shape", None) == () and callable(getattr(value, "item", None)):
        return value.item()
    if callable(getattr(value, "tolist", None)) and hasattr(value, "dtype"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} {_short(value)} is not a number, string, list or dict")


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except BaseException:
        return "(unprintable)"
    return text if len(text) <= 80 else text[:80] + "..."


def encode_message(message: tuple) -> bytes:
    """One framed message; raises :class:`UnsendableError` naming what cannot be sent."""
    try:
        payload = json.dumps(message, default=_plain, separators=(",", ":")).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError, RecursionError) as exc:
        raise UnsendableError(str(exc)) from None
    if len(payload) > MAX_MESSAGE:
        raise UnsendableError(f"the message is {len(payload)} bytes, more than {MAX_MESSAGE}")
    return _HEADER.pack(len(payload)) + payload


def decode_message(payload: bytes) -> tuple:
    """The message in one frame's payload; raises :class:`ChannelError` for anything else."""
    try:
        message = json.loads(payload.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ChannelError(f"a frame of {len(payload)} bytes is not JSON ({exc})") from None
    if not (isinstance(message, list) and message and isinstance(message[0], str)):
        raise ChannelError(f"a frame holds {_short(message)}, not a rung message")
    return tuple(message)


class Channel:
    """Framed JSON messages over a stream socket (see the wire format above).

    ``recv`` blocks and reads exactly one message (a forked trial shares its worker's
    socket, so nobody may read ahead); ``receive_available`` reads whatever has arrived
    without blocking, for a reader that multiplexes several channels and must never hang on
    half a message a trial wrote.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.closed = False  # the other side closed (receive_available saw end-of-file)
        self._buffer = bytearray()
        self.error: ChannelError | None = None  # garbage was met; the stream is unusable

    @classmethod
    def from_fd(cls, fd: int) -> "Channel":
        return cls(socket.socket(fileno=fd))

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, message: tuple) -> None:
        self.sock.sendall(encode_message(message))

    def recv(self) -> tuple:
        """The next message; EOFError when the other side closed, ChannelError for garbage."""
        header = self._read_exactly(_HEADER.size)
        (size,) = _HEADER.unpack(header)
        if size > MAX_MESSAGE:
            raise ChannelError(f"a frame announces {size} bytes (at most {MAX_MESSAGE})")
        return decode_message(self._read_exactly(size))

    def _read_exactly(self, size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            chunk = self.sock.recv(min(size - len(data), _CHUNK))
            if not chunk:
                raise EOFError("the other side closed the channel")
            data += chunk
        return bytes(data)

    def receive_available(self) -> list[tuple]:
        """Every complete message that has arrived, without blocking.

        Sets :attr:`closed` at end-of-file. Raises :class:`ChannelError` once garbage is met;
        if messages came before it, they are returned and the error is left in :attr:`error`
        (raised by the next call), so check it after handling them.
        """
        if self.error is not None:
            raise self.error
        while not self.closed:
            try:
                chunk = self.sock.recv(_CHUNK, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.closed = True
                break
            if not chunk:
                self.closed = True
                break
            self._buffer += chunk
            if len(chunk) < _CHUNK:
                break
        messages: list[tuple] = []
        try:
            while len(self._buffer) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(self._buffer)
                if size > MAX_MESSAGE:
                    raise ChannelError(f"a frame announces {size} bytes (at most {MAX_MESSAGE})")
                if len(self._buffer) < _HEADER.size + size:
                    break
                payload = bytes(self._buffer[_HEADER.size:_HEADER.size + size])
                del self._buffer[:_HEADER.size + size]
                messages.append(decode_message(payload))
            if self.closed and self._buffer:
                raise ChannelError(f"the channel closed in the middle of a frame ({len(self._buffer)} bytes left)")
        except ChannelError as exc:
            self.error = exc
            self._buffer.clear()
            if not messages:
                raise
        return messages

    def close(self) -> None:
        self.sock.close()


def fd_is_closed(fd: int) -> bool:
    """Whether ``fd`` is no longer open in this process (e.g. the trial ran os.closerange)."""
    try:
        os.fstat(fd)
    except OSError as exc:
        return exc.errno == errno.EBADF
    return False


# -- private files ---------------------------------------------------------------------------
# What a trial writes (logs, checkpoints, its config) may hold secrets: directories rung
# creates for a trial are 0700 and its files 0600, whatever the umask.

def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents as 0700 directories; return it."""
    missing = []
    current = Path(path)
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            continue
        os.chmod(directory, 0o700)
    return Path(path)


def open_private(path: Path | str, flags: int) -> int:
    """``os.open`` a file created (or kept) 0600; returns the fd."""
    fd = os.open(path, flags | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except OSError:
        pass  # not ours to change (e.g. a file the user made); its mode stays theirs
    return fd


REPORT_FD_VARIABLE = "RUNG_REPORT_FD"
RESOURCE_VARIABLE = "RUNG_RESOURCE"


class ScriptSession:
    """Session of a program started by ``rung.script.Script``, described by its environment.

    Reports travel as ``("report", metrics)`` over the socket whose fd is in
    ``RUNG_REPORT_FD`` (framed JSON, see :class:`Channel`); the Script answers
    ``("decision", action)`` after asking the tuner. The socket is opened on the first report, so ``trial_dir()`` and
    ``checkpoint_dir()`` also work in processes that did not inherit it. ``RUNG_RESOURCE``
    (absent when uncapped) carries the launch's resource cap.
    """

    def __init__(self, fd_text: str, environ: Mapping[str, str]) -> None:
        self._fd_text = fd_text
        self.trial_id = int(environ.get("RUNG_TRIAL_ID", "-1"))
        self.trial_dir = Path(environ.get("RUNG_TRIAL_DIR", "."))
        resource = environ.get(RESOURCE_VARIABLE)
        self.resource: float | None = float(resource) if resource else None
        self.checkpoint_dir = Path(environ.get("RUNG_CHECKPOINT_DIR", self.trial_dir / "checkpoint"))
        self._conn: Channel | None = None
        self._lock = threading.Lock()

    def report(self, metrics: dict[str, Any]) -> str:
        with self._lock:
            channel = self._connect()
            try:
                channel.send(("report", dict(metrics)))
                message = channel.recv()
            except UnsendableError as exc:
                raise TypeError(unsendable_metrics(metrics, exc)) from None
            except (EOFError, OSError, ChannelError):
                if fd_is_closed(int(self._fd_text)):
                    raise RuntimeError(_closed_socket(self._fd_text)) from None
                return "stop"  # the Script (and so the trial) is gone: nobody reads this any more
        if not (len(message) == 2 and message[0] == "decision" and isinstance(message[1], str)):
            raise RuntimeError(f"rung.report() got an unexpected answer from the tuner: {message!r}")
        return message[1]

    def _connect(self) -> Channel:
        if self._conn is None:
            try:
                fd = int(self._fd_text)
                is_socket = stat.S_ISSOCK(os.fstat(fd).st_mode)
            except (ValueError, OSError):
                is_socket = False
            if not is_socket and self._fd_text.isdigit() and fd_is_closed(int(self._fd_text)):
                raise RuntimeError(_closed_socket(self._fd_text))
            if not is_socket:
                raise RuntimeError(
                    f"{REPORT_FD_VARIABLE}={self._fd_text!r} is not an open socket in this process; only "
                    "the program started by rung.script.Script can call rung.report() (other processes "
                    'can print lines like RUNG_REPORT {"loss": 0.2} instead)'
                )
            self._conn = Channel.from_fd(fd)
            sys.excepthook = _quiet_about_stops(sys.excepthook)
        return self._conn


def _closed_socket(fd_text: str) -> str:
    return (f"rung.report(): the report socket {REPORT_FD_VARIABLE}={fd_text} was closed in this program "
            "(e.g. by os.closerange); keep that file descriptor open")


def unsendable_metrics(metrics: Mapping[str, Any], error: Exception) -> str:
    """Why ``rung.report(**metrics)`` cannot be sent, naming the first metric at fault."""
    for name, value in metrics.items():
        try:
            encode_message((name, value))
        except UnsendableError as exc:
            return (f"rung.report(): metric {name!r} cannot be sent to the tuner ({exc}); "
                    "report numbers (plain or numpy scalars)")
    return f"rung.report(): the metrics cannot be sent to the tuner ({error}); report numbers"


def _quiet_about_stops(previous: Any) -> Any:
    """An uncaught TrialStopped ends a script as planned: one line instead of a traceback."""

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if issubclass(kind, TrialStopped):
            sys.stderr.write(f"rung: {value}\n")
        else:
            previous(kind, value, tb)

    return hook


_script_session: ScriptSession | None = None


def _environment_session() -> ScriptSession | None:
    """The session of a script run by ``rung.script.Script``, or None outside one."""
    global _script_session
    fd_text = os.environ.get(REPORT_FD_VARIABLE)
    if fd_text is None:
        return None
    if _script_session is None:
        _script_session = ScriptSession(fd_text, os.environ)
    return _script_session


def report(**metrics: Any) -> None:
    """Report this step's metrics to the tuner (call once per step, e.g. per epoch).
    numpy numbers and one-element arrays or torch tensors are taken as numbers.

    Raises :class:`TrialStopped` (or :class:`TrialPaused`) when the scheduler ends the
    trial, and ``RuntimeError`` when called outside a trial run by rung.
    """
    session = _current_session.get() or _environment_session()
    if session is None:
        raise RuntimeError(
            "rung.report() was called outside a trial; call it from an objective run by rung.Tuner"
        )
    if not metrics:
        raise ValueError("rung.report() needs at least one metric, e.g. rung.report(loss=0.3)")
    action = session.report(plain_metrics(metrics))
    if action == "continue":
        return None
    if action == "pause":
        raise TrialPaused()
    raise TrialStopped()


def trial_dir() -> Path:
    """The running trial's own directory (created on first use): logs and checkpoints go here."""
    session = _current_session.get() or _environment_session()
    if session is None:
        raise RuntimeError("rung.trial_dir() was called outside a trial")
    return private_dir(session.trial_dir)


def checkpoint_dir() -> Path:
    """Directory where the running trial may save state to resume from after a pause."""
    script = _environment_session() if _current_session.get() is None else None
    if script is not None:
        return private_dir(script.checkpoint_dir)
    return private_dir(trial_dir() / "checkpoint")
