"""Group commit: sends that arrive within a couple of milliseconds share one database transaction.

A request is answered only after its batch committed, so a 2xx always means "on disk" (invariant 1),
while the database sees one transaction per batch instead of one per request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from heliograph.services import pacing, spend, telemetry
from heliograph.services.pacing import SlotRequest
from heliograph.services.spend import SpendCharge
from heliograph.store import batches
from heliograph.store import idempotency as idempotency_store
from heliograph.store.batches import DatabaseError, DuplicateRow, Table
from heliograph.store.engine import Connection, Database
from heliograph.store.idempotency import NewKey

logger = logging.getLogger(__name__)


class DuplicateIdempotencyKey(Exception):
    """Another request with the same Idempotency-Key committed first."""


@dataclass
class WriteIntent:
    """Rows one request wants inserted, all or nothing."""

    rows: list[tuple[Table, dict[str, Any]]]
    idempotency: NewKey | None = None  # the send's Idempotency-Key record, committed with its rows
    statements: list[Callable[[Connection], Awaitable[None]]] = field(default_factory=list)
    charge: SpendCharge | None = None  # the send's cost against its profile's daily spend limit
    slots: SlotRequest | None = None  # queued messages that take their sender's next slots (services/pacing.py)
    answer: Callable[[], dict[str, Any]] | None = None  # the response body's data, once slots are known
    refused: bool = False  # the charge was refused: nothing of this intent is written
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommitter:
    def __init__(self, db: Database, window_ms: float = 2.0, max_batch: int = 500) -> None:
        self._db = db
        self._window = window_ms / 1000
        self._max_batch = max_batch
        self._queue: asyncio.Queue[WriteIntent] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self.on_commit: list = []  # callables run after each successful batch

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-committer")

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.put(None)  # type: ignore[arg-type]
        await self._task
        self._task = None

    async def commit(self, intent: WriteIntent) -> None:
        if self._task is None:  # not running (tests, CLI): commit directly
            await self._write([intent])
            await intent.done  # raises what the write raised (a refusal, a failure)
            return
        await self._queue.put(intent)
        await intent.done

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            if self._window:
                await asyncio.sleep(self._window)
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            await self._write(batch)

    async def _write(self, batch: list[WriteIntent]) -> None:
        try:
            try:
                await self._insert(batch)
            except DatabaseError as exc:
                if not exc.connection_invalidated:
                    raise
                # the server restarted under a pooled connection (no pre-ping, store/engine.py): nothing
                # was written, and the pool has dropped its dead connections, so go again once
                logger.warning("database connection lost: batch retried", extra={"action": "group_commit"})
                await self._insert(batch)
        except Exception as exc:
            if len(batch) == 1 and not isinstance(exc, DuplicateRow):
                _resolve(batch[0], exc)  # the request's handler reports it
                return
            if not isinstance(exc, DuplicateRow):
                logger.warning(
                    "group commit failed (%s): retrying its requests one by one",
                    type(exc).__qualname__,
                    extra={"action": "group_commit", "size": len(batch)},
                )
            await self._write_one_by_one(batch)
            return
        for intent in batch:
            _resolve(intent, None)
        self._after_commit(batch)

    async def _write_one_by_one(self, batch: list[WriteIntent]) -> None:
        """After a batch failed: each request in its own transaction, so one request's bad row (a duplicate
        idempotency key, a value the database refuses) fails that request only, never its neighbours."""
        committed = []
        for intent in batch:
            if intent.done.done():  # refused by its spend limit: already answered
                continue
            try:
                await self._insert([intent])
            except DuplicateRow as exc:
                _resolve(intent, DuplicateIdempotencyKey(str(exc)))
            except Exception as exc:
                _resolve(intent, exc)
            else:
                _resolve(intent, None)
                committed.append(intent)
        self._after_commit(committed)

    async def _insert(self, batch: list[WriteIntent]) -> None:
        async with self._db.transaction(urgent=True) as conn:
            batch = await _pace(conn, batch)  # sends whose queue outlasts their validity leave the batch
            batch = await _charge(conn, batch)  # sends over their spend limit leave the batch, answered at once
            keys: list[NewKey] = []
            for intent in batch:
                if intent.idempotency is not None:
                    if intent.answer is not None:  # the stored response carries the slot just given
                        intent.idempotency.response_body = orjson.dumps({"data": intent.answer()}).decode()
                    keys.append(intent.idempotency)
            if keys:  # an expired record with the same key must not block the new one
                await idempotency_store.delete_expired(conn, keys)
            await batches.insert_rows(conn, (pair for intent in batch for pair in intent.rows))
            for intent in batch:
                for statement in intent.statements:
                    await statement(conn)
            if keys:
                await idempotency_store.insert(conn, keys)

    def _after_commit(self, committed: list[WriteIntent]) -> None:
        for callback in self.on_commit:
            callback()
        # only what was written: a send refused inside the batch (pacing, spend) was answered with its error
        written = [i for i in committed if i.done.done() and not i.done.cancelled() and i.done.exception() is None]
        telemetry.record_accepted(row for intent in written for table, row in intent.rows if batches.is_message(table))
        telemetry.record_write_batch("group_commit", len(written))


async def _pace(conn: Connection, batch: list[WriteIntent]) -> list[WriteIntent]:
    """Give queued sends their senders' slots in the batch's transaction (shared by every process); a send
    whose slot would fall after its validity is answered 40318 and dropped, the others go on."""
    requests = [(i, i.slots) for i in batch if i.slots is not None and not i.refused]
    if not requests:
        return batch
    for intent in await pacing.assign(conn, requests):
        intent.refused, intent.rows, intent.statements = True, [], []
        _resolve(intent, pacing.queue_full())
    return [i for i in batch if not i.refused]


async def _charge(conn: Connection, batch: list[WriteIntent]) -> list[WriteIntent]:
    """Charge each send's cost to its profile's day (services/spend.py) in the batch's transaction; a
    refused send is answered with its refusal and dropped, the others go on. Profiles are charged in id
    order, so concurrent batches (other processes) lock their rows in one order and never deadlock."""
    charged = [i for i in batch if i.charge is not None and not i.refused]
    for intent in sorted(charged, key=lambda i: i.charge.profile["id"]):  # type: ignore[union-attr]
        refusal = await spend.apply(conn, intent.charge)  # type: ignore[arg-type]
        if refusal is not None:
            intent.refused, intent.rows, intent.statements = True, [], []
            _resolve(intent, refusal)
    return [i for i in batch if not i.refused]


def _resolve(intent: WriteIntent, error: BaseException | None) -> None:
    if intent.done.done():
        return
    if error is None:
        intent.done.set_result(None)
    else:
        intent.done.set_exception(error)
