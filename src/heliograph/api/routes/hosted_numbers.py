"""/v2/messaging_hosted_numbers: numbers whose messaging is hosted here (voice elsewhere)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.responses import json_response
from heliograph.api.routes.phone_numbers import NumberUpdate, list_numbers_page
from heliograph.api.validation import json_object, validate
from heliograph.services import numbers, views

router = APIRouter()


@router.get("/messaging_hosted_numbers", summary="List messaging hosted numbers")
async def list_hosted(request: Request) -> Response:
    return await list_numbers_page(request, hosted=True)


@router.get("/messaging_hosted_numbers/{number_id}", summary="Retrieve a messaging hosted number")
async def retrieve_hosted(number_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    row = await numbers.get_number(ctx, caller_of(request).organization_id, number_id, hosted=True)
    return json_response({"data": (await numbers.views_with_health(ctx, [row]))[0]})


@router.patch("/messaging_hosted_numbers/{number_id}", summary="Update a messaging hosted number")
async def update_hosted(number_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    body = validate(NumberUpdate, await json_object(request))
    org_id = caller_of(request).organization_id
    await numbers.get_number(ctx, org_id, number_id, hosted=True)
    row = await numbers.update_number(ctx, org_id, number_id, body.model_dump(exclude_unset=True))
    return json_response({"data": (await numbers.views_with_health(ctx, [row]))[0]})


@router.delete("/messaging_hosted_numbers/{number_id}", summary="Delete a messaging hosted number")
async def delete_hosted(number_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    row = await numbers.delete_hosted(ctx, caller_of(request).organization_id, number_id)
    return json_response({"data": views.hosted_number_deletion(row)})
