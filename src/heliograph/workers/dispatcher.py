"""The dispatch loop: submit due messages to the carrier as soon as they are committed or due."""

from __future__ import annotations

import asyncio
import logging

from heliograph.carriers.base import Carrier
from heliograph.services import dispatch
from heliograph.services.context import Context
from heliograph.store import claims

logger = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, ctx: Context, carrier: Carrier, poll_seconds: float = 0.5) -> None:
        self._ctx = ctx
        self._carrier = carrier
        self._poll = poll_seconds
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()
        self._ctx.wakeups.dispatcher.set()

    async def run(self) -> None:
        ctx = self._ctx
        while not self._stopping.is_set():
            ctx.wakeups.dispatcher.clear()
            try:
                taken = await dispatch.dispatch_once(ctx, self._carrier)
            except Exception:
                logger.exception("dispatch round failed", extra={"action": "dispatch"})
                await asyncio.sleep(1)
                continue
            if taken:
                continue
            delay = self._poll
            try:
                async with ctx.db.read() as conn:
                    due = await claims.next_due_at(conn, "messages")
                if due is not None:
                    delay = min(delay, max(0.0, (due - ctx.now()) / 1_000_000))
            except Exception:  # noqa: BLE001
                logger.exception("reading next due time failed")
            if delay <= 0:
                await asyncio.sleep(0.005)
                continue
            try:
                await asyncio.wait_for(ctx.wakeups.dispatcher.wait(), delay)
            except TimeoutError:
                pass
