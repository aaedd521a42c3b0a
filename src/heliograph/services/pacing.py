"""Hands out each sender's send slots (domain/throughput.py) and remembers where each sender is.

State lives in this process; on first use of a sender it is read back from the queue, so a restart
does not let new messages jump ahead of ones already waiting.
"""

from __future__ import annotations

from sqlalchemy import func, select

from heliograph.domain.throughput import next_slot
from heliograph.services.context import Context
from heliograph.store.tables import messages


class SenderPacer:
    def __init__(self) -> None:
        self._next_free: dict[str, int] = {}

    async def reserve(self, ctx: Context, sender: str, mps: float, now: int) -> int:
        """The time this sender's next message may go to the carrier."""
        if sender not in self._next_free:
            async with ctx.db.read() as conn:
                latest = (
                    await conn.execute(
                        select(func.max(messages.c.due_at)).where(
                            messages.c.from_number == sender, messages.c.status == "queued"
                        )
                    )
                ).scalar()
            # another coroutine may have started this sender while we read
            self._next_free.setdefault(sender, (latest + int(1_000_000 / mps)) if latest else 0)
        slot, self._next_free[sender] = next_slot(self._next_free[sender], now, mps)
        return slot

    def release(self, sender: str, slot: int, mps: float) -> None:
        """Give a slot back when the send was refused after reserving (best effort: only the last one)."""
        if self._next_free.get(sender) == slot + int(1_000_000 / mps):
            self._next_free[sender] = slot
