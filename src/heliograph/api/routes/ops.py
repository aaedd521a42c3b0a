"""Operational routes: liveness, readiness and Prometheus metrics (docs/operations.md)."""

from __future__ import annotations

import hmac
import ipaddress
import os

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.responses import json_response
from heliograph.domain.errors import AuthenticationFailed, NotFound
from heliograph.services import readiness, telemetry
from heliograph.settings import Settings

router = APIRouter()


@router.get("/healthz", summary="Liveness: answers once the server accepts requests")
async def healthz(request: Request) -> Response:
    # the pid tells apart the API processes of `serve --processes N` (they share the port)
    return json_response({"status": "ok", "pid": os.getpid()})


@router.get("/readyz", summary="Readiness: database reachable, schema current, a worker reporting")
async def readyz(request: Request) -> Response:
    result = await readiness.check(request.app.state.heliograph.ctx)
    if result.ready:
        return json_response({"status": "ready"})
    return json_response({"status": "not_ready", "reason": result.reason}, status=503)


@router.get("/metrics", summary="Prometheus metrics (text exposition format)", include_in_schema=False)
async def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    hg = request.app.state.heliograph
    if not telemetry.enabled():
        raise NotFound("Metrics are disabled on this server (HELIOGRAPH_METRICS_ENABLED=false).")
    _check_access(hg.settings, request.headers.get("authorization"))
    return Response(await telemetry.exposition(hg.ctx), media_type=CONTENT_TYPE_LATEST)


def _check_access(settings: Settings, authorization: str | None) -> None:
    """Open on a sandbox bound to loopback (the developer's machine); anywhere else the metrics token."""
    if settings.mode == "sandbox" and _is_loopback(settings.host):
        return
    if not settings.metrics_token:
        raise AuthenticationFailed("/metrics needs a token here: set HELIOGRAPH_METRICS_TOKEN and send it as Bearer.")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.metrics_token.encode()):
        raise AuthenticationFailed("/metrics needs 'Authorization: Bearer <HELIOGRAPH_METRICS_TOKEN>'.")


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; 0.0.0.0 (every interface) is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
