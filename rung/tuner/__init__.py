"""The tuner: the event loop, its run state, budgets, outcomes, the experiment session."""

from ._tuner import Tuner

__all__ = ["Tuner"]
