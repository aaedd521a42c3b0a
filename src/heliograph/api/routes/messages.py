"""/v2/messages*: send, retrieve."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.responses import json_response, raw_json_response
from heliograph.api.validation import camel_case_hints, json_object, warn
from heliograph.domain.errors import NotFound
from heliograph.domain.ids import is_uuid
from heliograph.services import idempotency, messages_query, sending
from heliograph.services.committer import DuplicateIdempotencyKey

router = APIRouter()


async def _send(request: Request, endpoint: sending.Endpoint) -> Response:
    hg = request.app.state.heliograph
    caller = caller_of(request)
    body = await json_object(request)
    headers = warn(request, camel_case_hints(body, sending.FIELD_TYPES))
    key = request.headers.get("idempotency-key")
    if key is None:
        wire = await sending.send(hg.ctx, caller, body, endpoint)
        return json_response({"data": wire}, headers=headers)
    record = idempotency.record_for(
        hg.ctx, caller.organization_id, "POST", endpoint.path, key, await request.body(), request.url.query
    )
    replay = await idempotency.find_replay(hg.ctx, record)
    if replay is not None:
        return raw_json_response(replay.body, replay.status, headers={**headers, "idempotent-replayed": "true"})
    in_flight: idempotency.InFlight = request.app.state.idempotency_in_flight
    in_flight.claim(record)
    try:
        wire = await sending.send(hg.ctx, caller, body, endpoint, idempotency=record)
    except DuplicateIdempotencyKey:
        replay = await idempotency.find_replay(hg.ctx, record)
        if replay is None:
            raise
        return raw_json_response(replay.body, replay.status, headers={**headers, "idempotent-replayed": "true"})
    finally:
        in_flight.release(record)
    return json_response({"data": wire}, headers=headers)


@router.post("/messages", summary="Send a message")
async def send_message(request: Request) -> Response:
    return await _send(request, sending.SEND)


@router.post("/messages/long_code", summary="Send a message from a long code")
async def send_long_code(request: Request) -> Response:
    return await _send(request, sending.LONG_CODE)


@router.post("/messages/short_code", summary="Send a message from a short code")
async def send_short_code(request: Request) -> Response:
    return await _send(request, sending.SHORT_CODE)


@router.post("/messages/schedule", summary="Schedule a message")
async def schedule_message(request: Request) -> Response:
    return await _send(request, sending.SCHEDULE)


@router.get("/messages/{message_id}", summary="Retrieve a message")
async def retrieve_message(message_id: str, request: Request) -> Response:
    hg = request.app.state.heliograph
    caller = caller_of(request)
    if not is_uuid(message_id):
        raise NotFound(f"The message with ID {message_id} was not found.", code="40303")
    wire = await messages_query.retrieve(hg.ctx, caller.organization_id, message_id)
    return json_response({"data": wire})


@router.delete("/messages/{message_id}", summary="Cancel a scheduled message")
async def cancel_scheduled(message_id: str, request: Request) -> Response:
    hg = request.app.state.heliograph
    caller = caller_of(request)
    if not is_uuid(message_id):
        raise NotFound(f"The message with ID {message_id} was not found.", code="40303")
    wire = await messages_query.cancel(hg.ctx, caller.organization_id, message_id)
    return json_response(wire)  # Telnyx answers this one without the data wrapper
