"""Webhook events: what is owed (built inside the state change's transaction) and how attempts end.

The `data` object is serialized once, when the event is created, and sent byte for byte on every
attempt; only `meta` (attempt number, URL) and the signature change between attempts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import orjson

from heliograph.domain import retry
from heliograph.domain.ids import new_uuid
from heliograph.domain.rows import Row
from heliograph.domain.times import iso
from heliograph.store import accounts as accounts_store
from heliograph.store import claims, outbox
from heliograph.store import messages as message_store
from heliograph.store.engine import BACKGROUND_BATCH


def message_urls(message: Row, profile: Row | None) -> list[str]:
    """URLs to try for a message's events, in order (spec webhooks.md §4)."""
    urls = [message.get("webhook_url"), message.get("webhook_failover_url")]
    if message.get("use_profile_webhooks", True) and profile is not None:
        urls += [profile.get("webhook_url"), profile.get("webhook_failover_url")]
    seen: list[str] = []
    for url in urls:
        if url and url not in seen:
            seen.append(url)
    return seen


def profile_urls(profile: Row | None) -> list[str]:
    if profile is None:
        return []
    return [u for u in (profile.get("webhook_url"), profile.get("webhook_failover_url")) if u]


def new_event(
    *,
    organization_id: str,
    event_type: str,
    payload: dict[str, Any],
    occurred_at: int,
    urls: list[str],
    message_id: str | None = None,
    envelope: str = "event",
) -> Row:
    """An outbox row; insert it in the same transaction as the change it reports.

    envelope "event": `data` is the Telnyx event object wrapping `payload`, and attempts add `meta`.
    envelope "bare": `data` is `payload` itself, sent as `{"data": payload}` (link clicks)."""
    event_id = new_uuid()
    data = payload
    if envelope == "event":
        data = {
            "record_type": "event",
            "id": event_id,
            "event_type": event_type,
            "occurred_at": iso(occurred_at),
            "payload": payload,
        }
    return {
        "id": event_id,
        "organization_id": organization_id,
        "event_type": event_type,
        "message_id": message_id,
        "occurred_at": occurred_at,
        "data_json": orjson.dumps(data).decode(),
        "urls": urls,
        "status": "pending" if urls else "no_url",
        "attempts": 0,
        "next_url_index": 0,
        "next_attempt_at": occurred_at if urls else None,
        "lease_until": None,
        "first_attempt_at": None,
        "finished_at": None,
        "envelope": envelope,
    }


def body_for_attempt(event: Row, attempt: int, url: str) -> bytes:
    data = event["data_json"].encode()
    if event["envelope"] != "event":
        return b'{"data":' + data + b"}"
    meta = orjson.dumps({"attempt": attempt, "delivered_to": url})
    return b'{"data":' + data + b',"meta":' + meta + b"}"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    event: Row
    attempt: int
    url: str
    started_at: int
    finished_at: int
    delivered: bool
    http_status: int | None
    error_code: int | None
    error_detail: str | None
    response_body: str | None


def error_code_for_status(status: int) -> int | None:
    """Telnyx's 75xxx codes for a receiver's HTTP answer (spec webhooks.md §5); None = success."""
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return 75300
    if status in (400, 404, 500):
        return 75000 + status
    if 400 <= status < 500:
        return 75499
    return 75599


def outcome(result: AttemptResult, *, attempts_per_url: int, retry_hours: float, rng: random.Random) -> Row:
    """How the event moves on after one attempt: delivered, retried later (maybe elsewhere), or failed."""
    event = result.event
    first = event["first_attempt_at"] or result.started_at
    base = {
        "id": event["id"],
        "attempts": result.attempt,
        "first_attempt_at": first,
        "next_url_index": event["next_url_index"],
        "next_attempt_at": None,
        "finished_at": result.finished_at,
    }
    if result.delivered:
        return {**base, "status": "delivered"}
    plan = retry.plan_next(
        result.attempt,
        len(event["urls"]),
        attempts_per_url,
        (result.finished_at - first) / 1_000_000,
        retry_hours,
        rng,
    )
    if plan is None:
        return {**base, "status": "failed"}
    return {
        **base,
        "status": "pending",
        "next_url_index": plan.url_index,
        "next_attempt_at": result.finished_at + int(plan.delay_seconds * 1_000_000),
        "finished_at": None,
    }


def attempt_row(result: AttemptResult) -> Row:
    return {
        "event_id": result.event["id"],
        "attempt": result.attempt,
        "url": result.url,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "delivered": result.delivered,
        "http_status": result.http_status,
        "error_code": result.error_code,
        "error_detail": result.error_detail,
        "response_body": result.response_body,
    }


# -- delivering: what the webhook sender (workers/webhook_sender.py) asks of the database ------------


class SeedCache:
    """Organizations' signing seeds, opened once per process (they change only with the org)."""

    def __init__(self) -> None:
        self._seeds: dict[str, str] = {}

    def __getitem__(self, org_id: str) -> str:
        return self._seeds[org_id]

    async def load(self, ctx: Any, conn: Any, org_ids: set[str]) -> None:
        from heliograph.services import sealing

        missing = org_ids - self._seeds.keys()
        for org_id, stored in (await accounts_store.signing_seeds(conn, missing)).items():
            self._seeds[org_id] = sealing.open_seed(ctx, org_id, stored)


async def claim_due(ctx: Any, seeds: SeedCache, capacity: int, lease_us: int) -> list[Row]:
    """Lease up to `capacity` due events (one batch at most) and make sure their orgs' seeds are known."""
    now = ctx.now()
    async with ctx.db.transaction() as conn:
        events = await claims.claim_due_events(conn, now, now + lease_us, min(capacity, BACKGROUND_BATCH))
        await seeds.load(ctx, conn, {e["organization_id"] for e in events})
    return events


async def next_due_at(ctx: Any) -> int | None:
    async with ctx.db.read() as conn:
        return await claims.next_due_at(conn, "events", ctx.now())


async def record_results(ctx: Any, batch: list[AttemptResult], rng: random.Random) -> list[Row]:
    """One transaction: each attempt's row, the event's next state (delivered, retry, failover, failed)
    and, for a delivered message.received, the message's webhook flag. Returns the outcomes."""
    settings = ctx.settings
    outcomes = [
        outcome(
            r, attempts_per_url=settings.webhook_attempts_per_url, retry_hours=settings.webhook_retry_hours, rng=rng
        )
        for r in batch
    ]
    received = [
        r.event["message_id"]
        for r in batch
        if r.delivered and r.event["event_type"] == "message.received" and r.event["message_id"]
    ]
    async with ctx.db.transaction() as conn:
        await outbox.record_attempts(conn, [attempt_row(r) for r in batch], outcomes)
        if received:
            await message_store.mark_webhook_delivered(conn, received)
    return outcomes
