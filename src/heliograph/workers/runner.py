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

from heliograph.carriers.base import Sinks
from heliograph.services import delivery, housekeeping, inbound, receipts
from heliograph.services.carrier_links import CarrierLinks, Factory
from heliograph.services.context import Context
from heliograph.workers.dispatcher import Dispatcher
from heliograph.workers.webhook_sender import WebhookSender

logger = logging.getLogger(__name__)


# how often connector and route changes are looked for, and link states reported
LINKS_REFRESH_SECONDS = 2.0
LINKS_REPORT_SECONDS = 5.0


@dataclass
class Workers:
    ctx: Context
    connector_factory: Factory
    links: CarrierLinks = field(init=False)
    dispatcher: Dispatcher = field(init=False)
    webhook_sender: WebhookSender = field(init=False)
    tasks: list[asyncio.Task] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        ctx = self.ctx
        sinks = Sinks(
            reports=lambda items: delivery.record_reports(ctx, items),
            receipts=lambda items: receipts.record(ctx, items),
            inbound=lambda items: inbound.record_carrier_inbound(ctx, items),
        )
        self.links = CarrierLinks(ctx, self.connector_factory, sinks)
        self.dispatcher = Dispatcher(ctx, self.links)
        self.webhook_sender = WebhookSender(ctx)

    async def start(self, *, sole_process: bool) -> None:
        ctx = self.ctx
        if sole_process:
            await housekeeping.recover_after_restart(ctx)
        await self.links.start()
        resumed = await delivery.resume_in_flight(ctx, self.links)
        if resumed:
            logger.info(
                "resumed receipts owed from before the restart",
                extra={"action": "recover", "messages": resumed},
            )
        for name, coro in (
            ("dispatcher", self.dispatcher.run()),
            ("webhook-sender", self.webhook_sender.run()),
            ("housekeeping", self._housekeeping()),
            ("carrier-links", self._watch_links()),
            ("carrier-receipts", self._apply_receipts()),
        ):
            self.tasks.append(asyncio.create_task(coro, name=name))

    async def stop(self) -> None:
        self._stopping.set()
        self.dispatcher.stop()
        self.webhook_sender.stop()
        self.ctx.wakeups.receipts.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.links.close()

    async def _housekeeping(self) -> None:
        ctx = self.ctx
        while not self._stopping.is_set():
            try:
                await housekeeping.run_once(ctx, self.links)
            except Exception:
                logger.exception("housekeeping failed", extra={"action": "housekeeping"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 5.0)

    async def _watch_links(self) -> None:
        """Keep this process's connectors in step with the database; report their states."""
        ctx = self.ctx
        last_report = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                if await self.links.refresh():
                    ctx.wakeups.dispatcher.set()  # a new route or connector may take waiting messages
                if loop.time() - last_report >= LINKS_REPORT_SECONDS:
                    await self.links.report()
                    last_report = loop.time()
            except Exception:
                logger.exception("refreshing carrier links failed", extra={"action": "links"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), LINKS_REFRESH_SECONDS)

    async def _apply_receipts(self) -> None:
        """Apply carrier receipts as soon as links store them (or parts they wait for are stored)."""
        ctx = self.ctx
        recent_us = 600 * 1_000_000
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ctx.wakeups.receipts.wait(), 1.0)
            ctx.wakeups.receipts.clear()
            try:
                await receipts.apply_pending(ctx, received_after=ctx.now() - recent_us)
            except Exception:
                logger.exception("applying carrier receipts failed", extra={"action": "receipts"})
                await asyncio.sleep(0.5)
