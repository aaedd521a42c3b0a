"""Webhook attempts made on request rather than by the sender's schedule: replays and `listen` forwards.

Both land in the event's attempt log, so `GET /v2/webhook_deliveries` (and the console) show them
beside the sender's own attempts.

    attempt = await webhook_replay.replay(ctx, org_id, delivery_id)        # console "Replay" button
    attempt = await webhook_replay.record_forward(ctx, org_id, event_id, Forward(url=..., http_status=200, ...))
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from heliograph.domain.errors import InvalidValue, NotFound, ValueOutOfRange
from heliograph.domain.rows import Row
from heliograph.services import destinations, sealing, signing, webhooks
from heliograph.services.context import Context
from heliograph.store import event_feed as feed_store
from heliograph.store import manual_attempts, outbox

logger = logging.getLogger(__name__)

MAX_RESPONSE_BODY = 10 * 1024


@dataclass(frozen=True, slots=True)
class Forward:
    """What `listen` saw when it forwarded one event."""

    url: str
    http_status: int | None
    duration_ms: float
    response_body: str | None = None
    error: str | None = None  # why there was no HTTP answer (connection refused, timeout …)


async def _event(ctx: Context, organization_id: str, event_id: str) -> tuple[Row, list[Row], str]:
    async with ctx.db.read() as conn:
        event = await outbox.get_event(conn, organization_id, event_id)
        if event is None:
            raise NotFound(f"Webhook delivery {event_id} was not found.")
        attempts = (await outbox.attempts_of(conn, [event_id]))[event_id]
        seed = await feed_store.signing_seed(conn, organization_id)
    assert seed is not None
    return event, attempts, sealing.open_seed(ctx, organization_id, seed)


async def _record(ctx: Context, organization_id: str, attempt: Row, *, settles: bool) -> Row:
    async with ctx.db.transaction() as conn:
        stored = await manual_attempts.add_attempt(conn, organization_id, attempt, settles=settles)
    if stored is None:
        raise NotFound(f"Webhook delivery {attempt['event_id']} was not found.")
    return stored


async def record_forward(ctx: Context, organization_id: str, event_id: str, forward: Forward) -> Row:
    """Log a forward made by `listen` as an attempt of the event (it does not change the event's status)."""
    if forward.http_status is not None and not 100 <= forward.http_status <= 599:
        raise ValueOutOfRange("http_status must be an HTTP status code.", pointer="/http_status")
    delivered = forward.http_status is not None and 200 <= forward.http_status < 300
    code: int | None
    detail: str | None
    if forward.http_status is None:
        code, detail = 75002, f"listen could not deliver: {forward.error or 'no answer'}"
    else:
        code = webhooks.error_code_for_status(forward.http_status)
        detail = None if delivered else f"The receiver answered HTTP {forward.http_status}."
    finished = ctx.now()
    attempt = {
        "event_id": event_id,
        "url": forward.url,
        "started_at": finished - int(max(forward.duration_ms, 0) * 1000),
        "finished_at": finished,
        "delivered": delivered,
        "http_status": forward.http_status,
        "error_code": None if delivered else code,
        "error_detail": None if delivered else detail,
        "response_body": (forward.response_body or "")[:MAX_RESPONSE_BODY] or None,
    }
    return await _record(ctx, organization_id, attempt, settles=False)


async def replay(ctx: Context, organization_id: str, delivery_id: str) -> Row:
    """Send one event again now, freshly signed, and log it as a new attempt.

    It goes to the event's first webhook URL, or, for an event without one, to the URL its latest
    attempt went to (a `listen` forward). A delivered replay settles a `failed` delivery."""
    event, attempts, seed = await _event(ctx, organization_id, delivery_id)
    url = event["urls"][0] if event["urls"] else (attempts[0]["url"] if attempts else None)
    if not url:
        raise InvalidValue(f"Webhook delivery {delivery_id} has no webhook URL to replay to.", parameter="url")
    body = webhooks.body_for_attempt(event, event["attempts"] + 1, url)
    started = ctx.now()
    headers = signing.headers(seed, started // 1_000_000, body)
    status = code = detail = response_body = None
    timeout = ctx.settings.webhook_timeout_seconds
    guard = destinations.webhook_guard(ctx)  # the same SSRF guard and pinned connection as the sender's
    try:
        refusal = guard.refusal(url)
        if refusal:
            raise destinations.DestinationRefused(refusal)
        transport = guard.httpx_transport()
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, transport=transport, trust_env=False
        ) as client:
            response = await client.post(url, content=body, headers=headers)
        status = response.status_code
        response_body = response.text[:MAX_RESPONSE_BODY]
        code = webhooks.error_code_for_status(status)
        detail = f"The receiver answered HTTP {status}." if code else None
    except destinations.DestinationRefused as exc:
        code, detail = 75002, f"Not delivered: {exc}"
    except httpx.TimeoutException:
        code, detail = 75000, f"No answer within {timeout:g} s."
    except httpx.ConnectError as exc:
        code, detail = 75002, f"Could not connect: {exc}"
    except (httpx.HTTPError, OSError, ValueError) as exc:
        code, detail = 75000, f"Delivery failed: {exc.__class__.__name__}: {exc}"
    delivered = status is not None and 200 <= status < 300
    attempt = {
        "event_id": event["id"],
        "url": url,
        "started_at": started,
        "finished_at": ctx.now(),
        "delivered": delivered,
        "http_status": status,
        "error_code": None if delivered else code,
        "error_detail": None if delivered else detail,
        "response_body": response_body,
    }
    stored = await _record(ctx, organization_id, attempt, settles=True)
    logger.info(
        "webhook replayed",
        extra={"action": "webhook_replay", "event_id": event["id"], "attempt": stored["attempt"], "status": status},
    )
    return stored


__all__ = ["Forward", "record_forward", "replay"]
