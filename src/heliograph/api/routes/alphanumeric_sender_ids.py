"""/v2/alphanumeric_sender_ids and /v2/messaging_profiles/{id}/alphanumeric_sender_ids."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, StrictStr
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.pagination import page_of
from heliograph.api.responses import json_response
from heliograph.api.validation import json_object, validate
from heliograph.domain.errors import NotFound
from heliograph.domain.ids import is_uuid
from heliograph.services import alphanumeric, profiles

router = APIRouter()


class AlphanumericCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    alphanumeric_sender_id: StrictStr
    messaging_profile_id: StrictStr
    us_long_code_fallback: StrictStr | None = None


def _check_id(sender_id: str) -> None:
    if not is_uuid(sender_id):
        raise NotFound(f"Alphanumeric sender ID {sender_id} was not found.")


@router.get("/alphanumeric_sender_ids", summary="List alphanumeric sender IDs")
async def list_senders(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    page = page_of(request)
    rows, total = await alphanumeric.list_all(
        ctx,
        caller_of(request).organization_id,
        profile_id=request.query_params.get("filter[messaging_profile_id]"),
        offset=page.offset,
        limit=page.size,
    )
    return json_response(page.body([alphanumeric.view(r) for r in rows], total))


@router.post("/alphanumeric_sender_ids", summary="Create an alphanumeric sender ID")
async def create_sender(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    model = validate(AlphanumericCreate, await json_object(request))
    row = await alphanumeric.create(ctx, caller_of(request).organization_id, model.model_dump())
    return json_response({"data": alphanumeric.view(row)})


@router.get("/alphanumeric_sender_ids/{sender_id}", summary="Retrieve an alphanumeric sender ID")
async def retrieve_sender(sender_id: str, request: Request) -> Response:
    _check_id(sender_id)
    row = await alphanumeric.get(request.app.state.heliograph.ctx, caller_of(request).organization_id, sender_id)
    return json_response({"data": alphanumeric.view(row)})


@router.delete("/alphanumeric_sender_ids/{sender_id}", summary="Delete an alphanumeric sender ID")
async def delete_sender(sender_id: str, request: Request) -> Response:
    _check_id(sender_id)
    row = await alphanumeric.delete(request.app.state.heliograph.ctx, caller_of(request).organization_id, sender_id)
    return json_response({"data": alphanumeric.view(row)})


@router.get(
    "/messaging_profiles/{profile_id}/alphanumeric_sender_ids",
    summary="List a profile's alphanumeric sender IDs",
)
async def profile_senders(profile_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    caller = caller_of(request)
    await profiles.get_profile(ctx, caller.organization_id, profile_id)
    page = page_of(request)
    rows, total = await alphanumeric.list_all(
        ctx, caller.organization_id, profile_id=profile_id, offset=page.offset, limit=page.size
    )
    return json_response(page.body([alphanumeric.view(r) for r in rows], total))
