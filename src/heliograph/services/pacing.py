"""Sender throughput across every process: each queued message gets its sender's next send slot
(domain/throughput.py) in the group commit's transaction, from the sender's row in pacing_slots.

All API processes, on any host, advance the same row, so a 5 MPS number sends at 5 MPS however many
processes accept for it. The row is advanced once per sender per batch (one statement for all the
batch's messages from that sender), so the cost is one short statement per batch, not per message.
The slot is known before the request is answered, so `wait_seconds` stays exact; a message whose slot
would fall after its validity is refused (40318) and its slot given back in the same transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from heliograph.domain.errors import MessagingRejected, QueueFull
from heliograph.domain.rows import Row
from heliograph.domain.throughput import interval_us
from heliograph.services.context import Context
from heliograph.store import pacing as store
from heliograph.store.engine import Connection


@dataclass(slots=True)
class SlotRequest:
    """Queued message rows of one send that need slots from `sender`, one every `interval` µs."""

    sender: str
    interval: int
    rows: list[Row]


def request(sender: str, mps: float, rows: list[Row]) -> SlotRequest | None:
    queued = [r for r in rows if r["status"] == "queued"]
    return SlotRequest(sender, interval_us(mps), queued) if queued else None


def queue_full() -> MessagingRejected:
    return QueueFull("Message queue is full. Wait before resending.")


async def assign(conn: Connection, requests: list[tuple[Any, SlotRequest]]) -> list[Any]:
    """Give every request's rows their slots (due_at, wait_seconds); the owners (intents) refused because
    their queue would outlast their validity. Senders are advanced in name order, so concurrent batches
    lock their rows in one order and never deadlock."""
    by_sender: dict[str, list[tuple[Any, SlotRequest]]] = {}
    for owner, slot_request in requests:
        by_sender.setdefault(slot_request.sender, []).append((owner, slot_request))
    refused = []
    for sender in sorted(by_sender):
        group = by_sender[sender]
        interval = group[0][1].interval
        now = min(r["received_at"] for _, req in group for r in req.rows)
        count = sum(len(req.rows) for _, req in group)
        start = await store.advance(conn, sender, now, count, interval)
        taken = 0
        for owner, req in group:
            slots = [start + (taken + i) * interval for i in range(len(req.rows))]
            if any(slot > row["valid_until"] for slot, row in zip(slots, req.rows, strict=True)):
                refused.append(owner)
                continue
            for slot, row in zip(slots, req.rows, strict=True):
                row["due_at"] = slot
                row["wait_seconds"] = round(max(0, slot - row["received_at"]) / 1_000_000, 3)
            taken += len(req.rows)
        if taken < count:
            await store.give_back(conn, sender, start + count * interval, count - taken, interval)
    return refused


class SharedPacer:
    """A connector's `mps` across every worker process (carriers/smpp.py calls `wait` before each part).

    Callers of one key that arrive in the same event-loop turn share one transaction that takes a slot
    for each of them from pacing_slots (key "connector:<name>"); each then sleeps until its slot. Slots are
    wall-clock times, so hosts running workers need synchronised clocks (NTP), as they do for leases."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._waiting: dict[str, list[asyncio.Future[int]]] = {}

    async def wait(self, key: str, mps: float) -> None:
        loop = asyncio.get_running_loop()
        slot: asyncio.Future[int] = loop.create_future()
        waiting = self._waiting.setdefault(key, [])
        waiting.append(slot)
        if len(waiting) == 1:
            loop.call_soon(lambda: loop.create_task(self._take(key, mps)))
        delay = (await slot - self.ctx.now()) / 1_000_000
        if delay > 0:
            await asyncio.sleep(delay)

    async def _take(self, key: str, mps: float) -> None:
        batch = self._waiting.pop(key)
        interval = interval_us(mps)
        try:
            async with self.ctx.db.transaction() as conn:
                start = await store.advance(conn, key, self.ctx.now(), len(batch), interval)
        except Exception as exc:  # each caller decides what to do without its slot
            for slot in batch:
                slot.set_exception(exc)
            return
        for i, slot in enumerate(batch):
            slot.set_result(start + i * interval)
