"""The live web dashboard: ``rung dashboard``, ``rung run --dashboard``, ``Tuner(dashboard=True)``.

It serves every experiment of a store (Starlette on uvicorn; plotly.js from the plotly
package, so it works offline), reads the store incrementally through the storage interface
and updates an open page within about a second of a report. See docs/dashboard.md.
Needs the ``dashboard`` extra: ``pip install 'rung[dashboard]'``.
"""

from __future__ import annotations

try:
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"the dashboard needs the 'dashboard' extra ({err.name} is missing): pip install 'rung[dashboard]'"
    ) from None

from ._app import Dashboard
from ._server import DEFAULT_HOST, DEFAULT_PORT, RunningDashboard, serve, start

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Dashboard", "RunningDashboard", "serve", "start"]
