"""Receipts from carrier links, matched by the carrier's id for each part.

A link hands receipts to `record`, which applies those whose parts are stored and stores the others, in
one transaction, and returns; only then does the link acknowledge (SMPP deliver_sm_resp), so a crash
loses none. When a message's parts settle its fate it is finalized with its `message.finalized` webhook
in that same transaction. A receipt that overtakes the `sent` commit (its part is not stored yet) waits
in the `carrier_receipts` table; `apply_pending` applies it once the part is there, and removes it.
"""

from __future__ import annotations

import logging

from heliograph.carriers.base import CarrierReceipt, DeliveryReport
from heliograph.domain import receipts as domain
from heliograph.domain.rows import Row
from heliograph.services import delivery, webhooks
from heliograph.services.context import Context
from heliograph.store import accounts
from heliograph.store import carriers as store
from heliograph.store import messages as messages_store

logger = logging.getLogger(__name__)

PAGE = 500


async def record(ctx: Context, items: list[CarrierReceipt]) -> None:
    """Apply receipts whose parts are known and store the others, in one transaction; the link
    acknowledges once this returns, so a crash loses none."""
    if not items:
        return
    now = ctx.now()
    rows = [
        {
            "id": -(i + 1),  # not stored yet: a placeholder id, for telling used ones apart
            "connector": r.connector,
            "carrier_message_id": r.carrier_message_id,
            "status": r.status,
            "at": r.at_us,
            "error_code": r.error_code,
            "error_detail": r.error_detail,
            "received_at": now,
        }
        for i, r in enumerate(items)
    ]
    await _apply(ctx, rows, fresh=True)


async def apply_pending(ctx: Context, received_after: int = 0) -> int:
    """Apply every stored receipt whose part is known; returns how many messages reached a final state."""
    after, finalized = 0, 0
    while True:
        async with ctx.db.read() as conn:
            pending = await store.pending_receipts(conn, after, received_after, PAGE)
        if not pending:
            return finalized
        after = pending[-1]["id"]
        finalized += await _apply(ctx, pending, fresh=False)
        if len(pending) < PAGE:
            return finalized


async def _apply(ctx: Context, receipts: list[Row], *, fresh: bool) -> int:
    """Match receipts to stored parts and settle the messages they complete. The parts' statuses are read
    again inside the write transaction, with the messages locked (PostgreSQL), so two receipts for parts
    of one message applied at once by two processes still see each other. Fresh receipts that match
    nothing are stored; stored ones that matched are removed."""
    keys = {(r["connector"], r["carrier_message_id"]) for r in receipts}
    async with ctx.db.read() as conn:
        matched = await store.parts_by_carrier_ids(conn, keys)
        message_ids = sorted({p["message_id"] for p in matched})
        rows = {r["id"]: r for r in await messages_store.get_messages(conn, message_ids)}
        profiles = await accounts.profiles_by_ids(conn, {r["messaging_profile_id"] for r in rows.values()})
    if not matched and not fresh:
        return 0
    finalized = 0
    async with ctx.db.transaction() as conn:
        await messages_store.lock(conn, message_ids)
        parts = await store.parts_of(conn, message_ids)
        part_changes, reports, used = _match(receipts, matched, parts, rows)
        plan = delivery.plan_reports(reports, rows, profiles)
        await store.update_parts(conn, part_changes)
        if fresh:
            await store.add_receipts(
                conn, [{k: v for k, v in r.items() if k != "id"} for r in receipts if r["id"] not in used]
            )
        else:
            await store.remove_receipts(conn, used)
        if plan.changes:
            await delivery.write_plan(ctx, conn, plan)
            finalized = len(plan.changes)
    webhooks.hand_off(ctx, plan.handed, plan.events)
    if fresh and len(used) < len(receipts):
        ctx.wakeups.receipts.set()  # some wait for their parts: the applier looks again
    return finalized


def _match(
    pending: list[Row], matched: list[Row], parts: list[Row], rows: dict[str, Row]
) -> tuple[list[Row], list[DeliveryReport], list[int]]:
    """Part changes, the reports for messages whose fate is now settled, and the receipt ids used."""
    by_key = {(p["connector"], p["carrier_message_id"]): p for p in matched}
    state: dict[tuple[str, int], domain.PartStatus] = {
        (p["message_id"], p["part"]): domain.PartStatus(p["status"], p["error_code"], p["error_detail"]) for p in parts
    }
    changed: dict[tuple[str, int], int] = {}  # part -> time of its latest receipt
    used: list[int] = []
    for receipt in pending:
        part = by_key.get((receipt["connector"], receipt["carrier_message_id"]))
        if part is None:
            continue  # not stored yet (or not ours): stays until its part is, or until purged
        used.append(receipt["id"])
        key = (part["message_id"], part["part"])
        incoming = domain.PartStatus(receipt["status"], receipt["error_code"], receipt["error_detail"])
        merged = domain.merge(state[key], incoming)
        if merged != state[key]:
            state[key] = merged
            changed[key] = receipt["at"]
    part_changes = [
        {
            "message_id": mid,
            "part": n,
            "status": state[(mid, n)].status,
            "error_code": state[(mid, n)].error_code,
            "error_detail": state[(mid, n)].error_detail,
            "at": at,
        }
        for (mid, n), at in changed.items()
    ]
    reports = []
    for mid in {mid for mid, _ in changed}:
        row = rows.get(mid)
        if row is None or row["status"] != "sent":
            continue
        outcome = domain.message_outcome([v for (m, _), v in sorted(state.items()) if m == mid])
        if outcome is None:
            continue
        at = max(t for (m, _), t in changed.items() if m == mid)
        error_code = outcome.error_code or ("40008" if outcome.status in domain.FAILED else None)
        reports.append(
            DeliveryReport(mid, outcome.status, at, error_code=error_code, error_detail=outcome.error_detail)  # type: ignore[arg-type]
        )
    return part_changes, reports, used


async def purge_unmatched(ctx: Context) -> int:
    """Receipts that matched nothing for a whole receipt window (not ours, or long forgotten)."""
    horizon = ctx.now() - ctx.settings.receipt_window_seconds * 1_000_000
    async with ctx.db.transaction() as conn:
        return await store.purge_receipts(conn, horizon)
