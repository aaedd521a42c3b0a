"""What a metrics scrape reads from the database: work waiting, counted through the status indexes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store.tables import messages, webhook_events

# queue name -> (table, status); each count walks one index range (ix_*_status_*)
QUEUES = {
    "queued": (messages, "queued"),
    "sending": (messages, "sending"),
    "scheduled": (messages, "scheduled"),
    "webhooks": (webhook_events, "pending"),
}


async def queue_depth(conn: AsyncConnection) -> dict[str, int]:
    """Messages queued, being submitted and scheduled; webhook events still owed."""
    depth = {}
    for name, (table, status) in QUEUES.items():
        query = select(func.count()).select_from(table).where(table.c.status == status)
        depth[name] = int((await conn.execute(query)).scalar_one())
    return depth
