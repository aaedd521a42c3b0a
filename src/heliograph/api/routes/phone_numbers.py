"""/v2/phone_numbers/messaging and /v2/phone_numbers/{id}/messaging."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, StrictStr
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.pagination import page_of
from heliograph.api.responses import json_response
from heliograph.api.validation import json_object, validate
from heliograph.domain.errors import InvalidEnumValue, InvalidSort
from heliograph.services import numbers

router = APIRouter()

_TYPES = {"longcode", "tollfree", "shortcode", "long-code", "toll-free", "short-code"}


class NumberUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    messaging_profile_id: StrictStr | None = None
    messaging_product: StrictStr | None = None
    tags: Annotated[list[StrictStr], ...] | None = None


async def list_numbers_page(request: Request, *, hosted: bool | None) -> Response:
    """The number listing shared by /phone_numbers/messaging and /messaging_hosted_numbers."""
    ctx = request.app.state.heliograph.ctx
    page = page_of(request)
    q = request.query_params
    number_type = q.get("filter[type]")
    if number_type is not None and number_type not in _TYPES:
        raise InvalidEnumValue(
            "filter[type] must be one of tollfree, longcode, shortcode.",
            parameter="filter[type]",
        )
    aliases: dict[str | None, str | None] = {
        "long-code": "longcode",
        "toll-free": "tollfree",
        "short-code": "shortcode",
    }
    number_type = aliases.get(number_type, number_type)
    sort = q.get("sort[phone_number]")
    if sort is not None and sort not in ("asc", "desc"):
        raise InvalidSort("sort[phone_number] must be asc or desc.", parameter="sort[phone_number]")
    exact = q.get("filter[phone_number]") or q.get("filter[phone_number][eq]")
    rows, total = await numbers.list_numbers(
        ctx,
        caller_of(request).organization_id,
        profile_id=q.get("filter[messaging_profile_id]"),
        phone_numbers_in=[p.strip() for p in exact.split(",")] if exact else None,
        contains=q.get("filter[phone_number][contains]"),
        number_type=number_type,
        hosted=hosted,
        sort_desc=None if sort is None else sort == "desc",
        offset=page.offset,
        limit=page.size,
    )
    return json_response(page.body(await numbers.views_with_health(ctx, rows), total))


@router.get("/phone_numbers/messaging", summary="List phone numbers with messaging settings")
async def list_numbers(request: Request) -> Response:
    return await list_numbers_page(request, hosted=None)


@router.get("/phone_numbers/{number_id}/messaging", summary="Retrieve a phone number's messaging settings")
async def retrieve_number(number_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    row = await numbers.get_number(ctx, caller_of(request).organization_id, number_id)
    return json_response({"data": (await numbers.views_with_health(ctx, [row]))[0]})


@router.patch("/phone_numbers/{number_id}/messaging", summary="Update a phone number's messaging settings")
async def update_number(number_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    body = validate(NumberUpdate, await json_object(request))
    row = await numbers.update_number(
        ctx, caller_of(request).organization_id, number_id, body.model_dump(exclude_unset=True)
    )
    return json_response({"data": (await numbers.views_with_health(ctx, [row]))[0]})
