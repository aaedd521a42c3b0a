"""Database engines: SQLite in WAL mode for the sandbox, PostgreSQL for the gateway.

`Database` hands out write transactions and read connections. On SQLite they come from two engines:
writers open with BEGIN IMMEDIATE (so two writers queue on busy_timeout instead of failing on a lock
upgrade), readers stay deferred and run beside the writer thanks to WAL.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import IO, Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from heliograph.store import driver

# what services annotate a transaction's (or a read's) connection with: they pass it to store/ functions
Connection = AsyncConnection

PG_READER_CONNECTIONS = 4  # the send path's lookups take well under a millisecond each


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

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


# Rows per background write transaction (dispatch, receipts, webhook bookkeeping). SQLite has one
# writer: the API's group commit waits for the background transaction in progress, so short ones
# keep acceptance fast (measured: 50 rows beat 25, 100 and 200 by 15-35 % in bench/send_bench.py).
BACKGROUND_BATCH = 50

AUTOCHECKPOINT_PAGES = 20_000  # ~80 MB of WAL


class WalCheckpointer:
    """Copies the WAL back into the database file from a thread of its own, every `interval` seconds.

    SQLite's automatic checkpoint runs inside whichever commit crosses the threshold: on the event
    loop, holding the write lock, with an fsync of the database file. A PASSIVE checkpoint from
    another connection runs beside the writers instead (WAL lets it) and releases the GIL while it works.
    Once a second rather than four times: a page rewritten many times in between is copied once (the
    checkpointer's CPU fell from ~7 % of the worker process's to ~2 %), and a second of WAL is a few MB.
    """

    def __init__(self, path: str, interval: float = 1.0) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        try:
            connection.execute("PRAGMA busy_timeout=1000")
            while not self._stop.wait(self._interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # busy or locked now: the next round tries again
                    continue
        finally:
            connection.close()


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
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (SQLAlchemy pysqlite recipe)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash; only an OS crash can lose the last commits
        cursor.execute("PRAGMA synchronous=NORMAL")
        # writers never wait inside SQLite (that would block the event loop): a busy BEGIN IMMEDIATE fails
        # at once and Database.transaction retries it with an asyncio sleep. Readers (WAL) rarely wait.
        cursor.execute(f"PRAGMA busy_timeout={0 if immediate else 2000}")
        # checkpoints are the WAL checkpointer thread's job (it fsyncs off the event loop and outside
        # the write lock); this high mark only guards against a WAL growing without bound when no
        # checkpointer runs (a CLI command, a test without workers)
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cursor.close()

    if immediate:

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class ProcessWriteLock:
    """The data directory's write lock, shared by the API process, the worker process and CLI commands.

    Two lock files: `.writelock` is the lock itself; `.writeintent` lets urgent writers (the API's
    group commit, with HTTP requests waiting on it) go first. An urgent writer holds `.writeintent`
    shared while it waits and writes; a background writer must take it exclusively before it may
    queue for `.writelock`, and lets go once it has it. So once a request's commit waits, no new
    background transaction (dispatch, receipts, webhook bookkeeping) starts before it: it waits for the
    one running and at most one already queued. The kernel wakes a waiter when a lock is released;
    nobody polls.
    """

    def __init__(self, database_path: str) -> None:
        self._paths = (database_path + ".writelock", database_path + ".writeintent")
        self._files: list[IO[str]] = []

    def _fds(self) -> tuple[int, int]:
        if not self._files:
            # owner-only from the start (store/files.py tightens older ones); kept open for the lock's life
            flags = os.O_RDWR | os.O_CREAT | os.O_APPEND
            self._files = [open(os.open(path, flags, 0o600), "a+") for path in self._paths]  # noqa: SIM115
        return self._files[0].fileno(), self._files[1].fileno()

    async def acquire(self, stack: contextlib.AsyncExitStack, *, urgent: bool) -> None:
        lock_fd, intent_fd = self._fds()
        if urgent:
            await _flock(intent_fd, fcntl.LOCK_SH)
            stack.callback(fcntl.flock, intent_fd, fcntl.LOCK_UN)
            await _flock(lock_fd, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, lock_fd, fcntl.LOCK_UN)
            return
        await _flock(intent_fd, fcntl.LOCK_EX)
        try:
            await _flock(lock_fd, fcntl.LOCK_EX)
        finally:
            fcntl.flock(intent_fd, fcntl.LOCK_UN)
        stack.callback(fcntl.flock, lock_fd, fcntl.LOCK_UN)

    def close(self) -> None:
        for file in self._files:
            file.close()
        self._files = []


async def _flock(fd: int, operation: int) -> None:
    """flock without blocking the event loop: try at once, else wait in a thread."""
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        await asyncio.to_thread(fcntl.flock, fd, operation)


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.sqlite = is_sqlite(self.url)
        # SQLite has one writer at a time. Queueing writers here, in order, is far cheaper than letting
        # them collide on the file lock, whose busy handler backs off by sleeping up to 100 ms.
        self._write_lock = asyncio.Lock() if self.sqlite else None
        path = _sqlite_path(self.url) if self.sqlite else ""
        self._process_lock = ProcessWriteLock(path) if path and not path.startswith(":memory:") else None
        self._checkpointer: WalCheckpointer | None = None
        self._driver_reader: sqlite3.Connection | None = None
        self._pg_reader: Any = None  # asyncpg pool for the send path's reads (store/driver.py)
        self._pg_reader_lock = asyncio.Lock() if not self.sqlite else None
        if self.sqlite:
            self.writer = _sqlite_engine(self.url, immediate=True)
            self.reader = _sqlite_engine(self.url, immediate=False)
        else:
            # no pre-ping: on asyncpg it is BEGIN, an empty query and ROLLBACK, three round trips per checkout.
            # A connection that died with the server fails its first use instead: SQLAlchemy then drops the
            # pool's connections, and the group committer retries its batch once (services/committer.py).
            self.writer = create_async_engine(self.url, pool_size=10, max_overflow=10, pool_recycle=3600)
            self.reader = self.writer

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        `urgent` writers (requests are waiting on them) go before background ones on SQLite."""
        if self._write_lock is None:
            async with self.writer.begin() as conn:
                yield conn
            return
        async with self._write_lock, contextlib.AsyncExitStack() as stack:
            if self._process_lock is not None:
                await self._process_lock.acquire(stack, urgent=urgent)
            conn = await self._begin_immediate(stack)
            yield conn

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

    def driver_reader(self) -> sqlite3.Connection | None:
        """SQLite's own connection for the send path's reads (store/driver.py); None on PostgreSQL."""
        if self._driver_reader is None and self.sqlite:
            path = _sqlite_path(self.url)
            if not path.startswith(":memory:"):
                self._driver_reader = driver.connect_reader(path)
        return self._driver_reader

    async def pg_reader(self) -> Any:
        """asyncpg's own pool for the send path's reads (store/driver.py); None on SQLite."""
        if self._pg_reader is None and self._pg_reader_lock is not None:
            async with self._pg_reader_lock:
                if self._pg_reader is None:
                    self._pg_reader = await driver.connect_pg_reader(self.url, PG_READER_CONNECTIONS)
        return self._pg_reader

    def start_checkpointer(self) -> None:
        """Run WAL checkpoints in a thread of this process (one process per data directory does)."""
        path = _sqlite_path(self.url) if self.sqlite else ""
        if not path or path.startswith(":memory:") or self._checkpointer is not None:
            return
        self._checkpointer = WalCheckpointer(path)
        self._checkpointer.start()

    async def dispose(self) -> None:
        if self._pg_reader is not None:
            await self._pg_reader.close()
            self._pg_reader = None
        if self._driver_reader is not None:
            self._driver_reader.close()
            self._driver_reader = None
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._process_lock is not None:
            self._process_lock.close()
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
