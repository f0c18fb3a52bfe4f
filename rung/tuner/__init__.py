"""The tuner: the event loop, its run state, budgets, outcomes, the experiment session.

``Tuner`` is what users build; ``Callback`` is how progress views, dashboards and loggers
follow a run; ``RunState`` is the state of a run rebuilt from its events (live, on resume
and by ``rung.load``).
"""

from ._budgets import Budgets
from ._callbacks import Callback, CallbackList
from ._state import RunState
from ._tuner import Tuner

__all__ = ["Budgets", "Callback", "CallbackList", "RunState", "Tuner"]
