"""Operational routes: health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.responses import json_response

router = APIRouter()


@router.get("/healthz", summary="Liveness: answers once the server accepts requests")
async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})
