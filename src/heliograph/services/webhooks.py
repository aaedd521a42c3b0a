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

    def missing(self, org_ids: set[str]) -> bool:
        return not org_ids <= self._seeds.keys()

    async def load(self, ctx: Any, conn: Any, org_ids: set[str]) -> None:
        from heliograph.services import sealing

        missing = org_ids - self._seeds.keys()
        for org_id, stored in (await accounts_store.signing_seeds(conn, missing)).items():
            self._seeds[org_id] = sealing.open_seed(ctx, org_id, stored)


class Handoff:
    """Events this process commits go straight to its own webhook sender, leased at insert time.

    Without it every event is inserted, then claimed back by another write transaction (UPDATE …
    RETURNING the whole row) that also re-reads what the process had in memory. An event handed off is
    inserted with its lease already taken, so no other sender claims it, and attempted as soon as its
    transaction commits. If this process dies first, the lease expires and any sender claims it then:
    at-least-once as before. Only as many events as the sender has free places for are handed off; the
    rest are inserted unleased and claimed as usual.
    """

    def __init__(self, room: Any, deliver: Any, lease_us: int) -> None:
        self._room = room  # () -> int: attempts the sender can still start now
        self._deliver = deliver  # (events) -> None: start attempts for committed events
        self._lease_us = lease_us

    def lease(self, events: list[Row], now: int) -> list[Row]:
        """Take leases on the due events the sender has room for (call before inserting them)."""
        room = self._room()
        taken: list[Row] = []
        for event in events:
            if len(taken) >= room:
                break
            if (
                event["status"] == "pending"
                and event["next_attempt_at"] is not None
                and event["next_attempt_at"] <= now
            ):
                event["lease_until"] = now + self._lease_us
                taken.append(event)
        return taken

    def deliver(self, events: list[Row]) -> None:
        """After the commit: start the attempts."""
        if events:
            self._deliver(events)


def lease_for_handoff(ctx: Any, events: list[Row]) -> list[Row]:
    """Before inserting `events`: the ones this process's sender will attempt itself (leased now)."""
    handoff = ctx.handoff
    if handoff is None or not events:
        return []
    return handoff.lease(events, ctx.now())


def hand_off(ctx: Any, handed: list[Row], events: list[Row]) -> None:
    """After the commit: start the handed events' attempts; nudge the sender for any others."""
    if handed:
        ctx.handoff.deliver(handed)
    if len(handed) < sum(1 for e in events if e["status"] == "pending"):
        ctx.wakeups.webhooks.set()


async def release(ctx: Any, events: list[Row]) -> None:
    """Give back leases taken for a sender that stopped before it could start these events."""
    if events:
        async with ctx.db.transaction() as conn:
            await claims.release_events(conn, [e["id"] for e in events], ctx.now())


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
