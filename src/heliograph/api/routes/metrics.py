"""/v2/messaging_profile_metrics and /v2/messaging_profiles/{id}/metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.pagination import page_of
from heliograph.api.responses import json_response
from heliograph.domain.errors import InvalidEnumValue, NotFound
from heliograph.domain.ids import is_uuid
from heliograph.services import metrics

router = APIRouter()


def _time_frame(request: Request) -> str:
    value = request.query_params.get("time_frame", "24h")
    if value not in metrics.TIME_FRAMES:
        raise InvalidEnumValue(
            f"time_frame must be one of {', '.join(metrics.TIME_FRAMES)}.",
            parameter="time_frame",
        )
    return value


@router.get("/messaging_profile_metrics", summary="Metrics of every messaging profile")
async def list_metrics(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    time_frame = _time_frame(request)
    page = page_of(request)
    data, total = await metrics.high_level(
        ctx,
        caller_of(request).organization_id,
        time_frame,
        request.query_params.get("id"),
        page.offset,
        page.size,
    )
    return json_response(page.body(data, total))


@router.get("/messaging_profiles/{profile_id}/metrics", summary="Detailed metrics of one messaging profile")
async def profile_metrics(profile_id: str, request: Request) -> Response:
    if not is_uuid(profile_id):
        raise NotFound(f"Messaging profile {profile_id} was not found.")
    time_frame = _time_frame(request)
    data = await metrics.detailed(
        request.app.state.heliograph.ctx, caller_of(request).organization_id, profile_id, time_frame
    )
    return json_response({"data": data})
