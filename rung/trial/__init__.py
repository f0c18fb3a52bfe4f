"""What trial code imports: ``report``, checkpoints, its session, and the trial record.

Trial code (functions and Python scripts) imports rung only to call ``rung.report``; this
package stays light (no SQLAlchemy, no pandas) so that import is cheap in every worker.
"""

from ._checkpoint import load_checkpoint, save_checkpoint
from ._limits import resource_limit
from ._record import Report, Trial, TrialStatus
from ._session import TrialPaused, TrialStopped, checkpoint_dir, report, trial_dir

__all__ = [
    "Report",
    "Trial",
    "TrialPaused",
    "TrialStatus",
    "TrialStopped",
    "checkpoint_dir",
    "load_checkpoint",
    "report",
    "resource_limit",
    "save_checkpoint",
    "trial_dir",
]
