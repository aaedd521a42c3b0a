"""/carriers/v1: what carrier links post back to us. Authenticated by the upstream's signature, not an
API key; outside /v2 because it is not part of the Telnyx API."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.responses import json_response
from heliograph.api.validation import refuse_unstorable_json
from heliograph.services import upstream_webhooks

logger = logging.getLogger(__name__)

router = APIRouter()


@router.post(
    "/{connector}/webhooks",
    summary="Webhooks from a Telnyx-compatible upstream (a `telnyx` connector), Ed25519-verified",
)
async def upstream_webhook(connector: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    body = await request.body()
    refuse_unstorable_json(body)
    event_type = await upstream_webhooks.receive(
        ctx,
        connector,
        body,
        request.headers.get("telnyx-signature-ed25519"),
        request.headers.get("telnyx-timestamp"),
    )
    return json_response({"data": {"received": event_type}})
