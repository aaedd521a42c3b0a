"""/v2/messaging_profiles: CRUD and the profile's phone numbers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.pagination import page_of
from heliograph.api.responses import json_response
from heliograph.api.schemas.profiles import ProfileCreate, ProfileUpdate, values
from heliograph.api.validation import json_object, validate_with_hints
from heliograph.services import numbers, profiles, views

router = APIRouter()


@router.get("/messaging_profiles", summary="List messaging profiles")
async def list_profiles(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    caller = caller_of(request)
    page = page_of(request)
    q = request.query_params
    name_eq = q.get("filter[name][eq]") or q.get("filter[name]")
    rows, total = await profiles.list_profiles(
        ctx,
        caller.organization_id,
        name_eq=name_eq,
        name_contains=q.get("filter[name][contains]"),
        offset=page.offset,
        limit=page.size,
    )
    return json_response(page.body([views.profile(r) for r in rows], total))


@router.post("/messaging_profiles", summary="Create a messaging profile")
async def create_profile(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    caller = caller_of(request)
    model, headers = validate_with_hints(request, ProfileCreate, await json_object(request))
    row = await profiles.create_profile(ctx, caller.organization_id, values(model))
    return json_response({"data": views.profile(row)}, headers=headers)


@router.get("/messaging_profiles/{profile_id}", summary="Retrieve a messaging profile")
async def retrieve_profile(profile_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    row = await profiles.get_profile(ctx, caller_of(request).organization_id, profile_id)
    return json_response({"data": views.profile(row)})


@router.patch("/messaging_profiles/{profile_id}", summary="Update a messaging profile")
async def update_profile(profile_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    caller = caller_of(request)
    model, headers = validate_with_hints(request, ProfileUpdate, await json_object(request))
    row = await profiles.update_profile(ctx, caller.organization_id, profile_id, values(model))
    return json_response({"data": views.profile(row)}, headers=headers)


@router.delete("/messaging_profiles/{profile_id}", summary="Delete a messaging profile")
async def delete_profile(profile_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    row = await profiles.delete_profile(ctx, caller_of(request).organization_id, profile_id)
    return json_response({"data": views.profile(row)})


@router.get("/messaging_profiles/{profile_id}/phone_numbers", summary="List a profile's phone numbers")
async def profile_phone_numbers(profile_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    page = page_of(request)
    rows, total = await profiles.profile_numbers(
        ctx, caller_of(request).organization_id, profile_id, page.offset, page.size
    )
    return json_response(page.body(await numbers.views_with_health(ctx, rows), total))


@router.get("/messaging_profiles/{profile_id}/short_codes", summary="List a profile's short codes")
async def profile_short_codes(profile_id: str, request: Request) -> Response:
    from heliograph.services import numbers

    ctx = request.app.state.heliograph.ctx
    caller = caller_of(request)
    await profiles.get_profile(ctx, caller.organization_id, profile_id)
    page = page_of(request)
    rows, total = await numbers.list_short_codes(
        ctx,
        caller.organization_id,
        profile_id=profile_id,
        unassigned=False,
        offset=page.offset,
        limit=page.size,
    )
    return json_response(page.body([views.short_code(r) for r in rows], total))


@router.post("/messaging_profiles/{profile_id}/actions/regenerate_secret", summary="Regenerate the profile's v1 secret")
async def regenerate_secret(profile_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    row = await profiles.regenerate_secret(ctx, caller_of(request).organization_id, profile_id)
    return json_response({"data": views.profile(row)})
