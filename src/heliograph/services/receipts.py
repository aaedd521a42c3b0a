"""Receipts from carrier links, matched by the carrier's id for each part.

A link hands receipts to `record`, which stores them and returns; only then does the link acknowledge
(SMPP deliver_sm_resp), so a crash loses none. `apply_pending` then matches stored receipts to stored
parts and, when a message's parts settle its fate, finalizes it with its `message.finalized` webhook in
one transaction that also removes the receipts it used. A receipt that overtakes the `sent` commit
(its part is not stored yet) simply waits in the table until the parts are.
"""

from __future__ import annotations

import logging
from typing import Any

from heliograph.carriers.base import CarrierReceipt, DeliveryReport
from heliograph.domain import receipts as domain
from heliograph.services import delivery
from heliograph.services.context import Context
from heliograph.store import accounts
from heliograph.store import carriers as store
from heliograph.store import messages as messages_store

logger = logging.getLogger(__name__)

Row = dict[str, Any]
PAGE = 500


async def record(ctx: Context, items: list[CarrierReceipt]) -> None:
    """Store receipts durably (the link acknowledges once this returns) and wake the applier."""
    if not items:
        return
    now = ctx.now()
    rows = [
        {
            "connector": r.connector,
            "carrier_message_id": r.carrier_message_id,
            "status": r.status,
            "at": r.at_us,
            "error_code": r.error_code,
            "error_detail": r.error_detail,
            "received_at": now,
        }
        for r in items
    ]
    async with ctx.db.transaction() as conn:
        await store.add_receipts(conn, rows)
    ctx.wakeups.receipts.set()


async def apply_pending(ctx: Context, received_after: int = 0) -> int:
    """Apply every stored receipt whose part is known; returns how many messages reached a final state."""
    after, finalized = 0, 0
    while True:
        async with ctx.db.read() as conn:
            pending = await store.pending_receipts(conn, after, received_after, PAGE)
            if not pending:
                return finalized
            after = pending[-1]["id"]
            keys = {(r["connector"], r["carrier_message_id"]) for r in pending}
            matched = await store.parts_by_carrier_ids(conn, keys)
            message_ids = sorted({p["message_id"] for p in matched})
            parts = await store.parts_of(conn, message_ids)
            rows = {r["id"]: r for r in await messages_store.get_messages(conn, message_ids)}
            profiles = await accounts.profiles_by_ids(conn, {r["messaging_profile_id"] for r in rows.values()})
        part_changes, reports, used = _match(pending, matched, parts, rows)
        if used:
            plan = delivery.plan_reports(reports, rows, profiles)
            async with ctx.db.transaction() as conn:
                await store.update_parts(conn, part_changes)
                await store.remove_receipts(conn, used)
                if plan.changes:
                    await delivery.write_plan(ctx, conn, plan)
            finalized += len(plan.changes)
            if plan.events:
                ctx.wakeups.webhooks.set()
        if len(pending) < PAGE:
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
            DeliveryReport(mid, outcome.status, at, error_code=error_code, error_detail=outcome.error_detail)
        )
    return part_changes, reports, used


async def purge_unmatched(ctx: Context) -> int:
    """Receipts that matched nothing for a whole receipt window (not ours, or long forgotten)."""
    horizon = ctx.now() - ctx.settings.receipt_window_seconds * 1_000_000
    async with ctx.db.transaction() as conn:
        return await store.purge_receipts(conn, horizon)
