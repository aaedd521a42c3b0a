"""Each messaging profile's spend of the current UTC day (profile_daily_spend), charged atomically."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store.tables import profile_daily_spend as t


def _insert(conn: AsyncConnection) -> Any:  # the dialect's INSERT … ON CONFLICT
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(t)


async def charge(conn: AsyncConnection, profile_id: str, day: int, cost: int, limit: int) -> int | None:
    """Add `cost` to the day's spend unless the total would pass `limit`: the new total, or None (refused).

    One statement, so two transactions charging the same profile (other processes, PostgreSQL) take
    turns on its row and the second sees the first's total."""
    if cost > limit:
        return None
    statement = _insert(conn).values(messaging_profile_id=profile_id, day=day, spend_micros=cost)
    statement = statement.on_conflict_do_update(
        index_elements=[t.c.messaging_profile_id, t.c.day],
        set_={"spend_micros": t.c.spend_micros + cost},
        where=t.c.spend_micros + cost <= limit,
    ).returning(t.c.spend_micros)
    return (await conn.execute(statement)).scalar()


async def mark_reached(conn: AsyncConnection, profile_id: str, day: int, now: int) -> int | None:
    """Note that the day's limit was reached: the day's spend the first time, None after that."""
    statement = _insert(conn).values(messaging_profile_id=profile_id, day=day, spend_micros=0, limit_reached_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[t.c.messaging_profile_id, t.c.day],
        set_={"limit_reached_at": now},
        where=t.c.limit_reached_at.is_(None),
    ).returning(t.c.spend_micros)
    return (await conn.execute(statement)).scalar()
