"""Each sender's next free send slot (pacing_slots), advanced atomically so every process shares it."""

from __future__ import annotations

from sqlalchemy import BigInteger, func, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store.tables import pacing_slots as t


async def advance(conn: AsyncConnection, sender: str, now: int, count: int, interval: int) -> int:
    """Take `count` consecutive slots of `interval` µs, starting no earlier than `now`: the first one's time.

    One statement, so transactions of other processes pacing the same sender take turns on its row;
    the second one starts where the first one ended."""
    pg = conn.dialect.name == "postgresql"
    later = func.greatest if pg else func.max  # SQLite's two-argument max() is scalar
    step = count * interval
    statement = (postgresql if pg else sqlite).insert(t).values(sender=sender, next_free=now + step)
    statement = statement.on_conflict_do_update(
        index_elements=[t.c.sender],
        set_={"next_free": later(t.c.next_free, literal(now, BigInteger)) + literal(step, BigInteger)},
    ).returning(t.c.next_free)
    end: int = (await conn.execute(statement)).scalar_one()
    return end - step


async def give_back(conn: AsyncConnection, sender: str, end: int, count: int, interval: int) -> None:
    """Return the last `count` slots taken up to `end` (refused sends), in the same transaction."""
    await conn.execute(
        update(t).where(t.c.sender == sender, t.c.next_free == end).values(next_free=end - count * interval)
    )
