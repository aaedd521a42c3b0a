"""/v2/number_orders: sandbox number ordering (orders complete at once)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.responses import Response

from heliograph.api.auth import caller_of
from heliograph.api.pagination import page_of
from heliograph.api.responses import json_response
from heliograph.api.validation import json_object, validate
from heliograph.domain.errors import InvalidFilter, MissingParameter, NotFound
from heliograph.domain.filters import NumberOrderFilter
from heliograph.domain.ids import is_uuid
from heliograph.domain.times import parse_iso
from heliograph.services import numbers, views

router = APIRouter()


class OrderedNumber(BaseModel):
    model_config = ConfigDict(extra="ignore")
    phone_number: StrictStr
    bundle_id: StrictStr | None = None
    requirement_group_id: StrictStr | None = None


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    phone_numbers: list[OrderedNumber] = Field(min_length=1)
    messaging_profile_id: StrictStr | None = None
    connection_id: StrictStr | None = None
    billing_group_id: StrictStr | None = None
    customer_reference: StrictStr | None = None


class OrderUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    customer_reference: StrictStr | None = None


@router.post("/number_orders", summary="Order numbers")
async def create_order(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    body = await json_object(request)
    if not body.get("phone_numbers"):
        raise MissingParameter("The 'phone_numbers' parameter is required.", pointer="/phone_numbers")
    model = validate(OrderCreate, body)
    order = await numbers.create_order(ctx, caller_of(request).organization_id, model.model_dump())
    return json_response({"data": views.number_order(order)})


@router.get("/number_orders/{order_id}", summary="Retrieve a number order")
async def retrieve_order(order_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    if not is_uuid(order_id):
        raise NotFound(f"Number order {order_id} was not found.")
    order = await numbers.get_order(ctx, caller_of(request).organization_id, order_id)
    return json_response({"data": views.number_order(order)})


@router.patch("/number_orders/{order_id}", summary="Update a number order")
async def update_order(order_id: str, request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    if not is_uuid(order_id):
        raise NotFound(f"Number order {order_id} was not found.")
    model = validate(OrderUpdate, await json_object(request))
    order = await numbers.update_order(
        ctx, caller_of(request).organization_id, order_id, model.model_dump(exclude_unset=True)
    )
    return json_response({"data": views.number_order(order)})


@router.get("/number_orders", summary="List number orders")
async def list_orders(request: Request) -> Response:
    ctx = request.app.state.heliograph.ctx
    page = page_of(request)
    q = request.query_params
    bounds: dict[str, int | None] = {"gt": None, "lt": None}
    for op, name in (("gt", "filter[created_at][gt]"), ("lt", "filter[created_at][lt]")):
        if q.get(name):
            try:
                bounds[op] = parse_iso(q[name])
            except ValueError:
                raise InvalidFilter(f"{name} must be an ISO 8601 datetime.", parameter=name) from None
    count = None
    if q.get("filter[phone_numbers_count]"):
        name = "filter[phone_numbers_count]"
        try:
            count = int(q[name])
        except ValueError:
            raise InvalidFilter(f"{name} must be an integer.", parameter=name) from None
    wanted = NumberOrderFilter(
        status=q.get("filter[status]") or None,
        customer_reference=q.get("filter[customer_reference]") or None,
        created_after=bounds["gt"],
        created_before=bounds["lt"],
        phone_numbers_count=count,
    )
    rows, total = await numbers.list_orders(ctx, caller_of(request).organization_id, wanted, page.offset, page.size)
    return json_response(page.body([views.number_order(r, full=False) for r in rows], total))
