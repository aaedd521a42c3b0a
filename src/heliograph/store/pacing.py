"""Each sender's next free send slot (pacing_slots), advanced atomically so every process shares it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, bindparam, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store import driver
from heliograph.store.tables import pacing_slots as t


async def advance(conn: AsyncConnection, sender: str, now: int, count: int, interval: int) -> int:
    """Take `count` consecutive slots of `interval` µs, starting no earlier than `now`: the first one's time.

    One statement, so transactions of other processes pacing the same sender take turns on its row;
    the second one starts where the first one ended."""
    step = count * interval
    params = {"sender": sender, "now": now, "step": step}
    if conn.dialect.name == "sqlite":  # every group commit runs it: on the driver, built once
        rows = _SQLITE_ADVANCE.all(await driver.sqlite_connection(conn), params)
        end: int = rows[0]["next_free"]
    else:
        end = (await conn.execute(_PG_ADVANCE, params)).scalar_one()
    return end - step


def _advance_statement(dialect: Any, later: Any) -> Any:
    now, step = bindparam("now", type_=BigInteger), bindparam("step", type_=BigInteger)
    return (
        dialect.insert(t)
        .values(sender=bindparam("sender"), next_free=now + step)
        .on_conflict_do_update(index_elements=[t.c.sender], set_={"next_free": later(t.c.next_free, now) + step})
        .returning(t.c.next_free)
    )


_PG_ADVANCE = _advance_statement(postgresql, func.greatest)
_SQLITE_ADVANCE = driver.DriverQuery(_advance_statement(sqlite, func.max))  # SQLite's two-argument max() is scalar


async def give_back(conn: AsyncConnection, sender: str, end: int, count: int, interval: int) -> None:
    """Return the last `count` slots taken up to `end` (refused sends), in the same transaction."""
    await conn.execute(
        update(t).where(t.c.sender == sender, t.c.next_free == end).values(next_free=end - count * interval)
    )
