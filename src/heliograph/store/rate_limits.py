"""Each API key's rate-limit bucket (rate_limit_buckets), kept as a GCRA theoretical arrival time.

A bucket of `burst` requests refilling one every `interval` µs is a single number: the time `tat` at
which it would be full again. Taking n requests moves it to max(tat, now) + n·interval, allowed while
that stays within `burst` intervals of now. One conditional upsert, so processes take turns on the row.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store.tables import rate_limit_buckets as t


async def take(conn: AsyncConnection, key_hash: str, now: int, count: int, interval: int, window: int) -> int | None:
    """Take `count` requests from the key's bucket: its new tat, or None when they do not fit (nothing taken).

    `window` is the burst in µs (burst × interval); `count` × interval must not exceed it."""
    pg = conn.dialect.name == "postgresql"
    later = func.greatest if pg else func.max  # SQLite's two-argument max() is scalar
    step = count * interval
    moved = later(t.c.tat, literal(now, BigInteger)) + literal(step, BigInteger)
    statement = (postgresql if pg else sqlite).insert(t).values(key_hash=key_hash, tat=now + step)
    statement = statement.on_conflict_do_update(
        index_elements=[t.c.key_hash], set_={"tat": moved}, where=moved <= literal(now + window, BigInteger)
    ).returning(t.c.tat)
    return (await conn.execute(statement)).scalar()


async def tat(conn: AsyncConnection, key_hash: str) -> int | None:
    """The key's bucket as it stands (to tell a refused caller when to come back)."""
    return (await conn.execute(select(t.c.tat).where(t.c.key_hash == key_hash))).scalar()
