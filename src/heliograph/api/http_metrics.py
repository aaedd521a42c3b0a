"""HTTP request counts and durations for /metrics, labelled by route template (never the raw path, so the
number of series stays bounded whatever URLs clients try).

Plain ASGI around everything, the send fast path included; it costs a clock read and two pre-bound
increments per request (services/telemetry.py HttpRecorder).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heliograph.services.telemetry import HttpRecorder

UNMATCHED = "unmatched"


def templates(routers: Iterable[tuple[str, Any, str]]) -> dict[int, str]:
    """Each route object's full template, prefix included (FastAPI hands the handler the router's own route,
    whose path lacks the prefix it was included under)."""
    return {id(route): prefix + route.path for prefix, router, _ in routers for route in router.routes}


class HttpMetrics:
    def __init__(self, app: ASGIApp, fixed_routes: frozenset[str], route_templates: dict[int, str]) -> None:
        self._inner = app
        self._fixed = fixed_routes  # paths that are their own template (the send endpoints skip the router)
        self._templates = route_templates
        self._recorder = HttpRecorder()

    def __getattr__(self, name: str) -> Any:  # .state and .app of the wrapped app, for whoever reads them
        return getattr(self._inner, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._inner(scope, receive, send_status)
        finally:
            self._recorder.observe(scope["method"], self._route(scope), status, time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        path = scope["path"]
        if path in self._fixed:
            return path
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        return self._templates.get(id(route)) or getattr(route, "path", None) or UNMATCHED
