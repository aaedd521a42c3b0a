"""/heliograph/v1: Heliograph's own developer extensions, outside the Telnyx API (same API key).

The live event stream (Server-Sent Events), the log of a `listen` forward, webhook replay and the
SMS preview. Each is one call into a service the console uses too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from starlette.responses import Response, StreamingResponse

from heliograph.api.auth import caller_of
from heliograph.api.responses import json_response
from heliograph.api.validation import json_object, validate
from heliograph.domain.errors import NotFound
from heliograph.domain.ids import is_uuid
from heliograph.services import event_feed, preview, webhook_deliveries, webhook_replay

router = APIRouter()


def _sse(item: event_feed.FeedEvent | event_feed.Idle, first: bool) -> bytes:
    if isinstance(item, event_feed.FeedEvent):
        return b"id: " + item.cursor.encode() + b"\ndata: " + orjson.dumps(item.as_dict()) + b"\n\n"
    if first:
        data = orjson.dumps({"cursor": item.cursor})
        return b"id: " + item.cursor.encode() + b"\nevent: ready\ndata: " + data + b"\n\n"
    return b": keep-alive\n\n"


@router.get("/events", summary="The organization's webhook events, live, as Server-Sent Events")
async def events(request: Request) -> Response:
    """Every webhook event of the organization (with or without a webhook URL), in commit order.

    Resume with `Last-Event-ID` (or `?after=`); without either the stream starts at the newest event.
    `event_types` (comma-separated), `messaging_profile_id` filter; `forward_to` becomes the bodies'
    `meta.delivered_to`. Each event's `data` holds the exact `body` and its `telnyx-*` signing headers."""
    ctx = request.app.state.heliograph.ctx
    q = request.query_params
    after = request.headers.get("last-event-id") or q.get("after") or None
    if after is not None:
        event_feed.parse_cursor(after)
    filters = event_feed.Filters(
        event_types=[t.strip() for t in (q.get("event_types") or "").split(",") if t.strip()],
        messaging_profile_id=q.get("messaging_profile_id") or None,
        delivered_to=q.get("forward_to") or None,
    )
    org_id = caller_of(request).organization_id

    async def stream() -> AsyncIterator[bytes]:
        first = True
        async for item in event_feed.follow(ctx, org_id, after, filters=filters):
            yield _sse(item, first)
            first = False

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


class ForwardBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: StrictStr = Field(min_length=1, max_length=2000)
    http_status: StrictInt | None = None
    duration_ms: StrictFloat | StrictInt = 0
    response_body: StrictStr | None = None
    error: StrictStr | None = Field(default=None, max_length=2000)


@router.post("/events/{event_id}/forwards", summary="Log a `listen` forward as an attempt of the event")
async def record_forward(event_id: str, request: Request) -> Response:
    if not is_uuid(event_id):
        raise NotFound(f"Webhook delivery {event_id} was not found.")
    ctx = request.app.state.heliograph.ctx
    org_id = caller_of(request).organization_id
    body = validate(ForwardBody, await json_object(request))
    forward = webhook_replay.Forward(
        url=body.url,
        http_status=body.http_status,
        duration_ms=float(body.duration_ms),
        response_body=body.response_body,
        error=body.error,
    )
    await webhook_replay.record_forward(ctx, org_id, event_id, forward)
    return json_response({"data": await webhook_deliveries.get_delivery(ctx, org_id, event_id)}, status=201)


@router.post("/webhook_deliveries/{delivery_id}/replay", summary="Send a webhook again now, freshly signed")
async def replay(delivery_id: str, request: Request) -> Response:
    if not is_uuid(delivery_id):
        raise NotFound(f"Webhook delivery {delivery_id} was not found.")
    ctx = request.app.state.heliograph.ctx
    org_id = caller_of(request).organization_id
    attempt = await webhook_replay.replay(ctx, org_id, delivery_id)
    delivery = await webhook_deliveries.get_delivery(ctx, org_id, delivery_id)
    return json_response({"data": {**delivery, "replay": {"attempt": attempt["attempt"]}}})


class PreviewBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: StrictStr
    encoding: StrictStr = "auto"
    smart_encoding: StrictBool = False


@router.post("/preview", summary="What POST /v2/messages would do with an SMS text, without sending it")
async def preview_text(request: Request) -> Response:
    body = validate(PreviewBody, await json_object(request))
    data = preview.preview(
        request.app.state.heliograph.ctx, body.text, encoding=body.encoding, smart_encoding=body.smart_encoding
    )
    return json_response({"data": data})
