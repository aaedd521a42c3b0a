"""Idempotency keys: the stored first response of a send, replayed for 24 hours."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store.tables import idempotency_keys

Row = dict[str, Any]


async def find(conn: AsyncConnection, org_id: str, method: str, path: str, key: str, not_before: int) -> Row | None:
    t = idempotency_keys
    query = select(t).where(
        t.c.organization_id == org_id,
        t.c.method == method,
        t.c.path == path,
        t.c.key == key,
        t.c.created_at >= not_before,
    )
    row = (await conn.execute(query)).mappings().first()
    return dict(row) if row is not None else None


async def purge(conn: AsyncConnection, before: int) -> int:
    result = await conn.execute(idempotency_keys.delete().where(idempotency_keys.c.created_at < before))
    return result.rowcount or 0
