"""/v2/webhook_deliveries: what happened to each webhook, attempt by attempt."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.pagination import page_of
from heliograph.api.responses import json_response
from heliograph.domain.errors import InvalidFilter, NotFound
from heliograph.domain.filters import TimeRange, WebhookDeliveryFilter
from heliograph.domain.ids import is_uuid
from heliograph.domain.times import parse_iso, parse_upper_bound
from heliograph.services import webhook_deliveries

router = APIRouter()


def _time(q, name: str) -> int | None:
    raw = q.get(name)
    if not raw:
        return None
    try:
        return parse_upper_bound(raw) if name.endswith("[lte]") else parse_iso(raw)
    except ValueError:
        raise InvalidFilter(f"{name} must be an ISO 8601 datetime.", parameter=name) from None


def _filter(request: Request) -> WebhookDeliveryFilter:
    q = request.query_params
    status = q.get("filter[status][eq]")
    if status is not None and status not in ("delivered", "failed"):
        raise InvalidFilter(
            "filter[status][eq] must be delivered or failed.",
            parameter="filter[status][eq]",
        )
    types = q.get("filter[event_type]")
    ranges = {
        name: TimeRange(gte=_time(q, f"filter[{name}][gte]"), lte=_time(q, f"filter[{name}][lte]"))
        for name in ("started_at", "finished_at")
    }
    return WebhookDeliveryFilter(
        delivered=None if status is None else status == "delivered",
        event_types=tuple(t.strip() for t in types.split(",") if t.strip()) if types else None,
        webhook_contains=q.get("filter[webhook][contains]") or None,
        attempts_contains=q.get("filter[attempts][contains]") or None,
        started_at=ranges["started_at"],
        finished_at=ranges["finished_at"],
    )


@router.get("/webhook_deliveries", summary="List webhook deliveries")
async def list_deliveries(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    page = page_of(request)
    data, total = await webhook_deliveries.list_deliveries(
        ctx, caller_of(request).organization_id, _filter(request), page.offset, page.size
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
