"""/v2/messages*: send, retrieve.

The send endpoints are listed once, in `SEND_ROUTES`: FastAPI's routes below and the fast path's
table (api/fastpath.py) are both built from it, and both run `send_to` behind the same gates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.responses import json_response, raw_json_response
from heliograph.api.schemas.whatsapp import WhatsappRequest
from heliograph.api.validation import camel_case_hints, json_object, validate, warn
from heliograph.domain.errors import MessageNotFound, MissingParameter
from heliograph.domain.ids import is_uuid
from heliograph.services import idempotency, messages_query, sending, whatsapp
from heliograph.services.committer import DuplicateIdempotencyKey
from heliograph.services.idempotency import IdempotencyRecord

router = APIRouter()


@dataclass(frozen=True)
class SendRoute:
    endpoint: sending.Endpoint
    summary: str
    name: str  # the route's name, from which FastAPI derives the OpenAPI operationId


# Every send endpoint, in the order the OpenAPI document lists them. Add one here, never as a route of
# its own: the fast path serves exactly these paths (api/fastpath.py).
SEND_ROUTES = (
    SendRoute(sending.SEND, "Send a message", "send_message"),
    SendRoute(sending.LONG_CODE, "Send a message from a long code", "send_long_code"),
    SendRoute(sending.SHORT_CODE, "Send a message from a short code", "send_short_code"),
    SendRoute(sending.NUMBER_POOL, "Send a message from the profile's number pool", "send_number_pool"),
    SendRoute(sending.ALPHANUMERIC, "Send a message from an alphanumeric sender ID", "send_with_alphanumeric_sender"),
    SendRoute(sending.GROUP_MMS, "Send a group MMS", "send_group_mms"),
    SendRoute(sending.WHATSAPP, "Send a WhatsApp message", "send_whatsapp"),
    SendRoute(sending.SCHEDULE, "Schedule a message", "schedule_message"),
)


async def send_to(request: Request, endpoint: sending.Endpoint) -> Response:
    """One send request to `endpoint` (also called by api/fastpath.py, past FastAPI's router)."""
    hg = request.app.state.heliograph
    caller = caller_of(request)
    body = await json_object(request)
    headers = warn(request, camel_case_hints(body, sending.KNOWN_FIELDS))
    perform: Callable[[IdempotencyRecord | None], Awaitable[dict]]
    if endpoint.kind == "whatsapp":
        content = _whatsapp_content(body)
        send_request = whatsapp.request_of(body)

        async def perform(idem: IdempotencyRecord | None) -> dict:
            return await whatsapp.accept(hg.ctx, caller, send_request, content, idem)
    else:

        async def perform(idem: IdempotencyRecord | None) -> dict:
            # parsed here, after the Idempotency-Key's checks: a replay answers before the body's refusals
            return await sending.accept(hg.ctx, caller, sending.parse(body, endpoint), idem)

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
            raise MissingParameter(f"The '{name}' parameter is required.", pointer=f"/{name}")
    request = validate(WhatsappRequest, body)
    return request.whatsapp_message.model_dump(exclude_none=True)


def _send_route(endpoint: sending.Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def route(request: Request) -> Response:
        return await send_to(request, endpoint)

    return route


def _add_send_routes(routes: Iterable[SendRoute]) -> None:
    for route in routes:
        router.add_api_route(
            route.endpoint.path, _send_route(route.endpoint), methods=["POST"], summary=route.summary, name=route.name
        )


_add_send_routes(r for r in SEND_ROUTES if r.endpoint is not sending.SCHEDULE)


@router.get("/messages/group/{message_id}", summary="Retrieve the messages of a group MMS")
async def retrieve_group_messages(message_id: str, request: Request) -> Response:
    hg = request.app.state.heliograph
    if not is_uuid(message_id):
        raise MessageNotFound(f"The message with ID {message_id} was not found.")
    data = await messages_query.group(hg.ctx, caller_of(request).organization_id, message_id)
    return json_response({"data": data})


# /messages/schedule follows the group retrieval in the published OpenAPI document: its order is kept
_add_send_routes(r for r in SEND_ROUTES if r.endpoint is sending.SCHEDULE)


@router.get("/messages/{message_id}", summary="Retrieve a message")
async def retrieve_message(message_id: str, request: Request) -> Response:
    hg = request.app.state.heliograph
    caller = caller_of(request)
    if not is_uuid(message_id):
        raise MessageNotFound(f"The message with ID {message_id} was not found.")
    wire = await messages_query.retrieve(hg.ctx, caller.organization_id, message_id)
    return json_response({"data": wire})


@router.delete("/messages/{message_id}", summary="Cancel a scheduled message")
async def cancel_scheduled(message_id: str, request: Request) -> Response:
    hg = request.app.state.heliograph
    caller = caller_of(request)
    if not is_uuid(message_id):
        raise MessageNotFound(f"The message with ID {message_id} was not found.")
    wire = await messages_query.cancel(hg.ctx, caller.organization_id, message_id)
    return json_response(wire)  # Telnyx answers this one without the data wrapper
