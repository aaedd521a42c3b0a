"""/v2/messaging_optouts and /v2/messaging_url_domains."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.pagination import page_of
from heliograph.api.responses import json_response
from heliograph.domain.errors import InvalidFilter
from heliograph.domain.filters import OptOutFilter, TimeRange
from heliograph.domain.times import parse_iso, parse_upper_bound
from heliograph.services import compliance

router = APIRouter()


@router.get("/messaging_optouts", summary="List opt-outs")
async def list_optouts(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    page = page_of(request)
    q = request.query_params
    bounds: dict[str, int | None] = {"gte": None, "lte": None}
    for name, op in (("created_at[gte]", "gte"), ("created_at[lte]", "lte")):
        if q.get(name):
            try:
                bounds[op] = parse_upper_bound(q[name]) if name.endswith("[lte]") else parse_iso(q[name])
            except ValueError:
                raise InvalidFilter(f"{name} must be an ISO 8601 datetime.", parameter=name) from None
    wanted = OptOutFilter(
        messaging_profile_id=q.get("filter[messaging_profile_id]") or None,
        from_number=q.get("filter[from]") or None,
        created_at=TimeRange(**bounds),
    )
    redact = q.get("redaction_enabled", "false").lower() == "true"
    rows, total = await compliance.list_opt_outs(
        ctx, caller_of(request).organization_id, wanted, page.offset, page.size
    )
    return json_response(page.body([compliance.opt_out_view(r, redact=redact) for r in rows], total))


@router.get("/messaging_url_domains", summary="List the domains usable by the link shortener")
async def list_url_domains(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    caller_of(request)
    page = page_of(request)
    domains = compliance.url_domains(ctx)
    return json_response(page.body(domains[page.offset : page.offset + page.size], len(domains)))
