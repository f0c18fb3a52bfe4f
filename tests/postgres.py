"""The PostgreSQL server the tests may use: this run's own database (see conftest.py)."""

import functools
import os

import sqlalchemy as sa

URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{os.environ.get('RUNG_TEST_PG_DB', 'test')}"


@functools.cache
def unreachable_reason() -> str | None:
    """Why PostgreSQL cannot be used here, or None if it can."""
    try:
        engine = sa.create_engine(URL)
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # driver missing, server down, auth...
        return f"PostgreSQL at {URL} is not reachable ({type(exc).__name__}: {str(exc).splitlines()[0]})"
