"""/v2/short_codes."""

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
from heliograph.services import numbers, views

router = APIRouter()


class ShortCodeUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    messaging_profile_id: StrictStr | None
    tags: list[StrictStr] | None = None


@router.get("/short_codes", summary="List short codes")
async def list_short_codes(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    page = page_of(request)
    profile_filter = request.query_params.get("filter[messaging_profile_id]")
    rows, total = await numbers.list_short_codes(
        ctx,
        caller_of(request).organization_id,
        profile_id=profile_filter,
        unassigned=profile_filter == "null",
        offset=page.offset,
        limit=page.size,
    )
    return json_response(page.body([views.short_code(r) for r in rows], total))


@router.get("/short_codes/{short_code_id}", summary="Retrieve a short code")
async def retrieve_short_code(short_code_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    if not is_uuid(short_code_id):
        raise NotFound(f"Short code {short_code_id} was not found.")
    row = await numbers.get_short_code(ctx, caller_of(request).organization_id, short_code_id)
    return json_response({"data": views.short_code(row)})


@router.patch("/short_codes/{short_code_id}", summary="Update a short code")
async def update_short_code(short_code_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    if not is_uuid(short_code_id):
        raise NotFound(f"Short code {short_code_id} was not found.")
    body = validate(ShortCodeUpdate, await json_object(request))
    row = await numbers.update_short_code(
        ctx, caller_of(request).organization_id, short_code_id, body.model_dump(exclude_unset=True)
    )
    return json_response({"data": views.short_code(row)})
