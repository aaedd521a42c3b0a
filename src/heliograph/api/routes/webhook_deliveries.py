"""/v2/webhook_deliveries: what happened to each webhook, attempt by attempt."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import exists, or_, select
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.pagination import page_of
from heliograph.api.responses import json_response
from heliograph.domain.errors import NotFound, ValidationFailed
from heliograph.domain.ids import is_uuid
from heliograph.domain.times import parse_iso, parse_upper_bound
from heliograph.services import webhook_deliveries
from heliograph.store.tables import webhook_attempts, webhook_events

router = APIRouter()


def _time(q, name: str) -> int | None:  # noqa: ANN001
    raw = q.get(name)
    if not raw:
        return None
    try:
        return parse_upper_bound(raw) if name.endswith("[lte]") else parse_iso(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be an ISO 8601 datetime.", code="10031", parameter=name) from None


def _filters(request: Request) -> list:
    q = request.query_params
    e = webhook_events.c
    filters = []
    status = q.get("filter[status][eq]")
    if status is not None:
        if status not in ("delivered", "failed"):
            raise ValidationFailed(
                "filter[status][eq] must be delivered or failed.",
                code="10031",
                parameter="filter[status][eq]",
            )
        filters.append(e.status == "delivered" if status == "delivered" else e.status != "delivered")
    if q.get("filter[event_type]"):
        filters.append(e.event_type.in_([t.strip() for t in q["filter[event_type]"].split(",") if t.strip()]))
    if q.get("filter[webhook][contains]"):
        filters.append(e.data_json.contains(q["filter[webhook][contains]"], autoescape=True))
    if q.get("filter[attempts][contains]"):
        needle = q["filter[attempts][contains]"]
        a = webhook_attempts.c
        filters.append(
            exists(
                select(a.id).where(
                    a.event_id == e.id,
                    or_(
                        a.url.contains(needle, autoescape=True),
                        a.response_body.contains(needle, autoescape=True),
                    ),
                )
            )
        )
    for column, name in ((e.first_attempt_at, "started_at"), (e.finished_at, "finished_at")):
        gte, lte = _time(q, f"filter[{name}][gte]"), _time(q, f"filter[{name}][lte]")
        if gte is not None:
            filters.append(column >= gte)
        if lte is not None:
            filters.append(column <= lte)
    return filters


@router.get("/webhook_deliveries", summary="List webhook deliveries")
async def list_deliveries(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    page = page_of(request)
    data, total = await webhook_deliveries.list_deliveries(
        ctx, caller_of(request).organization_id, _filters(request), page.offset, page.size
    )
    return json_response(page.body(data, total))


@router.get("/webhook_deliveries/{delivery_id}", summary="Retrieve a webhook delivery")
async def retrieve_delivery(delivery_id: str, request: Request) -> Response:
    if not is_uuid(delivery_id):
        raise NotFound(f"Webhook delivery {delivery_id} was not found.")
    data = await webhook_deliveries.get_delivery(
        request.app.state.heliograph.ctx, caller_of(request).organization_id, delivery_id
    )
    return json_response({"data": data})
