"""What runs inside a trial: scikit-learn fits of one candidate on one or more folds.

These objects are the objectives the search classes hand to :class:`rung.Tuner`. They are
pickled once per worker (with the data), so a trial's config is only small integers and
never carries an estimator. Every fit goes through scikit-learn's own ``_fit_and_score``
(the routine its ``GridSearchCV`` and ``cross_validate`` call), so scores, timings,
``error_score`` handling and the verbose lines are scikit-learn's.

Each fit's full result (scores, times, the fit's traceback if it failed, what it printed and
the warnings it raised) is appended as one JSON line to ``fits.jsonl`` in the trial's
directory before the trial reports: the search reads those lines back whatever the trial's
fate (a NaN score fails the trial in rung's eyes but is a valid ``cv_results_`` entry).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

import rung

FITS_FILE = "fits.jsonl"


@dataclass
class FitTask:
    """Everything a fit needs besides the candidate: shipped to each worker once."""

    estimator: Any
    X: Any
    y: Any
    splits: list[tuple[np.ndarray, np.ndarray]]
    scorer: Any
    fit_params: dict[str, Any]
    score_params: dict[str, Any]
    return_train_score: bool
    error_score: Any
    verbose: int
    refit_metric: str | None = None  # the scorer whose test score the trial reports
    durable: bool = True  # fsync each record (a named experiment must survive a crash)
    config: dict[str, Any] | None = None  # scikit-learn's global config in the fitting process

    def fit(self, parameters: Mapping[str, Any], split: int, candidate_progress: tuple[int, int] | None,
            train: np.ndarray | None = None) -> dict[str, Any]:
        """Fit and score ``parameters`` on fold ``split`` (optionally on a subset ``train``
        of its training part); the result as a JSON-ready dict."""
        from sklearn import config_context
        from sklearn.base import clone
        from sklearn.model_selection._validation import _fit_and_score

        fold_train, test = self.splits[split]
        printed = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed), \
                config_context(**(self.config or {})):
            warnings.simplefilter("always")
            out = _fit_and_score(
                clone(self.estimator), self.X, self.y, scorer=self.scorer,
                train=fold_train if train is None else train, test=test, verbose=self.verbose,
                parameters=dict(parameters), fit_params=self.fit_params, score_params=self.score_params,
                return_train_score=self.return_train_score, return_n_test_samples=True,
                return_times=True, split_progress=(split, len(self.splits)),
                candidate_progress=candidate_progress, error_score=self.error_score,
            )
        return {
            "split": split,
            "test_scores": _plain_scores(out["test_scores"]),
            "train_scores": _plain_scores(out["train_scores"]) if self.return_train_score else None,
            "n_test_samples": int(out["n_test_samples"]),
            "fit_time": float(out["fit_time"]),
            "score_time": float(out["score_time"]),
            "fit_error": out["fit_error"],
            "printed": printed.getvalue(),
            "warnings": [_describe_warning(w) for w in caught],
        }

    def headline(self, fit: Mapping[str, Any]) -> float:
        """The test score the trial reports as its metric (NaN when there is none)."""
        scores = fit["test_scores"]
        if isinstance(scores, dict):
            name = self.refit_metric if self.refit_metric in scores else next(iter(scores), None)
            return float(scores[name]) if name is not None else math.nan
        return float(scores)


def _plain_scores(scores: Any) -> Any:
    if isinstance(scores, Mapping):
        return {str(k): float(v) for k, v in scores.items()}
    return float(scores)


def _describe_warning(w: warnings.WarningMessage) -> dict[str, Any]:
    category = w.category
    return {"module": category.__module__, "name": category.__qualname__, "message": str(w.message),
            "filename": str(w.filename), "lineno": int(w.lineno or 0)}


def append_fit(fit: Mapping[str, Any], directory: Path | None = None, durable: bool = True) -> None:
    """Append one fit's record to the trial's ``fits.jsonl`` (with ``durable``, synced to
    disk before the trial reports, so a report the store holds always has its fit on disk)."""
    path = (directory if directory is not None else rung.trial_dir()) / FITS_FILE
    line = json.dumps(fit, allow_nan=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode())
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def read_fits(directory: Path) -> list[dict[str, Any]]:
    """The fit records a trial wrote (a torn last line, from a crash mid-write, is skipped)."""
    path = directory / FITS_FILE
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def metrics_of(fit: Mapping[str, Any], headline: float) -> dict[str, float]:
    """The numbers a fit reports to rung (the store and the dashboard show them)."""
    metrics: dict[str, float] = {"score": headline, "fit_time": fit["fit_time"], "score_time": fit["score_time"]}
    for part in ("test", "train"):
        scores = fit[f"{part}_scores"]
        if isinstance(scores, dict):
            metrics.update({f"{part}_{name}": value for name, value in scores.items()})
        elif scores is not None:
            metrics[f"{part}_score"] = scores
    return metrics


@dataclass
class FoldFits:
    """Objective of a grid or randomized search: one trial = one candidate on one fold.

    The config is ``{"candidate": i, "split": k, ...}``; the candidate list lives here.
    """

    task: FitTask
    candidates: list[dict[str, Any]]

    def __call__(self, config: Mapping[str, Any]) -> dict[str, float]:
        index, split = int(config["candidate"]), int(config["split"])
        fit = self.task.fit(self.candidates[index], split, (index, len(self.candidates)))
        fit["candidate"] = index
        append_fit(fit, durable=self.task.durable)
        return metrics_of(fit, self.task.headline(fit))


@dataclass
class Levels:
    """The resource levels a multi-fidelity search evaluates at, and what the resource is:
    ``"n_samples"`` (training samples per fold) or the name of an estimator parameter."""

    resource: str
    values: list[float]

    def apply(self, task: FitTask, parameters: dict[str, Any], split: int, value: float,
              order: np.ndarray) -> tuple[dict[str, Any], np.ndarray | None]:
        """The parameters and training indices of ``split`` at resource ``value``."""
        if self.resource == "n_samples":
            train = task.splits[split][0]
            keep = order[np.isin(order, train)][: max(1, int(round(value)))]
            return parameters, np.sort(keep)
        return {**parameters, self.resource: _as_param(value)}, None


def _as_param(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


@dataclass
class CandidateFits:
    """Objective of :class:`TuneSearchCV`: one trial = one candidate on every fold, at each
    resource level in turn (one ``rung.report`` per level, so a scheduler can stop it).

    ``decode`` turns the rung config back into estimator parameters. A paused trial resumes
    after its last finished level (kept with ``rung.save_checkpoint``).
    """

    task: FitTask
    decode: Any
    levels: Levels | None = None
    seed: int = 0

    def __call__(self, config: Mapping[str, Any]) -> dict[str, float] | None:
        parameters = self.decode(config)
        done = (rung.load_checkpoint() or {}).get("level", -1)
        values: list[float | None] = list(self.levels.values) if self.levels else [None]
        order = np.random.default_rng(self.seed).permutation(_n_samples(self.task.X))
        for level, value in enumerate(values):
            if level <= done:
                continue
            fits = []
            for split in range(len(self.task.splits)):
                params, train = (parameters, None)
                if self.levels is not None and value is not None:
                    params, train = self.levels.apply(self.task, parameters, split, value, order)
                fit = self.task.fit(params, split, None, train=train)
                fit.update(level=level, n_resources=value)
                fits.append(fit)
            for fit in fits:
                append_fit(fit, durable=self.task.durable)
            scores = [self.task.headline(f) for f in fits]
            metrics = {"score": float(np.mean(scores)),
                       "fit_time": float(sum(f["fit_time"] for f in fits)),
                       "score_time": float(sum(f["score_time"] for f in fits))}
            for k, s in enumerate(scores):
                metrics[f"split{k}_test_score"] = s
            if self.levels is None:
                return metrics
            metrics["n_resources"] = float(value) if value is not None else math.nan
            try:
                rung.report(**metrics)
            finally:
                rung.save_checkpoint({"level": level})
        return None  # every level reported (or done before a pause)


def _n_samples(X: Any) -> int:
    from sklearn.utils.validation import _num_samples

    return int(_num_samples(X))
