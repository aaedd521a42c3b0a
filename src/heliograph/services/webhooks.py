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
from heliograph.domain.times import iso

Row = dict[str, Any]


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
