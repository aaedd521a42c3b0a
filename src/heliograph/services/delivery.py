"""Delivery receipts: a final status and its `message.finalized` webhook, committed together.

Also the two safety nets of invariant 3: receipts owed from before a restart are re-armed with the
carrier, and a sent message whose receipt never comes becomes `delivery_unconfirmed`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from heliograph.carriers.base import DeliveryReport
from heliograph.domain.rows import Row
from heliograph.services import inbound, metrics, telemetry, webhooks
from heliograph.services.carrier_links import CarrierLinks
from heliograph.services.context import Context
from heliograph.services.dispatch import message_error, message_event, submission
from heliograph.store import accounts, outbox
from heliograph.store import messages as store
from heliograph.store.engine import BACKGROUND_BATCH

logger = logging.getLogger(__name__)

_FINAL_KEYS = ("status", "completed_at", "errors")

# A receipt can overtake the dispatcher's `sent` commit (the carrier answers at once); it is tried
# again until that commit lands, for at most the dispatcher's lease (then the message is resubmitted).
_EARLY_RETRY_SECONDS = 0.05
_EARLY_RETRIES = 600
_deferred: set[asyncio.Task] = set()


async def record_reports(ctx: Context, reports: list[DeliveryReport]) -> int:
    """Apply receipts; duplicates and receipts for messages already final are ignored."""
    recorded = 0
    for start in range(0, len(reports), BACKGROUND_BATCH):
        recorded += await _record(ctx, reports[start : start + BACKGROUND_BATCH], _EARLY_RETRIES)
    return recorded


async def _record(ctx: Context, reports: list[DeliveryReport], retries_left: int) -> int:
    if not reports:
        return 0
    # read and build outside the write lock; inside it, keep only what is still `sent` (optimistic)
    async with ctx.db.read() as conn:
        rows = {r["id"]: r for r in await store.get_messages(conn, [rep.message_id for rep in reports])}
        profiles = await accounts.profiles_by_ids(conn, {r["messaging_profile_id"] for r in rows.values()})
    plan = plan_reports(reports, rows, profiles)
    replies = 0
    if plan.changes:
        async with ctx.db.transaction() as conn:
            replies = await write_plan(ctx, conn, plan)
        webhooks.hand_off(ctx, plan.handed, plan.events)
        telemetry.record_write_batch("receipts", len(plan.changes))
    if replies:
        ctx.wakeups.dispatcher.set()
    if plan.early and retries_left > 0:
        _retry_later(ctx, plan.early, retries_left - 1)
    return len(plan.changes)


async def write_plan(ctx: Context, conn, plan: ReportPlan) -> int:
    """Write what a batch of receipts changes, keeping only messages still `sent` (another writer may have
    finalized some since the read); returns the number of on-net replies queued."""
    still_sent = await store.ids_in_status(conn, [c["id"] for c in plan.changes], "sent")
    plan.keep_only(still_sent)
    replies = await _deliver_on_net(ctx, conn, plan.copies, plan.events)
    await store.update_many(conn, plan.changes)
    # the caller hands these to this process's webhook sender once the transaction commits
    plan.handed = webhooks.lease_for_handoff(ctx, plan.events)
    await outbox.add_events(conn, plan.events)
    await metrics.record(conn, plan.transitions)
    if plan.copies:
        await store.add_handset_messages(conn, plan.copies)
    return replies


@dataclass
class ReportPlan:
    """What a batch of receipts changes, built before the write transaction."""

    changes: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    copies: list[Row] = field(default_factory=list)
    transitions: list[tuple[Row, Row]] = field(default_factory=list)
    early: list[DeliveryReport] = field(default_factory=list)
    handed: list[Row] = field(default_factory=list)  # events leased for this process's sender (write_plan)

    def keep_only(self, ids: set[str]) -> None:
        """Drop what another writer finalized between the read and the write transaction."""
        self.changes = [c for c in self.changes if c["id"] in ids]
        self.events = [e for e in self.events if e["message_id"] in ids]
        self.copies = [c for c in self.copies if c["message_id"] in ids]
        self.transitions = [t for t in self.transitions if t[1]["id"] in ids]


def plan_reports(reports: list[DeliveryReport], rows: dict[str, Row], profiles: dict[str, Row]) -> ReportPlan:
    plan = ReportPlan()
    for report in reports:
        row = rows.get(report.message_id)
        if row is not None and row["status"] == "sending":
            plan.early.append(report)
            continue
        if row is None or row["status"] != "sent":
            continue
        errors = [message_error(report.error_code, report.error_detail)] if report.error_code else []
        change = {"id": row["id"], "status": report.status, "completed_at": report.at_us, "errors": errors}
        plan.transitions.append(({"status": row["status"]}, row))
        row.update(change)
        plan.changes.append(change)
        plan.events.append(message_event(row, profiles.get(row["messaging_profile_id"])))
        if report.handset_copy is not None:
            copy = report.handset_copy
            plan.copies.append(
                {
                    "organization_id": row["organization_id"],
                    "handset": copy.handset,
                    "message_id": row["id"],
                    "from_number": copy.from_number,
                    "text": copy.text,
                    "subject": copy.subject,
                    "media_urls": list(copy.media_urls),
                    "encoding": copy.encoding,
                    "parts": copy.parts,
                    "received_at": report.at_us,
                }
            )
    return plan


def _retry_later(ctx: Context, reports: list[DeliveryReport], retries_left: int) -> None:
    """Held in memory only: after a crash such a message is still `sending` and is submitted again,
    which brings a fresh receipt."""

    async def again() -> None:
        await asyncio.sleep(_EARLY_RETRY_SECONDS)
        try:
            await _record(ctx, reports, retries_left)
        except Exception:
            logger.exception("recording early receipts failed; retrying", extra={"action": "receipts"})
            if retries_left > 0:
                _retry_later(ctx, reports, retries_left - 1)

    task = asyncio.get_running_loop().create_task(again(), name="early-receipts")
    _deferred.add(task)
    task.add_done_callback(_deferred.discard)


async def _deliver_on_net(ctx: Context, conn, copies: list[Row], events: list[Row]) -> int:
    """A message delivered to a number of this platform arrives there as an inbound message."""
    replies = 0
    if not copies:
        return 0
    on_net = await accounts.platform_addresses(conn, {c["handset"] for c in copies})
    for copy in copies:
        if copy["handset"] not in on_net:
            continue
        receiver = await inbound.find_receiver(conn, copy["handset"])
        if receiver is None:
            continue
        outcome = await inbound.process(
            ctx, conn, receiver, copy["from_number"], copy["text"], copy["media_urls"], copy["received_at"]
        )
        events.extend(outcome.events)
        replies += len(outcome.replies)
    return replies


async def resume_in_flight(
    ctx: Context, links: CarrierLinks, sent_before: int | None = None, limit: int = 100_000
) -> int:
    """Offer each connector every receipt still owed for messages it carried (at start-up), or those owed
    for a while (periodically: another process that held them may have died). Reports that arrive twice
    are ignored."""
    async with ctx.db.read() as conn:
        rows = await store.in_flight(conn, sent_before, limit)
    by_connector: dict[str, list[Row]] = {}
    for r in rows:
        by_connector.setdefault(r.get("connector") or "simulator", []).append(r)
    for name, owed in by_connector.items():
        connector = links.get(name)
        if connector is not None:
            await connector.resume([submission(r) for r in owed])
    return len(rows)


async def expire_overdue_receipts(ctx: Context, limit: int = 500) -> int:
    """Sent messages with no receipt within the receipt window become `delivery_unconfirmed`."""
    cutoff = ctx.now() - ctx.settings.receipt_window_seconds * 1_000_000
    async with ctx.db.read() as conn:
        rows = await store.overdue_receipts(conn, cutoff, limit)
    reports = [DeliveryReport(r["id"], "delivery_unconfirmed", ctx.now()) for r in rows]
    return await record_reports(ctx, reports)


__all__ = ["record_reports", "resume_in_flight", "expire_overdue_receipts", "message_error"]
