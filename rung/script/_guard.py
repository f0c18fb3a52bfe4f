"""Kill a script trial's process group when the process that started it dies.

Run as ``python -S -I _guard.py FD PGID`` in a session of its own (so a kill aimed at the
trial's process does not reach it). It blocks reading the pipe ``FD`` whose only writer is
the Script: a byte means the Script ended the group itself; end-of-file without one means
the Script's process died (e.g. killed at a trial timeout) and the group must go too.
Standalone on purpose: it imports nothing from rung, so it starts in milliseconds.
"""

import os
import signal
import sys


def main(fd: int, pgid: int) -> int:
    try:
        released = os.read(fd, 1)
    except OSError:
        released = b""
    if not released:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
