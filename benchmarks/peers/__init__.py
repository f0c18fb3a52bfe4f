"""Peer optimizers for the benchmark suite: Optuna, Syne Tune and scikit-learn (issue 5).

``methods(problem)`` lists the peer methods that apply to a problem, each following the
``Method`` protocol of ``benchmarks.harness`` (``name``, ``run(problem, seed, budget)``),
so the runner puts them side by side with rung's (``benchmarks/methods.py``) on the same
problems, budgets, seeds and worker counts:

- Optuna (``_optuna``): ``optuna-random``, ``optuna-tpe``, ``optuna-gp`` (needs torch),
  ``optuna-cmaes`` (needs ``cmaes``; numeric unconditional spaces only); on
  multi-fidelity problems ``optuna-tpe-median`` and ``optuna-tpe-hyperband``.
- Syne Tune (``_synetune``, optional): ``synetune-random``, ``-tpe``, ``-bore``, ``-rea``,
  ``-botorch`` (needs ``botorch``), ``-cqr`` (needs ``huggingface_hub``); on
  multi-fidelity problems ``synetune-asha``, ``-bohb``, ``-asha-bore``, ``-asha-cqr``.
- scikit-learn (``_sklearn``): ``sklearn-halving`` (HalvingRandomSearchCV) on the
  Bayesmark problems.

Optuna and Syne Tune run through ``_simloop.simulate``: an event loop with simulated
workers and a virtual clock driven by ``problem.steps`` (wall-clock on real problems), in
which each peer asks for configs, sees every fidelity step and may stop a trial. A peer
whose package is missing is left out; nothing here imports a peer at import time.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from ._optuna import OptunaMethod, optuna_methods
from ._sklearn import SklearnHalvingMethod, sklearn_methods
from ._synetune import SyneTuneMethod, synetune_methods

if TYPE_CHECKING:
    from benchmarks.problems import Problem

__all__ = ["OptunaMethod", "SklearnHalvingMethod", "SyneTuneMethod", "available", "methods"]

#: Packages the peers may need, checked without importing them.
OPTIONAL = ("optuna", "torch", "cmaes", "syne_tune", "botorch", "huggingface_hub", "sklearn")


def available() -> set[str]:
    """The optional packages that are installed (by import name)."""
    return {name for name in OPTIONAL if importlib.util.find_spec(name) is not None}


def methods(problem: Problem) -> list[Any]:
    """The peer methods that apply to ``problem`` with the packages installed here."""
    found = available()
    return [*optuna_methods(problem, found), *synetune_methods(problem, found),
            *sklearn_methods(problem, found)]
