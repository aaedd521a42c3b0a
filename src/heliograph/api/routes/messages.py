"""/v2/messages*: send, retrieve."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.responses import json_response, raw_json_response
from heliograph.api.schemas.whatsapp import WhatsappRequest
from heliograph.api.validation import camel_case_hints, json_object, validate, warn
from heliograph.domain.errors import NotFound, ValidationFailed
from heliograph.domain.ids import is_uuid
from heliograph.services import idempotency, messages_query, sending, whatsapp
from heliograph.services.committer import DuplicateIdempotencyKey
from heliograph.services.sending import IdempotencyRecord

router = APIRouter()


async def send_to(request: Request, endpoint: sending.Endpoint) -> Response:
    """One send request to `endpoint` (also called by api/fastpath.py, past FastAPI's router)."""
    hg = request.app.state.heliograph
    caller = caller_of(request)
    body = await json_object(request)
    headers = warn(request, camel_case_hints(body, sending.KNOWN_FIELDS))
    if endpoint.kind == "whatsapp":
        content = _whatsapp_content(body)

        async def perform(idem: IdempotencyRecord | None) -> dict:
            return await whatsapp.send(hg.ctx, caller, body, content, idem)
    else:

        async def perform(idem: IdempotencyRecord | None) -> dict:
            return await sending.send(hg.ctx, caller, body, endpoint, idem)

    key = request.headers.get("idempotency-key")
    if key is None:
        return json_response({"data": await perform(None)}, headers=headers)
    record = idempotency.record_for(
        hg.ctx, caller.organization_id, "POST", endpoint.path, key, await request.body(), request.url.query
    )
    replay = await idempotency.find_replay(hg.ctx, record)
    if replay is not None:
        return raw_json_response(replay.body, replay.status, headers={**headers, "idempotent-replayed": "true"})
    in_flight: idempotency.InFlight = request.app.state.idempotency_in_flight
    in_flight.claim(record)
    try:
        wire = await perform(record)
    except DuplicateIdempotencyKey:
        replay = await idempotency.find_replay(hg.ctx, record)
        if replay is None:
            raise
        return raw_json_response(replay.body, replay.status, headers={**headers, "idempotent-replayed": "true"})
    finally:
        in_flight.release(record)
    return json_response({"data": wire}, headers=headers)


def _whatsapp_content(body: dict) -> dict:
    for name in ("to", "from", "whatsapp_message"):
        if body.get(name) is None:
            raise ValidationFailed(f"The '{name}' parameter is required.", code="10004", pointer=f"/{name}")
    request = validate(WhatsappRequest, body)
    return request.whatsapp_message.model_dump(exclude_none=True)


@router.post("/messages", summary="Send a message")
async def send_message(request: Request) -> Response:
    return await send_to(request, sending.SEND)


@router.post("/messages/long_code", summary="Send a message from a long code")
async def send_long_code(request: Request) -> Response:
    return await send_to(request, sending.LONG_CODE)


@router.post("/messages/short_code", summary="Send a message from a short code")
async def send_short_code(request: Request) -> Response:
    return await send_to(request, sending.SHORT_CODE)


@router.post("/messages/number_pool", summary="Send a message from the profile's number pool")
async def send_number_pool(request: Request) -> Response:
    return await send_to(request, sending.NUMBER_POOL)


@router.post("/messages/alphanumeric_sender_id", summary="Send a message from an alphanumeric sender ID")
async def send_with_alphanumeric_sender(request: Request) -> Response:
    return await send_to(request, sending.ALPHANUMERIC)


@router.post("/messages/group_mms", summary="Send a group MMS")
async def send_group_mms(request: Request) -> Response:
    return await send_to(request, sending.GROUP_MMS)


@router.post("/messages/whatsapp", summary="Send a WhatsApp message")
async def send_whatsapp(request: Request) -> Response:
    return await send_to(request, sending.WHATSAPP)


@router.get("/messages/group/{message_id}", summary="Retrieve the messages of a group MMS")
async def retrieve_group_messages(message_id: str, request: Request) -> Response:
    hg = request.app.state.heliograph
    if not is_uuid(message_id):
        raise NotFound(f"The message with ID {message_id} was not found.", code="40303")
    data = await messages_query.group(hg.ctx, caller_of(request).organization_id, message_id)
    return json_response({"data": data})


@router.post("/messages/schedule", summary="Schedule a message")
async def schedule_message(request: Request) -> Response:
    return await send_to(request, sending.SCHEDULE)


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
