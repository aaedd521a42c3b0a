"""Dispatch: take due messages, hand them to the carrier, and record `sent` (or the refusal) together
with the webhook it owes, in one transaction (invariant 2)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from heliograph.carriers.base import Carrier, Submission, SubmitResult
from heliograph.domain.errors import DELIVERY_ERROR_TITLES
from heliograph.services import metrics, views, webhooks
from heliograph.services.context import Context
from heliograph.services.media import MediaError, MediaFetcher
from heliograph.store import accounts, claims, outbox
from heliograph.store import compliance as compliance_store
from heliograph.store import messages as store
from heliograph.store.engine import BACKGROUND_BATCH

logger = logging.getLogger(__name__)

Row = dict[str, Any]


def submission(row: Row) -> Submission:
    transmitted = row["transmitted_text"] if row["transmitted_text"] is not None else row["text"]
    return Submission(
        message_id=row["id"],
        organization_id=row["organization_id"],
        from_number=row["from_number"],
        to_number=row["to_number"],
        text=transmitted,
        subject=row["subject"],
        media_urls=tuple(m["url"] for m in row["media"] or []),
        message_type=row["type"],
        encoding=row["encoding"],
        parts=row["parts"],
        sent_at_us=row["sent_at"],
    )


def message_error(code: str, detail: str | None, index: int = 0) -> Row:
    entry: Row = {"code": code, "title": DELIVERY_ERROR_TITLES.get(code, "Undeliverable")}
    if detail:
        entry["detail"] = detail
    entry["source"] = {"pointer": f"/to/{index}/phone_number"}
    return entry


_CHANGE_KEYS = (
    "status",
    "sent_at",
    "completed_at",
    "valid_until",
    "lease_until",
    "carrier_message_id",
    "errors",
    "wait_seconds",
    "due_at",
    "media",
    "cost_rate",
    "cost_carrier_fee",
)


@dataclass
class Round:
    taken: int
    awaiting_media: list[Row] = field(default_factory=list)  # MMS whose media must be fetched first


def _needs_media(row: Row) -> bool:
    return row["type"] == "MMS" and any(m.get("size") is None for m in row["media"] or [])


async def dispatch_once(ctx: Context, carrier: Carrier, limit: int = BACKGROUND_BATCH) -> Round:
    """One round: submit what is due; MMS needing media are handed back for `submit_with_media`."""
    now = ctx.now()
    async with ctx.db.transaction() as conn:
        claimed = await claims.claim_due_messages(conn, now, now + int(ctx.settings.lease_seconds * 1_000_000), limit)
        # a scheduled message's recipient may have opted out since it was accepted
        scheduled = {(m["messaging_profile_id"], m["to_number"]) for m in claimed if m["send_at"] is not None}
        blocked = await compliance_store.blocked_pairs(conn, scheduled)
    if not claimed:
        return Round(0)
    failed = []
    for m in claimed:
        if m["valid_until"] is not None and m["valid_until"] < now:
            failed.append((m, message_error("40014", "The message was still queued at valid_until.")))
        elif (m["messaging_profile_id"], m["to_number"]) in blocked and m["send_at"] is not None:
            failed.append((m, message_error("40300", f"{m['to_number']} opted out before the scheduled send.")))
    failed_ids = {m["id"] for m, _ in failed}
    awaiting = [m for m in claimed if m["id"] not in failed_ids and _needs_media(m)]
    ready = [m for m in claimed if m["id"] not in failed_ids and m not in awaiting]
    await _submit(ctx, carrier, ready, failed, now)
    return Round(len(claimed), awaiting)


async def submit_with_media(ctx: Context, carrier: Carrier, fetcher: MediaFetcher, rows: list[Row]) -> None:
    """Fetch each MMS's media (size, type, hash), then submit; media that cannot be used fails the message."""
    outcomes = await asyncio.gather(
        *(fetcher.fetch_all([m["url"] for m in r["media"]]) for r in rows), return_exceptions=True
    )
    ready, unusable = [], []
    for row, outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, MediaError | TimeoutError):
            detail = str(outcome) or "Fetching the media timed out."
            unusable.append((row, detail))
            continue
        if isinstance(outcome, BaseException):
            logger.error("media fetch crashed", exc_info=outcome, extra={"message_id": row["id"]})
            unusable.append((row, "The media could not be fetched."))
            continue
        row["media"] = [
            {"url": m.url, "content_type": m.content_type, "size": m.size, "sha256": m.sha256} for m in outcome
        ]
        ready.append(row)
    failed = [(row, message_error("40009", detail)) for row, detail in unusable]
    await _submit(ctx, carrier, ready, failed, ctx.now())


async def _submit(ctx: Context, carrier: Carrier, ready: list[Row], failed: list[tuple[Row, Row]], now: int) -> None:
    try:
        results = await carrier.submit([submission(m) for m in ready]) if ready else []
    except Exception:
        logger.exception("carrier submit failed; messages go back to the queue", extra={"action": "carrier_submit"})
        await _requeue(ctx, ready, now + 1_000_000)
        results = []
        ready = []
    done = ctx.now()
    changes: list[Row] = []
    updated: list[Row] = []
    for row, error in failed:
        change = _final(row, "sending_failed", done, [error])
        changes.append(change)
        updated.append({**row, **change, "_claimed_lease": row["lease_until"]})
    for row, result in zip(ready, results, strict=True):
        change = _after_submit(row, result, now, done)
        changes.append(change)
        updated.append({**row, **change, "_claimed_lease": row["lease_until"]})
    if changes:
        await _commit_changes(ctx, updated, changes)


def _final(row: Row, status: str, at: int, errors: list[Row]) -> Row:
    return {
        "id": row["id"],
        "status": status,
        "sent_at": row["sent_at"],
        "completed_at": at,
        "valid_until": None,
        "lease_until": None,
        "carrier_message_id": row["carrier_message_id"],
        "errors": errors,
        "wait_seconds": row["wait_seconds"],
        "due_at": None,
        "media": row["media"],
        # a message that never left the platform is not billed (Telnyx, error 40014)
        "cost_rate": "0" if status == "sending_failed" else row["cost_rate"],
        "cost_carrier_fee": "0" if status == "sending_failed" else row["cost_carrier_fee"],
    }


def _after_submit(row: Row, result: SubmitResult, claimed_at: int, done: int) -> Row:
    if not result.accepted:
        return _final(row, "sending_failed", done, [message_error(result.error_code or "40008", result.error_detail)])
    return {
        "id": row["id"],
        "status": "sent",
        "sent_at": done,
        "completed_at": None,
        "valid_until": None,  # nulled once the message leaves the queue (SDK field description)
        "lease_until": None,
        "carrier_message_id": result.carrier_message_id,
        "errors": [],
        "wait_seconds": row["wait_seconds"],  # the queueing promised at acceptance
        "due_at": None,
        "media": row["media"],
        "cost_rate": row["cost_rate"],
        "cost_carrier_fee": row["cost_carrier_fee"],
    }


async def _commit_changes(ctx: Context, updated: list[Row], changes: list[Row]) -> None:
    """Record what happened to claimed messages — only those this worker still holds: a message whose
    lease ran out meanwhile may have been retaken (and finished) by another worker. The webhooks are
    built before the write transaction, so the write lock is held for the writes alone."""
    async with ctx.db.read() as conn:
        profiles = await accounts.profiles_by_ids(conn, {m["messaging_profile_id"] for m in updated})
    events = [message_event(m, profiles.get(m["messaging_profile_id"])) for m in updated]
    async with ctx.db.transaction() as conn:
        held = await claims.still_held(conn, {m["id"]: m["_claimed_lease"] for m in updated})
        kept = [i for i, m in enumerate(updated) if m["id"] in held]
        if len(kept) < len(updated):
            logger.warning(
                "lost the lease on some messages; another worker has them", extra={"count": len(updated) - len(kept)}
            )
        if not kept:
            return
        await store.update_many(conn, [{k: changes[i][k] for k in ("id", *_CHANGE_KEYS)} for i in kept])
        await outbox.add_events(conn, [events[i] for i in kept])
        await metrics.record(conn, [({"status": "sending"}, updated[i]) for i in kept])
    ctx.wakeups.webhooks.set()


def message_event(row: Row, profile: Row | None) -> Row:
    """The webhook a message's current state owes: message.sent, or message.finalized when final."""
    event_type = "message.sent" if row["status"] == "sent" else "message.finalized"
    occurred = row["sent_at"] if event_type == "message.sent" else row["completed_at"]
    return webhooks.new_event(
        organization_id=row["organization_id"],
        event_type=event_type,
        payload=views.message(row),
        occurred_at=occurred,
        urls=webhooks.message_urls(row, profile),
        message_id=row["id"],
    )


async def _requeue(ctx: Context, rows: list[Row], due_at: int) -> None:
    if not rows:
        return
    async with ctx.db.transaction() as conn:
        await store.update_many(
            conn, [{"id": r["id"], "status": "queued", "lease_until": None, "due_at": due_at} for r in rows]
        )
