"""Virtual handsets of the sandbox: what each one received, for tests and people to look at."""

from __future__ import annotations

from typing import Any

from heliograph.services import views
from heliograph.services.context import Context
from heliograph.store import messages as store


async def inbox(ctx: Context, org_id: str, handset: str, limit: int = 1000) -> list[dict[str, Any]]:
    async with ctx.db.read() as conn:
        rows = await store.handset_inbox(conn, org_id, handset, limit)
    return [views.handset_message(r) for r in rows]


async def clear(ctx: Context, org_id: str, handset: str) -> int:
    async with ctx.db.transaction() as conn:
        return await store.clear_handset(conn, org_id, handset)
