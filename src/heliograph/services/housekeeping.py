"""Housekeeping: the periodic safety nets of invariant 3, and clean-up, as use cases.

`recover_after_restart` frees what a dead sole process left leased; `run_once` is one round of the
background checks every worker process runs every few seconds.
"""

from __future__ import annotations

import logging

from heliograph.services import delivery, receipts
from heliograph.services.carrier_links import CarrierLinks
from heliograph.services.context import Context
from heliograph.store import claims, idempotency

logger = logging.getLogger(__name__)

# receipts owed this long are offered to the carrier again, in case the process that held them died
STALE_RECEIPT_US = 5_000_000


async def recover_after_restart(ctx: Context) -> int:
    """The sandbox runs one worker process per data directory, so leases left behind are a dead one's."""
    async with ctx.db.transaction() as conn:
        released = await claims.release_message_leases(conn, ctx.now())
        await claims.release_event_leases(conn, ctx.now())
    if released:
        logger.info("released leases of a previous run", extra={"action": "recover", "messages": released})
    return released


async def run_once(ctx: Context, links: CarrierLinks) -> None:
    await delivery.expire_overdue_receipts(ctx)
    await delivery.resume_in_flight(ctx, links, sent_before=ctx.now() - STALE_RECEIPT_US, limit=1000)
    await receipts.apply_pending(ctx)  # also those another process stored and did not apply
    await receipts.purge_unmatched(ctx)
    horizon = ctx.now() - int(ctx.settings.idempotency_ttl_hours * 3600 * 1_000_000)
    async with ctx.db.transaction() as conn:
        await idempotency.purge(conn, horizon)
