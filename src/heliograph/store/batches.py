"""The group commit's inserts (services/committer.py): the rows of a batch of sends, table by table.

The committer decides what goes in a batch (pacing, spend limits, retries one by one); this module
writes it. Its errors are SQLAlchemy's, named here so the committer can tell them apart without
importing SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from heliograph.domain.rows import Row
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
        await conn.execute(table.insert(), table_rows)


def is_message(table: Table) -> bool:
    return table is messages
