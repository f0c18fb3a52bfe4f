"""rung for scikit-learn users (the ``rung[sklearn]`` extra).

- :class:`GridSearchCV` and :class:`RandomizedSearchCV`: scikit-learn's classes, same
  parameters and results, whose fits run as a rung experiment on rung's worker processes
  (recorded in the store with ``experiment="name"``, resumable after a crash).
- :class:`TuneSearchCV`: the same interface driven by rung's searchers (GP, TPE, ...) and
  multi-fidelity schedulers (successive halving, ASHA, Hyperband) where the resource is the
  number of training samples or an estimator parameter.
- :func:`sweep`: one parameter's training and validation scores (scikit-learn's
  ``validation_curve``, one trial per value) as a table, and :func:`plot_sweep`.
"""

from __future__ import annotations

from ._search import GridSearchCV, RandomizedSearchCV
from ._sweep import plot_sweep, sweep
from ._tune import TuneSearchCV

__all__ = ["GridSearchCV", "RandomizedSearchCV", "TuneSearchCV", "plot_sweep", "sweep"]
