"""The group commit's inserts (services/committer.py): the rows of a batch of sends, table by table.

The committer decides what goes in a batch (pacing, spend limits, retries one by one); this module
writes it. Its errors are SQLAlchemy's, named here so the committer can tell them apart without
importing SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, literal
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.rows import Row
from heliograph.store import driver
from heliograph.store.tables import messages, short_links

MESSAGES: Table = messages
SHORT_LINKS: Table = short_links

DatabaseError = DBAPIError  # `connection_invalidated`: the server dropped a pooled connection
DuplicateRow = IntegrityError  # a key (an Idempotency-Key, a primary key) committed meanwhile

__all__ = ["MESSAGES", "SHORT_LINKS", "DatabaseError", "DuplicateRow", "Table", "insert_rows", "is_message"]


async def insert_rows(conn: AsyncConnection, rows: Iterable[tuple[Table, Row]]) -> None:
    """Insert `rows`, one executemany per table, tables in the order they first appear."""
    by_table: dict[Table, list[Row]] = {}
    for table, row in rows:
        by_table.setdefault(table, []).append(row)
    for table, table_rows in by_table.items():
        if table is messages and conn.dialect.name == "sqlite":
            await _insert_messages_on_driver(conn, table_rows)
        else:
            await conn.execute(table.insert(), table_rows)


async def _insert_messages_on_driver(conn: AsyncConnection, rows: list[Row]) -> None:
    """Every accepted message is one of these rows: on SQLite they skip SQLAlchemy's per-row parameter
    processing (store/driver.py). A constraint violation still surfaces as DuplicateRow."""
    keys = tuple(rows[0])
    try:
        _message_insert(keys).run(await driver.sqlite_connection(conn), rows)
    except sqlite3.IntegrityError as exc:
        raise IntegrityError("INSERT INTO messages", None, exc) from exc


@cache
def _message_insert(keys: tuple[str, ...]) -> driver.DriverWrite:
    """Columns the rows leave out take their scalar defaults, as SQLAlchemy's insert would."""
    defaults = {
        c.name: cast(Any, c.default).arg
        for c in messages.c
        if c.name not in keys and c.default is not None and c.default.is_scalar
    }
    values = {k: bindparam(k) for k in keys} | {k: literal(v) for k, v in defaults.items()}
    return driver.DriverWrite(messages.insert().values(values))


def is_message(table: Table) -> bool:
    return table is messages
