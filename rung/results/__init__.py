"""What a run leaves behind: the result tables, ``rung.load`` and plots."""

from ._load import load
from ._result import TrajectoryPoint, TuningResult

__all__ = ["TrajectoryPoint", "TuningResult", "load"]
