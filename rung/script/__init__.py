"""Script trials: tune a training program written in any language.

>>> from rung.script import Script
>>> result = rung.Tuner(Script(["python", "train.py"]), space, metric="loss", max_trials=20).run()

Each trial runs the program once with the config as ``--name=value`` flags (or a JSON
file). The program reports either with ``rung.report(...)`` (Python, through a socket rung
hands it) or by printing lines in this format to stdout, from any language::

    RUNG_REPORT {"epoch": 3, "loss": 0.21}

that is, ``RUNG_REPORT``, one space and a JSON object of metrics, on a line of its own
(flush stdout after it). Each report reaches the scheduler, which may stop or pause the
trial; rung then ends the program's whole process group. See :class:`Script`.
"""

from ._errors import ScriptFailed
from ._relay import REPORT_PREFIX
from ._script import Script

__all__ = ["REPORT_PREFIX", "Script", "ScriptFailed"]
