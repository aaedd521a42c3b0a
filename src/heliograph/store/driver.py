"""Hot-path reads on the database's own driver (sqlite3, asyncpg), with the SQL SQLAlchemy compiles for us.

A query through SQLAlchemy's async engine costs ~100 µs of Python (pool checkout, greenlet hand-off,
execution context, result rows) around ~10 µs of SQLite. On the send path that overhead was a third
of the time spent accepting a message, so the few queries on it run here instead: compiled once from
the same SQLAlchemy statement (so the SQL cannot drift from the schema), executed on a plain
`sqlite3` connection in autocommit mode, rows decoded with the column types' rules (JSON, booleans).

On PostgreSQL the same query runs on a small asyncpg pool of its own (PgQuery): the statement is
prepared once per connection, so a lookup is one round trip, where a pooled SQLAlchemy read cost four
(pre-ping, BEGIN, the query, COMMIT). The pool skips asyncpg's reset on release (another round trip):
its connections only ever run these read-only statements, outside any transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, text
from sqlalchemy import column as sql_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Select

from heliograph.domain.rows import Row


def _decoder(column_type: Any) -> Callable[[Any], Any] | None:
    if isinstance(column_type, JSON):
        return lambda v: None if v is None else orjson.loads(v)
    if isinstance(column_type, Boolean):
        return lambda v: None if v is None else bool(v)
    return None


class DriverQuery:
    """A SELECT (or an UPDATE … RETURNING) compiled once for SQLite; run with named parameters, rows come
    back as dicts."""

    def __init__(self, statement: Any) -> None:
        compiled = statement.compile(dialect=sqlite.dialect())
        self.sql = str(compiled)
        self._order = list(compiled.positiontup or [])
        # literal values in the statement (a status, + 1, OFFSET 0) travel as parameters of their own
        self._fixed = {n: b.value for n, b in compiled.binds.items() if not b.required and n in self._order}
        columns = list(statement.exported_columns)
        self._names = [c.name for c in columns]
        self._decoders = [(i, d) for i, c in enumerate(columns) if (d := _decoder(c.type))]

    def all(self, connection: sqlite3.Connection, params: Mapping[str, Any]) -> list[Row]:
        fixed = self._fixed
        values_in = [fixed[name] if name in fixed else params[name] for name in self._order]
        rows = connection.execute(self.sql, values_in).fetchall()
        out = []
        for raw in rows:
            values = list(raw)
            for i, decode in self._decoders:
                values[i] = decode(values[i])
            out.append(dict(zip(self._names, values, strict=True)))
        return out

    def first(self, connection: sqlite3.Connection, params: Mapping[str, Any]) -> Row | None:
        rows = self.all(connection, params)
        return rows[0] if rows else None


def in_list(column: Any, name: str) -> Any:
    """`column IN (the JSON array bound as :name)`: one SQL text whatever the list's length, so SQLite
    prepares it once (bind `json_list(values)`)."""
    return column.in_(text(f"SELECT value FROM json_each(:{name})").columns(sql_column("value")))


def json_list(values: Any) -> str:
    return orjson.dumps(list(values)).decode()


def _encoder(column_type: Any) -> Callable[[Any], Any] | None:
    if isinstance(column_type, JSON):
        return lambda v: None if v is None else orjson.dumps(v).decode()
    if isinstance(column_type, Boolean):
        return lambda v: None if v is None else int(bool(v))
    return None


class DriverWrite:
    """An INSERT or UPDATE compiled once for SQLite, run with executemany on the write transaction's own
    sqlite3 connection (`sqlite_connection`). The worker writes a few rows per message in batches of
    dozens; through SQLAlchemy each row cost ~30 µs of parameter processing around a few µs of SQLite.
    Values are encoded by the bound columns' types (JSON as text, booleans as 0/1); the statement names
    every parameter it needs, so a missing key fails loudly instead of writing a default."""

    def __init__(self, statement: Any) -> None:
        compiled = statement.compile(dialect=sqlite.dialect())
        self.sql = str(compiled)
        self._order = list(compiled.positiontup or [])
        self._encoders = [(i, e) for i, name in enumerate(self._order) if (e := _encoder(compiled.binds[name].type))]
        # literal values in the statement (a default, NULL) travel as parameters of their own
        self._fixed = {n: b.value for n, b in compiled.binds.items() if not b.required and n in self._order}

    def run(self, connection: sqlite3.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        order, encoders, fixed = self._order, self._encoders, self._fixed
        params = []
        for row in rows:
            values = [fixed[k] if k in fixed else row[k] for k in order]
            for i, encode in encoders:
                values[i] = encode(values[i])
            params.append(values)
        connection.executemany(self.sql, params)


async def sqlite_connection(conn: Any) -> sqlite3.Connection:
    """The sqlite3 connection under an AsyncConnection of the SQLite engine, for DriverWrite inside the
    same transaction (aiosqlite runs it on the event loop's thread here: store/engine.py)."""
    raw = await conn.get_raw_connection()
    return raw.driver_connection._connection  # type: ignore[no-any-return]


def connect_reader(path: str) -> sqlite3.Connection:
    """A read-only, autocommit connection: each statement sees the latest commit (WAL)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout=2000")
    return connection


class PgQuery:
    """A SELECT compiled once for asyncpg ($1, $2 …); run on a pool, the row comes back as a dict."""

    def __init__(self, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=postgresql.asyncpg.dialect())  # type: ignore[no-untyped-call]
        self.sql = str(compiled)
        self._order = list(compiled.positiontup or [])
        self._names = [c.name for c in statement.selected_columns]
        self._decoders = [(i, d) for i, c in enumerate(statement.selected_columns) if (d := _decoder(c.type))]

    async def first(self, pool: Any, params: Mapping[str, Any]) -> Row | None:
        raw = await pool.fetchrow(self.sql, *[params[name] for name in self._order])
        if raw is None:
            return None
        values = list(raw.values())
        for i, decode in self._decoders:
            values[i] = decode(values[i])
        return dict(zip(self._names, values, strict=True))


async def _no_reset(connection: Any) -> None:
    """The fast pool's connections hold no session state to reset (read-only statements, no transaction)."""


async def connect_pg_reader(url: str, size: int) -> Any:
    """The asyncpg pool PgQuery runs on."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return await asyncpg.create_pool(dsn, min_size=1, max_size=size, reset=_no_reset)
