"""Webhook delivery records (spec webhooks.md §6): one per event, built from the outbox's attempt log."""

from __future__ import annotations

import orjson

from heliograph.domain.errors import NotFound
from heliograph.domain.filters import WebhookDeliveryFilter
from heliograph.domain.rows import Row
from heliograph.domain.times import iso
from heliograph.services.context import Context
from heliograph.store import outbox

REQUEST_HEADERS = [
    ["Content-Type", "application/json"],
    ["User-Agent", "telnyx-webhooks"],
    ["telnyx-signature-ed25519", "(signed per attempt)"],
    ["telnyx-timestamp", "(time of the attempt)"],
]


def _webhook(event: Row) -> Row:
    data = orjson.loads(event["data_json"])
    if event["envelope"] == "event":
        return data
    # link clicks travel as a bare {"data": …}; the record still shows them as an event
    return {
        "id": event["id"],
        "event_type": event["event_type"],
        "occurred_at": iso(event["occurred_at"]),
        "payload": data,
        "record_type": "event",
    }


def _attempt(row: Row) -> Row:
    response = None
    if row["http_status"] is not None:
        response = {"status": row["http_status"], "headers": [], "body": row["response_body"] or ""}
    return {
        "status": "delivered" if row["delivered"] else "failed",
        "started_at": iso(row["started_at"]),
        "finished_at": iso(row["finished_at"]),
        "errors": [] if row["delivered"] or row["error_code"] is None else [row["error_code"]],
        "http": {"request": {"url": row["url"], "headers": REQUEST_HEADERS}, "response": response},
    }


def view(event: Row, attempts: list[Row]) -> Row:
    latest = attempts[0] if attempts else None
    if event["status"] == "delivered":
        status = "delivered"
    elif event["status"] == "failed" or latest is None or not latest["delivered"]:
        status = "failed"
    else:
        status = "delivered"
    return {
        "id": event["id"],
        "record_type": "webhook_delivery",
        "user_id": event["organization_id"],
        "status": status,
        "started_at": iso(event["first_attempt_at"]),
        "finished_at": iso(latest["finished_at"]) if latest else None,
        "webhook": _webhook(event),
        "attempts": [_attempt(a) for a in attempts],
    }


async def list_deliveries(
    ctx: Context, org_id: str, wanted: WebhookDeliveryFilter, offset: int, limit: int
) -> tuple[list[Row], int]:
    async with ctx.db.read() as conn:
        events, total = await outbox.list_delivered_events(conn, org_id, wanted, offset, limit)
        attempts = await outbox.attempts_of(conn, [e["id"] for e in events])
    return [view(e, attempts[e["id"]]) for e in events], total


async def get_delivery(ctx: Context, org_id: str, delivery_id: str) -> Row:
    async with ctx.db.read() as conn:
        event = await outbox.get_event(conn, org_id, delivery_id)
        if event is None or not event["attempts"]:
            raise NotFound(f"Webhook delivery {delivery_id} was not found.")
        attempts = await outbox.attempts_of(conn, [delivery_id])
    return view(event, attempts[delivery_id])
