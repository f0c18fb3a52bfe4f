"""Benchmark results in the rung store: one row per (suite, method, problem, seed).

Storing every benchmark run as a rung experiment would write every report of thousands of
simulated trials; the scores need only the :class:`RunResult`. So the harness keeps its own
table, ``bench_runs``, in the same database as rung's experiments (opened through
``rung.storage.SQLStorage``, so SQLite gets WAL mode and the busy timeout), created with
``create_all`` on first use. A cell is *done* once a finished row exists for its key, which
makes a rerun of the same suite skip it (resume). A failed cell keeps its error and is run
again next time.

Each row also holds the budget the cell ran with; running a suite again with a different
budget for a problem is refused, since the suite's runs would no longer be comparable.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from rung.storage import SQLStorage

from ._method import Budget, RunResult

metadata = sa.MetaData()

runs = sa.Table(
    "bench_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("suite", sa.String(200), nullable=False),
    sa.Column("method", sa.String(200), nullable=False),
    sa.Column("problem", sa.String(200), nullable=False),
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # "finished" | "failed"
    sa.Column("budget", sa.Text, nullable=False),  # JSON of Budget
    sa.Column("result", sa.Text),  # JSON of RunResult (finished rows)
    sa.Column("error", sa.Text),  # traceback (failed rows)
    sa.Column("real_time", sa.Float),
    sa.Column("recorded_at", sa.Float, nullable=False),
    sa.UniqueConstraint("suite", "method", "problem", "seed", name="uq_bench_runs_cell"),
)

Key = tuple[str, str, int]


class BudgetMismatch(ValueError):
    """A suite is being rerun with another budget than the one its stored cells used."""


class ResultStore:
    """The ``bench_runs`` table of the rung store at ``url`` (path, URL or None: default store)."""

    def __init__(self, url: str | os.PathLike | None = None) -> None:
        self.storage = SQLStorage(url)
        self.engine = self.storage.engine
        metadata.create_all(self.engine)

    @property
    def url(self) -> str:
        return self.storage.url

    def close(self) -> None:
        self.storage.dispose()

    # -- reading -------------------------------------------------------------------------
    def suites(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs.c.suite).distinct().order_by(runs.c.suite))
            return [row.suite for row in rows]

    def done(self, suite: str) -> set[Key]:
        """Keys of the suite's finished cells."""
        query = sa.select(runs.c.method, runs.c.problem, runs.c.seed).where(
            runs.c.suite == suite, runs.c.status == "finished")
        with self.engine.connect() as conn:
            return {(row.method, row.problem, row.seed) for row in conn.execute(query)}

    def budgets(self, suite: str) -> dict[str, Budget]:
        """The budget each problem of the suite ran with (from its stored cells)."""
        query = sa.select(runs.c.problem, runs.c.budget).where(runs.c.suite == suite)
        with self.engine.connect() as conn:
            return {row.problem: Budget.from_dict(json.loads(row.budget)) for row in conn.execute(query)}

    def results(self, suite: str) -> list[RunResult]:
        """Every finished run of the suite, ordered by problem, method and seed."""
        query = (sa.select(runs.c.result).where(runs.c.suite == suite, runs.c.status == "finished")
                 .order_by(runs.c.problem, runs.c.method, runs.c.seed))
        with self.engine.connect() as conn:
            return [RunResult.from_dict(json.loads(row.result)) for row in conn.execute(query)]

    def failures(self, suite: str) -> list[dict[str, Any]]:
        """The suite's failed cells: method, problem, seed and the error."""
        query = (sa.select(runs.c.method, runs.c.problem, runs.c.seed, runs.c.error)
                 .where(runs.c.suite == suite, runs.c.status == "failed"))
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def check_budgets(self, suite: str, budgets: dict[str, Budget]) -> None:
        """Refuse to add cells to a suite whose stored cells ran with another budget."""
        stored = self.budgets(suite)
        for problem, budget in budgets.items():
            if problem in stored and stored[problem] != budget:
                raise BudgetMismatch(
                    f"suite {suite!r} ran {problem} with {stored[problem]}, not {budget}; "
                    "use another --suite name (or the same options) so that its runs stay comparable"
                )

    # -- writing -------------------------------------------------------------------------
    def _put(self, suite: str, key: Key, budget: Budget, **values: Any) -> None:
        method, problem, seed = key
        where = sa.and_(runs.c.suite == suite, runs.c.method == method, runs.c.problem == problem,
                        runs.c.seed == seed)
        row = dict(budget=json.dumps(budget.to_dict()), recorded_at=time.time(), **values)
        with self.engine.begin() as conn:
            conn.execute(sa.delete(runs).where(where))
            conn.execute(sa.insert(runs).values(suite=suite, method=method, problem=problem, seed=seed, **row))

    def save(self, suite: str, result: RunResult, budget: Budget) -> None:
        """Record a finished cell (replacing a failed attempt)."""
        self._put(suite, result.key, budget, status="finished", result=json.dumps(result.to_dict()),
                  error=None, real_time=result.real_time)

    def save_failure(self, suite: str, key: Key, budget: Budget, error: str, real_time: float = 0.0) -> None:
        """Record a failed cell; it runs again next time."""
        self._put(suite, key, budget, status="failed", result=None, error=error, real_time=real_time)

    def delete_suite(self, suite: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(runs).where(runs.c.suite == suite)).rowcount


def load_results(url: str | os.PathLike | None, suite: str) -> list[RunResult]:
    """The finished runs of ``suite`` in the store at ``url``."""
    store = ResultStore(url)
    try:
        return store.results(suite)
    finally:
        store.close()


def keys(results: Iterable[RunResult]) -> set[Key]:
    return {r.key for r in results}
