"""Metrics rollups: increment counters (upsert, at every width) and read windows back by segments."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from heliograph.domain.rollups import WIDTHS, floor_to
from heliograph.domain.rows import Row
from heliograph.store import driver
from heliograph.store.tables import profile_error_rollups, profile_rollups

COUNTERS = ("attempted", "sent", "delivered", "failed", "received", "spend_micros")


async def _upsert(
    conn: AsyncConnection, table: Table, keys: tuple[str, ...], counters: tuple[str, ...], rows: list[Row]
) -> None:
    """Every state change of every message adds to these counters: the statement is built once per
    dialect, and on SQLite runs on the driver (store/driver.py)."""
    if conn.dialect.name == "sqlite":
        _sqlite_upsert(table, keys, counters).run(await driver.sqlite_connection(conn), rows)
        return
    await conn.execute(_upsert_statement("postgresql", table, keys, counters), rows)


@cache
def _upsert_statement(dialect: str, table: Table, keys: tuple[str, ...], counters: tuple[str, ...]) -> Insert:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table)
    if dialect == "sqlite":  # named parameters for DriverWrite
        stmt = stmt.values({c: bindparam(c) for c in (*keys, *counters)})
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in counters}
    )


@cache
def _sqlite_upsert(table: Table, keys: tuple[str, ...], counters: tuple[str, ...]) -> driver.DriverWrite:
    return driver.DriverWrite(_upsert_statement("sqlite", table, keys, counters))


async def add(conn: AsyncConnection, increments: Iterable[Row]) -> None:
    """Add counter increments; each dict has messaging_profile_id, at (µs), label and some counters."""
    merged: dict[tuple[Any, ...], Row] = {}
    for inc in increments:
        for width in WIDTHS:
            key = (inc["messaging_profile_id"], width, floor_to(inc["at"], width), inc["label"])
            slot = merged.get(key)
            if slot is None:
                slot = merged[key] = dict(
                    zip(("messaging_profile_id", "width", "bucket", "label"), key, strict=True),
                    **dict.fromkeys(COUNTERS, 0),
                )
            for counter in COUNTERS:
                slot[counter] += inc.get(counter, 0)
    if merged:
        keys = ("messaging_profile_id", "width", "bucket", "label")
        await _upsert(conn, profile_rollups, keys, COUNTERS, list(merged.values()))


async def add_errors(conn: AsyncConnection, increments: Iterable[Row]) -> None:
    merged: dict[tuple[Any, ...], int] = {}
    for inc in increments:
        for width in WIDTHS:
            key = (inc["messaging_profile_id"], width, floor_to(inc["at"], width), inc["code"])
            merged[key] = merged.get(key, 0) + 1
    if merged:
        rows = [
            {"messaging_profile_id": p, "width": w, "bucket": b, "code": c, "count": n}
            for (p, w, b, c), n in merged.items()
        ]
        keys = ("messaging_profile_id", "width", "bucket", "code")
        await _upsert(conn, profile_error_rollups, keys, ("count",), rows)


def _in_segments(table: Table, profiles: list[str], segments: list[tuple[int, int, int]]) -> ColumnElement[bool]:
    # the profile test sits inside every OR arm so SQLite searches the key (profile, width, bucket) once
    # per arm; with it outside, SQLite used only the profile prefix and read all of a profile's rows
    return or_(
        *[
            and_(
                table.c.messaging_profile_id.in_(profiles),
                table.c.width == w,
                table.c.bucket >= lo,
                table.c.bucket < hi,
            )
            for w, lo, hi in segments
        ]
    )


async def totals(conn: AsyncConnection, profile_ids: list[str], segments: list[tuple[int, int, int]]) -> dict[str, Row]:
    """Counter sums per profile over the window the segments cover."""
    if not profile_ids or not segments:
        return {}
    t = profile_rollups
    query = (
        select(t.c.messaging_profile_id, *[func.sum(t.c[c]).label(c) for c in COUNTERS])
        .where(_in_segments(t, profile_ids, segments))
        .group_by(t.c.messaging_profile_id)
    )
    return {r["messaging_profile_id"]: dict(r) for r in (await conn.execute(query)).mappings()}


async def rows(conn: AsyncConnection, profile_id: str, segments: list[tuple[int, int, int]]) -> list[Row]:
    """The rollup rows of one profile that make up the window (for time series)."""
    if not segments:
        return []
    t = profile_rollups
    query = select(t).where(_in_segments(t, [profile_id], segments))
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def errors(conn: AsyncConnection, profile_id: str, segments: list[tuple[int, int, int]]) -> dict[str, int]:
    if not segments:
        return {}
    t = profile_error_rollups
    query = select(t.c.code, func.sum(t.c.count)).where(_in_segments(t, [profile_id], segments)).group_by(t.c.code)
    return {code: int(n) for code, n in (await conn.execute(query)).all()}
