"""Dispatch: take due messages, hand them to the carrier, and record `sent` (or the refusal) together
with the webhook it owes, in one transaction (invariant 2)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from heliograph.carriers.base import Submission, SubmitResult
from heliograph.domain.errors import DELIVERY_ERROR_TITLES
from heliograph.domain.rows import Row
from heliograph.services import metrics, telemetry, views, webhooks
from heliograph.services.carrier_links import CarrierLinks
from heliograph.services.context import Context
from heliograph.services.media import MediaError, MediaFetcher
from heliograph.store import accounts, claims, outbox
from heliograph.store import carriers as carrier_store
from heliograph.store import compliance as compliance_store
from heliograph.store import messages as store
from heliograph.store.engine import BACKGROUND_BATCH

logger = logging.getLogger(__name__)


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
    "connector",
)


@dataclass
class Round:
    taken: int
    awaiting_media: list[Row] = field(default_factory=list)  # MMS whose media must be fetched first
    ready: list[Row] = field(default_factory=list)  # to submit now
    failed: list[tuple[Row, Row]] = field(default_factory=list)  # (message, error) ending sending_failed
    claimed_at: int = 0


def _needs_media(row: Row) -> bool:
    return row["type"] == "MMS" and any(m.get("size") is None for m in row["media"] or [])


async def dispatch_once(ctx: Context, links: CarrierLinks, limit: int = BACKGROUND_BATCH) -> Round:
    """One round: submit what is due; MMS needing media are handed back for `submit_with_media`."""
    round_ = await claim(ctx, limit)
    if round_.taken:
        await submit_round(ctx, links, round_)
    return round_


async def claim(ctx: Context, limit: int = BACKGROUND_BATCH) -> Round:
    """Lease what is due and sort it: ready to submit, failing before submission, or waiting for media.
    The dispatcher claims the next round while earlier ones still wait for their carriers' answers."""
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
    return Round(len(claimed), awaiting, ready, failed, now)


async def next_due_at(ctx: Context) -> int | None:
    """When the next queued or scheduled message becomes due (epoch µs), if any."""
    async with ctx.db.read() as conn:
        return await claims.next_due_at(conn, "messages")


async def submit_round(ctx: Context, links: CarrierLinks, round_: Round) -> None:
    await _submit(ctx, links, round_.ready, round_.failed, round_.claimed_at)


async def submit_with_media(ctx: Context, links: CarrierLinks, fetcher: MediaFetcher, rows: list[Row]) -> None:
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
    await _submit(ctx, links, ready, failed, ctx.now())


# a message whose connectors are all down waits this long before the next try (it stays `queued`)
LINKS_DOWN_RETRY_US = 1_000_000


@dataclass
class _Outcomes:
    """What a dispatch round decided, per message, before it is committed."""

    updated: list[Row] = field(default_factory=list)
    changes: list[Row] = field(default_factory=list)
    parts: list[Row] = field(default_factory=list)
    waiting: list[Row] = field(default_factory=list)
    leases: dict[str, int] = field(default_factory=dict)  # message id -> the lease this worker claimed it with

    def add(self, row: Row, change: Row) -> None:
        self.changes.append(change)
        self.updated.append({**row, **change})
        self.leases[row["id"]] = row["lease_until"]


async def _submit(ctx: Context, links: CarrierLinks, ready: list[Row], failed: list[tuple[Row, Row]], now: int) -> None:
    """Each message goes to the first connector of its route that is up; a retryable refusal passes it to
    the next one; when none can take it now it waits (`queued`) and is tried again shortly."""
    out = _Outcomes()
    position: dict[str, int] = {}  # message id -> index of the next connector of its route to try
    pending = ready
    while pending:
        groups: dict[str, list[Row]] = {}
        for row in pending:
            route = links.route(row["to_number"], row["messaging_profile_id"], row["type"])
            if route is None:
                failed.append((row, message_error("40001", f"No route matches {row['to_number']} ({row['type']}).")))
                continue
            able = [n for n in route.connectors if links.carries(n, row["type"])]
            if not able:
                detail = f"Route {route.name} has no connector that carries {row['type']} messages."
                failed.append((row, message_error("40001", detail)))
                continue
            chosen = None
            index = position.get(row["id"], 0)
            while index < len(route.connectors) and chosen is None:
                name = route.connectors[index]
                index += 1
                if name in able and links.get(name) is not None and links.state(name).state == "up":
                    chosen = name
            position[row["id"]] = index
            if chosen is None:
                out.waiting.append(row)
            else:
                groups.setdefault(chosen, []).append(row)
        pending = await _submit_groups(ctx, links, groups, now, out)
    done = ctx.now()
    for row, error in failed:
        out.add(row, _final(row, "sending_failed", done, [error]))
    if out.waiting:
        logger.info(
            "no connector of the route is up; messages wait", extra={"action": "dispatch", "count": len(out.waiting)}
        )
        await _requeue(ctx, out.waiting, done + LINKS_DOWN_RETRY_US)
    if out.changes:
        await _commit_changes(ctx, out)


async def _submit_groups(
    ctx: Context, links: CarrierLinks, groups: dict[str, list[Row]], claimed_at: int, out: _Outcomes
) -> list[Row]:
    """Submit each connector's share at once; returns the messages to offer to their next connector."""
    names = list(groups)
    results = await asyncio.gather(
        *(links.get(n).submit([submission(m) for m in groups[n]]) for n in names),  # type: ignore[union-attr]
        return_exceptions=True,
    )
    again: list[Row] = []
    done = ctx.now()
    for name, outcome in zip(names, results, strict=True):
        rows = groups[name]
        if isinstance(outcome, BaseException):
            logger.error(
                "connector submit crashed; trying the next connector",
                exc_info=outcome,
                extra={"action": "carrier_submit", "connector": name},
            )
            again.extend(rows)
            continue
        taken = 0
        for row, result in zip(rows, outcome, strict=True):
            if result.retryable:
                again.append(row)
                continue
            taken += result.accepted
            out.add(row, _after_submit(row, result, claimed_at, done, name))
            for i, carrier_id in enumerate(result.carrier_part_ids):
                out.parts.append(
                    {
                        "message_id": row["id"],
                        "part": i,
                        "connector": name,
                        "carrier_message_id": carrier_id,
                        "status": None,
                        "error_code": None,
                        "error_detail": None,
                        "updated_at": done,
                    }
                )
            if name != "simulator":
                logger.info(
                    "submitted" if result.accepted else "refused by the carrier",
                    extra={
                        "action": "carrier_submit",
                        "message_id": row["id"],
                        "connector": name,
                        "carrier_message_ids": list(result.carrier_part_ids),
                        "error_code": result.error_code,
                    },
                )
        links.count_submitted(name, taken)
    return again


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
        "connector": row.get("connector"),
        # a message that never left the platform is not billed (Telnyx, error 40014)
        "cost_rate": "0" if status == "sending_failed" else row["cost_rate"],
        "cost_carrier_fee": "0" if status == "sending_failed" else row["cost_carrier_fee"],
    }


def _after_submit(row: Row, result: SubmitResult, claimed_at: int, done: int, connector: str) -> Row:
    if not result.accepted:
        change = _final(row, "sending_failed", done, [message_error(result.error_code or "40008", result.error_detail)])
        return {**change, "connector": connector}
    return {
        "connector": connector,
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


async def _commit_changes(ctx: Context, out: _Outcomes) -> None:
    """Record what happened to claimed messages — only those this worker still holds: a message whose
    lease ran out meanwhile may have been retaken (and finished) by another worker. The webhooks are
    built before the write transaction, so the write lock is held for the writes alone."""
    updated, changes, parts = out.updated, out.changes, out.parts
    async with ctx.db.read() as conn:
        profiles = await accounts.profiles_by_ids(conn, {m["messaging_profile_id"] for m in updated})
    events = [message_event(m, profiles.get(m["messaging_profile_id"])) for m in updated]
    async with ctx.db.transaction() as conn:
        held = await claims.still_held(conn, out.leases)
        kept = [i for i, m in enumerate(updated) if m["id"] in held]
        if len(kept) < len(updated):
            logger.warning(
                "lost the lease on some messages; another worker has them", extra={"count": len(updated) - len(kept)}
            )
        if not kept:
            return
        await store.update_many(conn, [{k: changes[i][k] for k in ("id", *_CHANGE_KEYS)} for i in kept])
        kept_ids = {updated[i]["id"] for i in kept}
        kept_parts = [p for p in parts if p["message_id"] in kept_ids]
        await carrier_store.replace_parts(conn, kept_parts)
        kept_events = [events[i] for i in kept]
        handed = webhooks.lease_for_handoff(ctx, kept_events)
        await outbox.add_events(conn, kept_events)
        await metrics.record(conn, [({"status": "sending"}, updated[i]) for i in kept])
    webhooks.hand_off(ctx, handed, kept_events)
    telemetry.record_write_batch("dispatch", len(kept))
    if kept_parts:
        ctx.wakeups.receipts.set()  # a receipt may have arrived before these parts were stored


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
