"""The dashboard's web application (Starlette): two pages, their JSON API, and the assets.

Pages: ``/`` (the experiments of the store) and ``/experiments/{name}`` (one experiment's
views and trial table; a trial's details open in the page). Both are static HTML with plain
JavaScript that polls the JSON API below, so an open page follows a running experiment
without reloading. plotly.js is served from the plotly Python package (no CDN).

API (all GET, JSON): ``/api/experiments``; ``/api/experiments/{name}/summary``;
``.../views/{curves|incumbent|rungs|params|importance|timeline}``; ``.../trials`` (sort,
order, status, q, offset, limit); ``.../trials/{id}``. The one write: ``POST
/api/experiments/{name}/stop`` with the header ``X-Rung-Action: stop`` (a header other sites'
pages cannot send without the browser asking first), which sets the store's stop request.

Access: :class:`Guard` answers only requests for a loopback host name unless the dashboard
was given a token (required when it listens on another address), in which case every
request must carry it (``?token=`` once, then a cookie, or ``Authorization: Bearer``).
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..storage import ExperimentNotFound, Storage, StorageError
from . import _table, _views
from ._follow import Follower, Hub

ASSETS = Path(__file__).with_name("assets")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
TOKEN_COOKIE = "rung_dashboard_token"
#: A view is recomputed at most this often while the experiment changes (seconds).
MIN_RECOMPUTE = {"importance": 10.0, "timeline": 1.0}


def plotly_js() -> Path:
    """The plotly.js bundle inside the installed plotly package."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


class SafeJSON(JSONResponse):
    """JSON with NaN and inf as null (browsers refuse them in JSON)."""

    def render(self, content: Any) -> bytes:
        try:
            return json.dumps(content, allow_nan=False, separators=(",", ":"), default=_plain).encode()
        except ValueError:
            return json.dumps(_finite(content), allow_nan=False, separators=(",", ":"), default=_plain).encode()


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def host_name(header: str) -> str:
    """The host of a ``Host`` header, without the port (``[::1]:8470`` -> ``[::1]``)."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0]


class Guard:
    """ASGI middleware for the access rules (module docstring)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.token is None:
            if host_name(request.headers.get("host") or "") not in LOOPBACK_HOSTS:  # e.g. a DNS-rebinding page reaching 127.0.0.1 by another name
                await PlainTextResponse("this dashboard answers only on 127.0.0.1 / localhost", 403)(scope, receive, send)
                return
        else:
            given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
            header = request.headers.get("authorization", "")
            if header.lower().startswith("bearer "):
                given = header[7:].strip()
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                await PlainTextResponse("a token is required: open the URL the dashboard printed", 401)(scope, receive, send)
                return
            if "token" in request.query_params and request.method == "GET":
                # Move the token from the URL (history, logs) into an HTTP-only cookie.
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                target = request.url.path + ("?" + "&".join(f"{k}={v}" for k, v in rest) if rest else "")
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Dashboard:
    """The application over one store; ``experiment`` names the one to open first."""

    def __init__(self, store: Storage, *, token: str | None = None, experiment: str | None = None,
                 poll_seconds: float = 0.5) -> None:
        self.store = store
        self.experiment = experiment
        self.hub = Hub(store, poll_seconds=poll_seconds)
        self._cache: dict[tuple[str, str], tuple[int, float, Any]] = {}
        self._cache_lock = threading.Lock()
        routes = [
            Route("/", self.list_page),
            Route("/experiments/{name:path}", self.experiment_page),
            Route("/comparisons/{name:path}", self.comparison_page),
            Route("/static/{file}", self.static),
            Route("/api/experiments", self.api_experiments),
            Route("/api/experiments/{name}/summary", self.api_summary),
            Route("/api/experiments/{name}/views/{view}", self.api_view),
            Route("/api/experiments/{name}/trials", self.api_trials),
            Route("/api/experiments/{name}/trials/{trial:int}", self.api_trial),
            Route("/api/experiments/{name}/stop", self.api_stop, methods=["POST"]),
            Route("/api/comparisons/{name}", self.api_comparison),
        ]
        self.starlette = Starlette(routes=routes)
        self.app: ASGIApp = Guard(self.starlette, token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def close(self) -> None:
        self.hub.close()

    # -- pages -------------------------------------------------------------------------------
    def list_page(self, request: Request) -> Response:
        return FileResponse(ASSETS / "index.html", headers=_no_cache())

    def experiment_page(self, request: Request) -> Response:
        return FileResponse(ASSETS / "experiment.html", headers=_no_cache())

    def comparison_page(self, request: Request) -> Response:
        return FileResponse(ASSETS / "comparison.html", headers=_no_cache())

    def static(self, request: Request) -> Response:
        name = request.path_params["file"]
        if name == "plotly.min.js":
            return FileResponse(plotly_js(), headers={"Cache-Control": "max-age=86400"})
        if name not in ("app.js", "list.js", "comparison.js", "style.css"):
            return PlainTextResponse("not found", 404)
        return FileResponse(ASSETS / name, headers=_no_cache())

    # -- API ---------------------------------------------------------------------------------
    def api_experiments(self, request: Request) -> Response:
        try:
            experiments = self.store.list_experiments()
        except StorageError as err:
            return SafeJSON({"error": str(err)}, 503)
        return SafeJSON({
            "store": self.store.url, "open": self.experiment,
            "experiments": [{
                "name": e.name, "status": e.status, "metric": e.metric, "mode": e.mode, "n_trials": e.n_trials,
                "comparison": not e.n_trials and self._is_comparison(e.name),
                "counts": e.trial_counts, "best_value": e.best_value, "created_at": e.created_at,
                "updated_at": e.updated_at, "elapsed": e.elapsed, "stop_reason": e.stop_reason,
            } for e in experiments],
        })

    def _is_comparison(self, name: str) -> bool:
        """Whether the (trial-less) experiment record describes a comparison of methods
        (``rung compare``), shown on its own page."""
        try:
            record = self.store.get_experiment(name)
        except StorageError:
            return False
        return record is not None and isinstance((record.settings or {}).get("comparison"), dict)

    def api_comparison(self, request: Request) -> Response:
        """A comparison's incumbent curves (mean and band per method, a plotly figure from
        ``rung.compare``) and its tables; recomputed at most every 5 s."""
        name = request.path_params["name"]
        key = (name, "comparison")
        with self._cache_lock:
            cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[1] < 5.0:
            return SafeJSON(cached[2])
        try:
            from ..compare import load_comparison

            comparison = load_comparison(name, self.store)
        except ExperimentNotFound:
            return SafeJSON({"error": f"no comparison named {name!r} in {self.store.url}"}, 404)
        except ValueError as err:
            return SafeJSON({"error": str(err)}, 404)
        content = {
            "name": comparison.name, "metric": comparison.metric, "mode": comparison.mode,
            "methods": comparison.methods, "seeds": comparison.seeds,
            "figure": json.loads(comparison.figure().to_json()),
            "summary": json.loads(comparison.summary().to_json(orient="records")),
            "runs": json.loads(comparison.runs.to_json(orient="records")),
        }
        with self._cache_lock:
            self._cache[key] = (0, time.monotonic(), content)
        return SafeJSON(content)

    def _follower(self, request: Request) -> Follower | Response:
        name = request.path_params["name"]
        try:
            follower = self.hub.follow(name)
        except ExperimentNotFound:
            return SafeJSON({"error": f"no experiment named {name!r} in {self.store.url}"}, 404)
        except StorageError as err:
            return SafeJSON({"error": str(err)}, 503)
        follower.wait_ready(1.5)
        return follower

    def api_summary(self, request: Request) -> Response:
        follower = self._follower(request)
        if isinstance(follower, Response):
            return follower
        with follower.data.lock:
            content = _views.summary(follower.data)
        content["error"] = follower.error
        return SafeJSON(content)

    def api_view(self, request: Request) -> Response:
        follower = self._follower(request)
        if isinstance(follower, Response):
            return follower
        view = request.path_params["view"]
        builders: dict[str, Callable[[Any], Any]] = {
            "curves": _views.curves, "incumbent": _views.incumbent, "rungs": _views.rungs,
            "params": _views.params, "timeline": _views.timeline,
        }
        if view not in builders and view != "importance":
            return SafeJSON({"error": f"unknown view {view!r}; views: {', '.join([*builders, 'importance'])}"}, 404)
        data = follower.data
        key = (follower.name, view)
        with self._cache_lock:
            cached = self._cache.get(key)
        if cached is not None and (cached[0] == data.version or time.monotonic() - cached[1] < MIN_RECOMPUTE.get(view, 0.0)):
            content = cached[2]
        else:
            started = time.monotonic()
            with data.lock:
                version = data.version
                if view == "importance":
                    table = _views.params_frame(data)
                else:
                    content = builders[view](data)
            if view == "importance":
                content = _views.fit_importance(table, data.metric)
            content["version"] = version
            content["compute_seconds"] = time.monotonic() - started
            with self._cache_lock:
                self._cache[key] = (version, time.monotonic(), content)
        return SafeJSON(content)

    def api_trials(self, request: Request) -> Response:
        follower = self._follower(request)
        if isinstance(follower, Response):
            return follower
        try:
            query = _table.TableQuery(dict(request.query_params), follower.data.parameter_names)
        except ValueError as err:
            return SafeJSON({"error": str(err)}, 400)
        with follower.data.lock:
            content = _table.table(follower.data, query)
            content["version"] = follower.data.version
        return SafeJSON(content)

    def api_trial(self, request: Request) -> Response:
        follower = self._follower(request)
        if isinstance(follower, Response):
            return follower
        tid = request.path_params["trial"]
        with follower.data.lock:
            content = _table.detail(follower.data, tid)
        if content is None:
            return SafeJSON({"error": f"no trial {tid} in experiment {follower.name!r}"}, 404)
        return SafeJSON(content)

    def api_stop(self, request: Request) -> Response:
        name = request.path_params["name"]
        if request.headers.get("x-rung-action") != "stop":
            return SafeJSON({"error": "a stop needs the header X-Rung-Action: stop"}, 400)
        origin = request.headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
            return SafeJSON({"error": f"refused a stop from another site ({origin})"}, 403)
        try:
            record = self.store.get_experiment(name)
            if record is None:
                return SafeJSON({"error": f"no experiment named {name!r} in {self.store.url}"}, 404)
            if record.status != "running":
                return SafeJSON({"error": f"experiment {name!r} is not running (status: {record.status})"}, 409)
            self.store.request_stop(name)
        except StorageError as err:
            return SafeJSON({"error": str(err)}, 503)
        return SafeJSON({"stop_requested": True, "name": name})


def _no_cache() -> dict[str, str]:
    return {"Cache-Control": "no-cache"}
