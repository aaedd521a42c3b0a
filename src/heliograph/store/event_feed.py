"""Queries of the event feed: an organization's webhook events in commit order (cursor = (txid, seq)).

See migration 0006: on PostgreSQL a row is only read once every older transaction has ended, so a
cursor never moves past a row that commits later; on SQLite writers take turns and txid is 0.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.rows import Row
from heliograph.store.tables import organizations, webhook_events

Cursor = tuple[int, int]

_XMIN = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


def _visible(conn: AsyncConnection) -> ColumnElement[bool]:
    """Rows whose transaction, and every older one, has ended (always true on SQLite)."""
    if conn.dialect.name == "postgresql":
        return webhook_events.c.txid < literal_column(_XMIN)
    return true()


async def events_after(
    conn: AsyncConnection, org_id: str, after: Cursor, limit: int, event_types: list[str] | None = None
) -> list[Row]:
    """The organization's next events after `after`, oldest first."""
    e = webhook_events.c
    txid, seq = after
    where = [
        e.organization_id == org_id,
        or_(e.txid > txid, and_(e.txid == txid, e.seq > seq)),
        _visible(conn),
    ]
    if event_types:
        where.append(e.event_type.in_(event_types))
    query = select(webhook_events).where(*where).order_by(e.txid, e.seq).limit(limit)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def last_cursor(conn: AsyncConnection, org_id: str) -> Cursor:
    """Cursor of the organization's newest readable event ((0, 0) when there is none)."""
    e = webhook_events.c
    query = (
        select(e.txid, e.seq)
        .where(e.organization_id == org_id, e.seq.is_not(None), _visible(conn))
        .order_by(e.txid.desc(), e.seq.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def global_head(conn: AsyncConnection) -> tuple[Any, ...]:
    """Changes whenever new events may have become readable, for any organization (cheap: one index probe)."""
    newest = select(func.max(webhook_events.c.seq)).scalar_subquery()
    if conn.dialect.name == "postgresql":
        return tuple((await conn.execute(select(newest, literal_column(_XMIN)))).one())
    return ((await conn.execute(select(newest))).scalar(),)


async def signing_seed(conn: AsyncConnection, org_id: str) -> str | None:
    query = select(organizations.c.signing_seed).where(organizations.c.id == org_id)
    return (await conn.execute(query)).scalar()
