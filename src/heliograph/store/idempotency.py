"""Idempotency keys: the stored first response of a send, replayed for 24 hours."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.rows import Row
from heliograph.store.tables import idempotency_keys


@dataclass(slots=True)
class NewKey:
    """The record a send commits with its message: its response is rendered by the group committer,
    once the message's send slot is known (services/committer.py)."""

    organization_id: str
    method: str
    path: str
    key: str
    request_hash: str
    created_at: int
    expired_before: int  # an older record of the same key has expired: the new one replaces it
    response_status: int = 200
    response_body: str | None = None


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


async def delete_expired(conn: AsyncConnection, keys: list[NewKey]) -> None:
    """Drop the expired records of these keys, so they do not block the new ones."""
    t = idempotency_keys
    for key in keys:
        await conn.execute(
            t.delete().where(
                t.c.organization_id == key.organization_id,
                t.c.method == key.method,
                t.c.path == key.path,
                t.c.key == key.key,
                t.c.created_at < key.expired_before,
            )
        )


async def insert(conn: AsyncConnection, keys: list[NewKey]) -> None:
    """Store the new records; a key committed meanwhile by another request raises IntegrityError."""
    await conn.execute(
        idempotency_keys.insert(),
        [
            {
                "organization_id": k.organization_id,
                "method": k.method,
                "path": k.path,
                "key": k.key,
                "request_hash": k.request_hash,
                "response_status": k.response_status,
                "response_body": k.response_body,
                "created_at": k.created_at,
            }
            for k in keys
        ],
    )
