"""Start and stop every background loop from one place, in order.

Start: committer → carrier (receipts flow to services.delivery) → receipts owed from before a restart
→ dispatcher, webhook sender, housekeeping. Stop: the reverse; queued writes are flushed and in-flight
webhook attempts finish, so nothing accepted is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from heliograph.carriers.base import Carrier
from heliograph.services import delivery
from heliograph.services.context import Context
from heliograph.store import claims, idempotency
from heliograph.workers.dispatcher import Dispatcher
from heliograph.workers.webhook_sender import WebhookSender

logger = logging.getLogger(__name__)

# receipts owed this long are offered to the carrier again, in case the process that held them died
STALE_RECEIPT_US = 5_000_000


@dataclass
class Workers:
    ctx: Context
    carrier: Carrier
    dispatcher: Dispatcher = field(init=False)
    webhook_sender: WebhookSender = field(init=False)
    tasks: list[asyncio.Task] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.ctx, self.carrier)
        self.webhook_sender = WebhookSender(self.ctx)

    async def start(self, *, sole_process: bool) -> None:
        ctx = self.ctx
        if sole_process:
            # the sandbox runs one process per data directory, so leases left behind are from a dead one
            async with ctx.db.transaction() as conn:
                released = await claims.release_message_leases(conn, ctx.now())
                await claims.release_event_leases(conn, ctx.now())
            if released:
                logger.info("released leases of a previous run", extra={"action": "recover", "messages": released})
        await self.carrier.start(lambda reports: delivery.record_reports(ctx, reports))
        resumed = await delivery.resume_in_flight(ctx, self.carrier)
        if resumed:
            logger.info(
                "resumed receipts owed from before the restart",
                extra={"action": "recover", "messages": resumed},
            )
        for name, coro in (
            ("dispatcher", self.dispatcher.run()),
            ("webhook-sender", self.webhook_sender.run()),
            ("housekeeping", self._housekeeping()),
        ):
            self.tasks.append(asyncio.create_task(coro, name=name))

    async def stop(self) -> None:
        self._stopping.set()
        self.dispatcher.stop()
        self.webhook_sender.stop()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.carrier.close()

    async def _housekeeping(self) -> None:
        ctx = self.ctx
        while not self._stopping.is_set():
            try:
                await delivery.expire_overdue_receipts(ctx)
                await delivery.resume_in_flight(ctx, self.carrier, sent_before=ctx.now() - STALE_RECEIPT_US, limit=1000)
                horizon = ctx.now() - int(ctx.settings.idempotency_ttl_hours * 3600 * 1_000_000)
                async with ctx.db.transaction() as conn:
                    await idempotency.purge(conn, horizon)
            except Exception:
                logger.exception("housekeeping failed", extra={"action": "housekeeping"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 5.0)
