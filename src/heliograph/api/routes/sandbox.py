"""/sandbox/v1: what virtual handsets received. Not part of the Telnyx API, hence outside /v2."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.responses import json_response
from heliograph.api.validation import json_object, validate
from heliograph.domain import phone
from heliograph.domain.errors import NotE164
from heliograph.services import handsets, inbound, views

router = APIRouter()


def _handset(e164: str) -> str:
    if not (phone.is_e164(e164) or phone.is_short_code(e164)):
        raise NotE164(f"{e164!r} is not an E.164 number.", parameter="e164")
    return e164


@router.get("/handsets/{e164}/messages", summary="What a virtual handset received, newest first")
async def handset_messages(e164: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    data = await handsets.inbox(ctx, caller_of(request).organization_id, _handset(e164))
    return json_response({"data": data})


@router.delete("/handsets/{e164}/messages", summary="Empty a virtual handset")
async def clear_handset(e164: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    removed = await handsets.clear(ctx, caller_of(request).organization_id, _handset(e164))
    return json_response({"data": {"deleted": removed}})


class InboundBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: StrictStr = Field(alias="from")
    to: StrictStr
    text: StrictStr | None = None
    media_urls: list[StrictStr] = Field(default_factory=list)


@router.post("/inbound", summary="A virtual handset writes to one of your numbers")
async def post_inbound(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    body = validate(InboundBody, await json_object(request))
    row = await inbound.receive(
        ctx,
        caller_of(request).organization_id,
        sender=body.from_,
        to=body.to,
        text=body.text,
        media_urls=body.media_urls,
    )
    return json_response({"data": views.message(row)})
