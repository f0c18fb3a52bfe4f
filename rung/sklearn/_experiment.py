"""Running a batch of scikit-learn fits as one rung experiment, and reading the fits back.

A search with ``experiment="name"`` is recorded in the store (the default SQLite file, or
``storage=``) under that name, its trial directories in ``$RUNG_HOME/experiments/name``;
fitting again with the same name continues it (finished fits are not run again, fits that
were running when the process died are run again). Without a name the records stay in
memory and the trial directories in a temporary directory removed after the fit.
"""

from __future__ import annotations

import copy
import importlib
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import rung
from rung.tuner import Callback

from ._fits import read_fits

if TYPE_CHECKING:
    from rung.backends import Backend
    from rung.results import TuningResult
    from rung.tuner import RunState
    from rung.trial import Trial


def build_backend(backend: Any) -> "Backend":
    """The backend for ``backend=``: ``"process"`` is rung's process backend with the fits
    run inside its warm workers (``isolation="none"``): a fit is a function call, not a fork
    of a worker holding scikit-learn and the data, which on a busy machine cost about 0.1 s
    per fit (benchmarks/RESULTS.md); state a fit leaves in its worker's modules (numpy's
    global random state, say) carries over to the next fit there, as in a joblib worker. Pass
    ``rung.backends.ProcessBackend()`` for a fork per fit, or any backend or name. A backend
    instance is copied first, so that ``fit`` leaves the search's parameters as they were."""
    from rung.backends import Backend, ProcessBackend, make_backend

    if isinstance(backend, Backend):
        try:
            return copy.deepcopy(backend)
        except Exception:  # a backend holding something that cannot be copied is used as it is
            return backend
    if backend == "process":
        return ProcessBackend(isolation="none")
    return make_backend(backend)


def n_workers_for(n_jobs: int | None, n_tasks: int) -> int:
    """Workers for ``n_jobs`` as joblib reads it (None: 1, -1: every core, -2: all but
    one, ...), never more than there are trials to run."""
    from joblib import effective_n_jobs  # type: ignore[import-untyped]

    return max(1, min(int(effective_n_jobs(n_jobs)), max(1, n_tasks)))


class _Echo(Callback):
    """Prints what each finished trial's fits printed (scikit-learn's ``[CV ...] END`` lines)."""

    def __init__(self, backend: "Backend") -> None:
        self.backend = backend
        self.workdir = Path(".")  # set once the tuner has chosen it
        self.seen: dict[int, int] = {}

    def on_trial_end(self, state: "RunState", trial: "Trial") -> None:
        fits = read_fits(self.backend.trial_dir(self.workdir, trial.trial_id))
        start = self.seen.get(trial.trial_id, 0)
        for fit in fits[start:]:
            if fit.get("printed"):
                sys.stdout.write(fit["printed"])
        self.seen[trial.trial_id] = len(fits)
        sys.stdout.flush()


@dataclass
class Run:
    """What one experiment produced: the result and each trial's fit records."""

    result: "TuningResult"
    fits: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


def run_experiment(objective: Callable[[dict], Any], space: Mapping[str, Any], *, n_trials: int, n_jobs: int | None,
                   backend: Any, experiment: str | None, storage: Any, searcher: Any = "grid",
                   scheduler: Any = None, seed: int | None = 0, echo: bool = False,
                   max_failures: int | None = None) -> Run:
    """Run ``objective`` over ``space`` as a rung experiment and collect every trial's fits."""
    built = build_backend(backend)
    n_workers = n_workers_for(n_jobs, n_trials)
    if built.max_workers is not None:
        n_workers = min(n_workers, built.max_workers)
    temporary = experiment is None
    workdir = Path(tempfile.mkdtemp(prefix="rung-sklearn-")) if temporary else None
    echoes = [_Echo(built)] if echo else []
    try:
        tuner = rung.Tuner(
            objective, space, metric="score", mode="max", searcher=searcher, scheduler=scheduler,
            # every fit runs whatever the others did: error_score decides what a failure means
            n_workers=n_workers, max_trials=n_trials, max_failures=max_failures, max_initial_failures=None,
            backend=built,
            seed=seed, verbose=0, experiment=experiment,
            storage=":memory:" if temporary else storage, workdir=workdir, resume=not temporary,
            callbacks=echoes,
        )
        for callback in echoes:
            callback.workdir = Path(tuner.workdir)
        result = tuner.run()
        where = Path(result.workdir) if result.workdir else Path(tuner.workdir)
        fits = {t.trial_id: read_fits(built.trial_dir(where, t.trial_id)) for t in result.trial_records}
        return Run(result, fits)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def content_hash(value: Any) -> str:
    """joblib's hash of ``value`` (arrays hashed by content): what a stored search depends on."""
    from joblib import hash as joblib_hash

    return str(joblib_hash(value))


def reissue_warnings(fits: list[dict[str, Any]]) -> None:
    """Raise again, in this process, the warnings the fits raised in their workers (the
    category is looked up by its import path and used only if it is a Warning class)."""
    for fit in fits:
        for w in fit.get("warnings", ()):
            warnings.warn_explicit(w["message"], _category(w["module"], w["name"]), w["filename"], w["lineno"])


def _category(module: str, name: str) -> type[Warning]:
    try:
        found: Any = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return UserWarning
    return found if isinstance(found, type) and issubclass(found, Warning) else UserWarning
