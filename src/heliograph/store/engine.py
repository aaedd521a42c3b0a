"""Database engines: SQLite in WAL mode for the sandbox, PostgreSQL for the gateway.

`Database` hands out write transactions and read connections. On SQLite they come from two engines:
writers open with BEGIN IMMEDIATE (so two writers queue on busy_timeout instead of failing on a lock
upgrade), readers stay deferred and run beside the writer thanks to WAL.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def normalise_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


class InlineSQLiteConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the event-loop thread instead of its worker thread.

    SQLite answers our statements in microseconds (WAL, no fsync per commit), while handing each one to
    a thread and back costs more than that, plus GIL contention. Writers are serialised by
    Database's lock, so in this process nothing waits on SQLite's own lock.
    """

    async def _execute(self, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def _sqlite_path(url: str) -> str:
    return url.split(":///", 1)[1] if ":///" in url else ":memory:"


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    # every pooled connection is a thread (aiosqlite); keep them, rather than open and close overflow
    # ones under load. Writers queue on the write lock anyway, so two are plenty. Readers run in
    # autocommit (each statement its own snapshot): no BEGIN/ROLLBACK round trips to the thread.
    path = _sqlite_path(url)

    async def connect() -> aiosqlite.Connection:
        connection = InlineSQLiteConnection(lambda: sqlite3.connect(path, check_same_thread=False), 64)
        connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite connect does: never block exit
        return await connection

    engine = create_async_engine(
        url,
        async_creator=connect,
        pool_size=2 if immediate else 16,
        max_overflow=0,
        pool_timeout=60,
        pool_reset_on_return="rollback" if immediate else None,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (SQLAlchemy pysqlite recipe)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash; only an OS crash can lose the last commits
        cursor.execute("PRAGMA synchronous=NORMAL")
        # writers never wait inside SQLite (that would block the event loop): a busy BEGIN IMMEDIATE fails
        # at once and Database.transaction retries it with an asyncio sleep. Readers (WAL) rarely wait.
        cursor.execute(f"PRAGMA busy_timeout={0 if immediate else 2000}")
        cursor.close()

    if immediate:

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.sqlite = is_sqlite(self.url)
        # SQLite has one writer at a time. Queueing writers here, in order, is far cheaper than letting
        # them collide on the file lock, whose busy handler backs off by sleeping up to 100 ms.
        self._write_lock = asyncio.Lock() if self.sqlite else None
        self._lock_path = _sqlite_path(self.url) + ".writelock" if self.sqlite else None
        self._lock_file = None
        if self.sqlite:
            self.writer = _sqlite_engine(self.url, immediate=True)
            self.reader = _sqlite_engine(self.url, immediate=False)
        else:
            self.writer = create_async_engine(self.url, pool_size=10, max_overflow=10, pool_pre_ping=True)
            self.reader = self.writer

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        if self._write_lock is None:
            async with self.writer.begin() as conn:
                yield conn
            return
        async with self._write_lock, contextlib.AsyncExitStack() as stack:
            await self._lock_across_processes(stack)
            conn = await self._begin_immediate(stack)
            yield conn

    async def _lock_across_processes(self, stack: contextlib.AsyncExitStack) -> None:
        """Take the data directory's write lock file, so the API process, the worker process and CLI
        commands take turns in the order they asked (the kernel wakes a waiter when it is released)
        instead of polling SQLite's lock, where a busy process can starve the others."""
        if self._lock_path is None or self._lock_path.startswith(":memory:"):
            return
        if self._lock_file is None:
            self._lock_file = open(self._lock_path, "a+")  # noqa: SIM115 - kept for the Database's life
        fd = self._lock_file.fileno()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        stack.callback(fcntl.flock, fd, fcntl.LOCK_UN)

    async def _begin_immediate(self, stack: contextlib.AsyncExitStack) -> AsyncConnection:
        """BEGIN IMMEDIATE, waiting (without blocking the loop) while another process holds the write lock."""
        delay = 0.001
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            try:
                return await stack.enter_async_context(self.writer.begin())
            except OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if asyncio.get_running_loop().time() > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.02)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads. On SQLite each statement sees the latest commit (autocommit)."""
        if not self.sqlite:
            async with self.reader.begin() as conn:
                yield conn
            return
        async with self.reader.connect() as conn:
            yield conn

    async def dispose(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
