"""The dispatch loop: submit due messages to the carrier as soon as they are committed or due."""

from __future__ import annotations

import asyncio
import logging

from heliograph.services import dispatch
from heliograph.services.carrier_links import CarrierLinks
from heliograph.services.context import Context
from heliograph.services.media import MediaFetcher
from heliograph.workers.waiting import wait_until_due

logger = logging.getLogger(__name__)

OVERLAP_AFTER_SECONDS = 0.02


class Dispatcher:
    def __init__(
        self,
        ctx: Context,
        links: CarrierLinks,
        poll_seconds: float = 0.5,
        media_lanes: int = 8,
        rounds_in_flight: int = 4,
    ) -> None:
        self._ctx = ctx
        self._links = links
        self._poll = poll_seconds
        self._stopping = asyncio.Event()
        settings = ctx.settings
        self._fetcher = MediaFetcher(
            timeout_seconds=settings.media_timeout_seconds,
            guard_private=settings.mode == "gateway",
            allowed_hosts=frozenset(h.strip() for h in settings.media_allowed_hosts.split(",") if h.strip()),
        )
        self._media_tasks: set[asyncio.Task] = set()
        # rounds whose carriers have not answered yet (an SMPP window, an HTTP upstream): the next round is
        # claimed meanwhile, so a slow link adds latency to its own messages, not a pause to everyone's
        self._rounds = asyncio.Semaphore(rounds_in_flight)
        self._round_tasks: set[asyncio.Task] = set()
        self._media_lanes = asyncio.Semaphore(media_lanes)

    def stop(self) -> None:
        self._stopping.set()
        self._ctx.wakeups.dispatcher.set()

    async def run(self) -> None:
        ctx = self._ctx
        while not self._stopping.is_set():
            ctx.wakeups.dispatcher.clear()
            if self._round_tasks:
                # a round that finishes quickly (the simulator) is waited for: overlapping fast rounds only
                # adds write contention; one still waiting after this long (a slow link) is overlapped
                await asyncio.wait(self._round_tasks, timeout=OVERLAP_AFTER_SECONDS)
            await self._rounds.acquire()
            try:
                round_ = await dispatch.claim(ctx)
            except Exception:
                self._rounds.release()
                logger.exception("dispatch round failed", extra={"action": "dispatch"})
                await asyncio.sleep(1)
                continue
            if round_.ready or round_.failed:
                task = asyncio.create_task(self._submit(round_))
                self._round_tasks.add(task)
                task.add_done_callback(self._round_tasks.discard)
            else:
                self._rounds.release()
            if round_.awaiting_media:
                # media fetches run beside the loop, so a slow media host never holds up other messages
                task = asyncio.create_task(self._with_media(round_.awaiting_media))
                self._media_tasks.add(task)
                task.add_done_callback(self._media_tasks.discard)
            if round_.taken:
                continue
            await wait_until_due(
                ctx, ctx.wakeups.dispatcher, dispatch.next_due_at, poll_seconds=self._poll, busy_sleep=0.005
            )
        if self._round_tasks:
            await asyncio.gather(*self._round_tasks, return_exceptions=True)
        if self._media_tasks:
            await asyncio.gather(*self._media_tasks, return_exceptions=True)
        await self._fetcher.close()

    async def _submit(self, round_: dispatch.Round) -> None:
        try:
            await dispatch.submit_round(self._ctx, self._links, round_)
        except Exception:  # the leases expire and the messages are claimed again
            logger.exception("dispatch round failed", extra={"action": "dispatch"})
        finally:
            self._rounds.release()

    async def _with_media(self, rows: list) -> None:
        async with self._media_lanes:
            try:
                await dispatch.submit_with_media(self._ctx, self._links, self._fetcher, rows)
            except Exception:  # the leases expire and the messages are claimed again
                logger.exception("media round failed", extra={"action": "media"})
