"""The store's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

JSON payloads are kept as text so both databases store them the same way. ``reports`` and
``events`` share one sequence number per experiment: together they are the ordered log from
which a resumed tuner replays its searcher and scheduler.

These tables are the *current* schema, created as is in a new store; a store written at an
older ``SCHEMA_VERSION`` is brought here by ``_migrations.py`` (bump the version and add a
migration with every change).
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 2

metadata = sa.MetaData()

meta = sa.Table(
    "rung_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

experiments = sa.Table(
    "rung_experiments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("metric", sa.String(255), nullable=False),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=True),
    sa.Column("space", sa.Text, nullable=False),
    sa.Column("spec", sa.Text, nullable=True),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("workdir", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("elapsed", sa.Float, nullable=False, default=0.0),
    sa.Column("decision_time", sa.Float, nullable=False, default=0.0),
    sa.Column("stop_reason", sa.String(64), nullable=True),
    sa.Column("stop_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("owner", sa.String(255), nullable=True),
)

trials = sa.Table(
    "rung_trials",
    metadata,
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("rung_experiments.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("trial_id", sa.Integer, primary_key=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("ended_at", sa.Float, nullable=True),
    sa.Column("run_time", sa.Float, nullable=False, default=0.0),
    sa.Column("n_reports", sa.Integer, nullable=False, default=0),
    sa.Column("n_starts", sa.Integer, nullable=False, default=0),
    sa.Column("metric_value", sa.Float(precision=53), nullable=True),
    sa.Column("last_metrics", sa.Text, nullable=True),
    sa.Column("resource", sa.Float, nullable=True),
    sa.Column("end_reason", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("traceback", sa.Text, nullable=True),
)

reports = sa.Table(
    "rung_reports",
    metadata,
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("rung_experiments.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("trial_id", sa.Integer, nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("time", sa.Float, nullable=False),
    sa.Column("metrics", sa.Text, nullable=False),
    sa.Column("action", sa.String(16), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("details", sa.Text, nullable=True),
)

events = sa.Table(
    "rung_events",
    metadata,
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("rung_experiments.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("trial_id", sa.Integer, nullable=False),
    sa.Column("time", sa.Float, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)

sa.Index("ix_rung_reports_trial", reports.c.experiment_id, reports.c.trial_id)
# Version 2: trial counts and best values per experiment (list_experiments) are read from
# this index alone, without visiting the trial rows.
trials_summary_index = sa.Index("ix_rung_trials_summary", trials.c.experiment_id, trials.c.status, trials.c.metric_value)
