"""Metrics rollups: increment counters (upsert) and read windows back with one grouped query."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.store.tables import profile_error_rollups, profile_rollups

Row = dict[str, Any]
COUNTERS = ("attempted", "sent", "delivered", "failed", "received", "spend_micros")


def _upsert(conn: AsyncConnection, table, keys: tuple[str, ...], counters: tuple[str, ...]):  # noqa: ANN001, ANN202
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in counters}
    )


async def add(conn: AsyncConnection, increments: Iterable[Row]) -> None:
    """Add counter increments; each dict has messaging_profile_id, bucket, label and some counters."""
    merged: dict[tuple, Row] = {}
    for inc in increments:
        key = (inc["messaging_profile_id"], inc["bucket"], inc["label"])
        slot = merged.setdefault(
            key,
            {"messaging_profile_id": key[0], "bucket": key[1], "label": key[2], **dict.fromkeys(COUNTERS, 0)},
        )
        for counter in COUNTERS:
            slot[counter] += inc.get(counter, 0)
    if merged:
        await conn.execute(
            _upsert(conn, profile_rollups, ("messaging_profile_id", "bucket", "label"), COUNTERS),
            list(merged.values()),
        )


async def add_errors(conn: AsyncConnection, increments: Iterable[Row]) -> None:
    merged: dict[tuple, int] = {}
    for inc in increments:
        key = (inc["messaging_profile_id"], inc["bucket"], inc["code"])
        merged[key] = merged.get(key, 0) + 1
    if merged:
        rows = [
            {"messaging_profile_id": p, "bucket": b, "code": c, "count": n} for (p, b, c), n in merged.items()
        ]
        await conn.execute(
            _upsert(conn, profile_error_rollups, ("messaging_profile_id", "bucket", "code"), ("count",)), rows
        )


async def totals(conn: AsyncConnection, profile_ids: list[str], since: int) -> dict[str, Row]:
    """Counter sums per profile since `since`."""
    t = profile_rollups
    query = (
        select(t.c.messaging_profile_id, *[func.sum(t.c[c]).label(c) for c in COUNTERS])
        .where(t.c.messaging_profile_id.in_(profile_ids), t.c.bucket >= since)
        .group_by(t.c.messaging_profile_id)
    )
    return {r["messaging_profile_id"]: dict(r) for r in (await conn.execute(query)).mappings()}


async def series(conn: AsyncConnection, profile_id: str, since: int, width: int) -> list[Row]:
    """Counter sums per (bucket of `width` µs, label), oldest first."""
    t = profile_rollups
    start = (t.c.bucket - since) // width * width + since
    query = (
        select(start.label("start"), t.c.label, *[func.sum(t.c[c]).label(c) for c in COUNTERS])
        .where(t.c.messaging_profile_id == profile_id, t.c.bucket >= since)
        .group_by("start", t.c.label)
        .order_by("start", t.c.label)
    )
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def errors(conn: AsyncConnection, profile_id: str, since: int) -> dict[str, int]:
    t = profile_error_rollups
    query = (
        select(t.c.code, func.sum(t.c.count))
        .where(t.c.messaging_profile_id == profile_id, t.c.bucket >= since)
        .group_by(t.c.code)
    )
    return {code: int(n) for code, n in (await conn.execute(query)).all()}
