"""Lease-based claiming of due work. A lease that expires (its worker died) makes the row claimable again.

On PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED so many workers never take the
same row; on SQLite the write transaction itself is exclusive. A claim is one statement (UPDATE … WHERE
id IN (SELECT … LIMIT n) RETURNING *): one round trip whatever the batch size.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.rows import Row
from heliograph.store import driver
from heliograph.store.tables import messages, webhook_events


async def claim_due_messages(conn: AsyncConnection, now: int, lease_until: int, limit: int) -> list[Row]:
    """Lease up to `limit` messages that are due (queued or scheduled) or whose lease expired while sending."""
    if conn.dialect.name == "sqlite":
        params = {"now": now, "lease_until": lease_until, "limit": limit}
        rows = _SQLITE_CLAIM_MESSAGES.all(await driver.sqlite_connection(conn), params)
    else:
        stmt = _claim_messages(now, lease_until, limit, skip_locked=True)
        rows = [dict(r) for r in (await conn.execute(stmt)).mappings()]
    rows.sort(key=lambda r: r["due_at"])  # RETURNING keeps no order; the earliest due go first
    return rows


def _claim_messages(now: Any, lease_until: Any, limit: Any, *, skip_locked: bool) -> Any:
    # spelled out rather than IN (…): the SQLite form is compiled once, and an IN list renders per execution
    waiting = (messages.c.status == "queued") | (messages.c.status == "scheduled")
    due = or_(
        waiting & (messages.c.due_at <= now),
        (messages.c.status == "sending") & (messages.c.lease_until < now),
    )
    candidates = select(messages.c.id).where(due).order_by(messages.c.due_at).limit(limit)
    if skip_locked:
        candidates = candidates.with_for_update(skip_locked=True)
    return (
        update(messages)
        .where(messages.c.id.in_(candidates.scalar_subquery()))
        .values(status="sending", lease_until=lease_until, submit_attempts=messages.c.submit_attempts + 1)
        .returning(*messages.c)
    )


async def release_message_leases(conn: AsyncConnection, now: int) -> int:
    """Make every `sending` lease expire now (sandbox start-up: no other process can hold one)."""
    result = await conn.execute(update(messages).where(messages.c.status == "sending").values(lease_until=now - 1))
    return result.rowcount or 0


async def claim_due_events(conn: AsyncConnection, now: int, lease_until: int, limit: int) -> list[Row]:
    """Lease up to `limit` webhook events whose next attempt is due."""
    if conn.dialect.name == "sqlite":
        params = {"now": now, "lease_until": lease_until, "limit": limit}
        rows = _SQLITE_CLAIM_EVENTS.all(await driver.sqlite_connection(conn), params)
    else:
        rows = [
            dict(r) for r in (await conn.execute(_claim_events(now, lease_until, limit, skip_locked=True))).mappings()
        ]
    rows.sort(key=lambda r: r["next_attempt_at"])
    return rows


def _claim_events(now: Any, lease_until: Any, limit: Any, *, skip_locked: bool) -> Any:
    due = (
        (webhook_events.c.status == "pending")
        & (webhook_events.c.next_attempt_at <= now)
        & (or_(webhook_events.c.lease_until.is_(None), webhook_events.c.lease_until < now))
    )
    candidates = select(webhook_events.c.id).where(due).order_by(webhook_events.c.next_attempt_at).limit(limit)
    if skip_locked:
        candidates = candidates.with_for_update(skip_locked=True)
    return (
        update(webhook_events)
        .where(webhook_events.c.id.in_(candidates.scalar_subquery()))
        .values(lease_until=lease_until)
        .returning(*webhook_events.c)
    )


# SQLite's claims run on the driver, compiled once (the write transaction itself is the lock)
_SQLITE_CLAIM_MESSAGES = driver.DriverQuery(
    _claim_messages(bindparam("now"), bindparam("lease_until"), bindparam("limit"), skip_locked=False)
)
_SQLITE_CLAIM_EVENTS = driver.DriverQuery(
    _claim_events(bindparam("now"), bindparam("lease_until"), bindparam("limit"), skip_locked=False)
)


async def next_due_at(conn: AsyncConnection, table: str, now: int | None = None) -> int | None:
    """Earliest time anything becomes due, so a worker can sleep exactly until then.

    With `now`, events leased beyond it (attempts in flight) are left out: their next attempt is
    not due yet, and counting them would make the webhook sender poll while a receiver hangs.
    """
    if table == "messages":
        query = select(messages.c.due_at).where(messages.c.status.in_(("queued", "scheduled")))
        query = query.order_by(messages.c.due_at).limit(1)
    else:
        query = select(webhook_events.c.next_attempt_at).where(webhook_events.c.status == "pending")
        if now is not None:
            query = query.where(or_(webhook_events.c.lease_until.is_(None), webhook_events.c.lease_until < now))
        query = query.order_by(webhook_events.c.next_attempt_at).limit(1)
    return (await conn.execute(query)).scalar()


async def release_event_leases(conn: AsyncConnection, now: int) -> int:
    """Make every webhook-event lease expire now (sandbox start-up, as for messages)."""
    result = await conn.execute(
        update(webhook_events).where(webhook_events.c.lease_until.is_not(None)).values(lease_until=now - 1)
    )
    return result.rowcount or 0


async def release_events(conn: AsyncConnection, ids: list[str], now: int) -> None:
    """Make these events' leases expire now (handed to a sender that stopped before it could start them)."""
    if ids:
        await conn.execute(
            update(webhook_events)
            .where(webhook_events.c.id.in_(ids), webhook_events.c.status == "pending")
            .values(lease_until=now - 1)
        )


async def still_held(conn: AsyncConnection, leases: dict[str, int]) -> set[str]:
    """Which of these messages are still `sending` under the lease this worker was given."""
    if not leases:
        return set()
    if conn.dialect.name == "sqlite":
        held = _SQLITE_HELD.all(await driver.sqlite_connection(conn), {"ids": driver.json_list(leases)})
        return {r["id"] for r in held if r["lease_until"] == leases[r["id"]]}
    query = select(messages.c.id, messages.c.lease_until).where(
        messages.c.id.in_(list(leases)), messages.c.status == "sending"
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {mid for mid, lease in (await conn.execute(query)).all() if lease == leases[mid]}


_SQLITE_HELD = driver.DriverQuery(
    select(messages.c.id, messages.c.lease_until).where(
        driver.in_list(messages.c.id, "ids"), messages.c.status == "sending"
    )
)
