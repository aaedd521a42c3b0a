"""/v2/messaging_profiles/{profile_id}/autoresp_configs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, StrictStr, StringConstraints
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.responses import json_response
from heliograph.api.validation import json_object, validate
from heliograph.domain.errors import InvalidFilter, NotFound
from heliograph.domain.filters import AutoRespConfigFilter, TimeRange
from heliograph.domain.ids import is_uuid
from heliograph.domain.times import parse_iso, parse_upper_bound
from heliograph.services import compliance

router = APIRouter()

Country = Annotated[StrictStr, StringConstraints(pattern=r"^([A-Z]{2}|\*)$")]


class AutoRespConfigBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    op: Literal["start", "stop", "info"]
    keywords: list[StrictStr]
    country_code: Country
    resp_text: StrictStr | None = None


def _ids(profile_id: str, config_id: str | None = None) -> None:
    if not is_uuid(profile_id) or (config_id is not None and not is_uuid(config_id)):
        raise NotFound("The messaging profile or auto-response config was not found.")


@router.get("/messaging_profiles/{profile_id}/autoresp_configs", summary="List auto-response configs")
async def list_configs(profile_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    _ids(profile_id)
    q = request.query_params
    ranges: dict[str, TimeRange] = {}
    for column in ("created_at", "updated_at"):
        bounds: dict[str, int | None] = {"gte": None, "lte": None}
        for op in ("gte", "lte"):
            name = f"{column}[{op}]"
            if q.get(name):
                try:
                    bounds[op] = parse_upper_bound(q[name]) if name.endswith("[lte]") else parse_iso(q[name])
                except ValueError:
                    raise InvalidFilter(f"{name} must be an ISO 8601 datetime.", parameter=name) from None
        ranges[column] = TimeRange(**bounds)
    wanted = AutoRespConfigFilter(
        country_code=q.get("country_code") or None, created_at=ranges["created_at"], updated_at=ranges["updated_at"]
    )
    rows = await compliance.list_configs(ctx, caller_of(request).organization_id, profile_id, wanted)
    meta = {
        "page_number": 1,
        "page_size": max(len(rows), 20),
        "total_pages": 1 if rows else 0,
        "total_results": len(rows),
    }
    return json_response({"data": [compliance.config_view(r) for r in rows], "meta": meta})


@router.post("/messaging_profiles/{profile_id}/autoresp_configs", summary="Create an auto-response config")
async def create_config(profile_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    _ids(profile_id)
    body = validate(AutoRespConfigBody, await json_object(request))
    row = await compliance.create_config(ctx, caller_of(request).organization_id, profile_id, body.model_dump())
    return json_response({"data": compliance.config_view(row)})


@router.get(
    "/messaging_profiles/{profile_id}/autoresp_configs/{config_id}",
    summary="Retrieve an auto-response config",
)
async def retrieve_config(profile_id: str, config_id: str, request: Request) -> Response:
    _ids(profile_id, config_id)
    row = await compliance.get_config(
        request.app.state.heliograph.ctx, caller_of(request).organization_id, profile_id, config_id
    )
    return json_response({"data": compliance.config_view(row)})


@router.put("/messaging_profiles/{profile_id}/autoresp_configs/{config_id}", summary="Replace an auto-response config")
async def replace_config(profile_id: str, config_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    _ids(profile_id, config_id)
    body = validate(AutoRespConfigBody, await json_object(request))
    row = await compliance.replace_config(
        ctx, caller_of(request).organization_id, profile_id, config_id, body.model_dump()
    )
    return json_response({"data": compliance.config_view(row)})


@router.delete(
    "/messaging_profiles/{profile_id}/autoresp_configs/{config_id}", summary="Delete an auto-response config"
)
async def delete_config(profile_id: str, config_id: str, request: Request) -> Response:
    _ids(profile_id, config_id)
    await compliance.delete_config(
        request.app.state.heliograph.ctx, caller_of(request).organization_id, profile_id, config_id
    )
    return json_response("OK")
