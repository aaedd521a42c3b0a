"""Attempts made outside the webhook sender's loop (`listen` forwards, replays), logged like its own."""

from __future__ import annotations

from sqlalchemy import case, func, update
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.rows import Row
from heliograph.store.tables import webhook_attempts, webhook_events


async def add_attempt(conn: AsyncConnection, org_id: str, attempt: Row, *, settles: bool) -> Row | None:
    """Log one attempt of the organization's event; None if there is no such event.

    The attempt number is taken in the same statement that counts it, so it is unique even while the
    sender works on the event. An event without URLs (`no_url`) takes the attempt's end as its own;
    `settles`: a delivered attempt ends a `failed` event as `delivered` (a successful replay)."""
    e = webhook_events.c
    finished = attempt["finished_at"]
    values: Row = {
        "attempts": e.attempts + 1,
        "first_attempt_at": func.coalesce(e.first_attempt_at, attempt["started_at"]),
        "finished_at": case((e.status == "no_url", finished), else_=e.finished_at),
    }
    if settles and attempt["delivered"]:
        values["status"] = case((e.status == "failed", "delivered"), else_=e.status)
        values["finished_at"] = case((e.status.in_(("failed", "no_url")), finished), else_=e.finished_at)
    stmt = update(webhook_events).where(e.id == attempt["event_id"], e.organization_id == org_id).values(**values)
    row = (await conn.execute(stmt.returning(e.attempts))).first()
    if row is None:
        return None
    stored = {**attempt, "attempt": int(row[0])}
    await conn.execute(webhook_attempts.insert(), [stored])
    return stored
