"""Live feed for the console: one poller per organization and process, fanned out to every open tab.

The poller asks services.message_changes what moved since its last look (minus an overlap, because a
transaction may commit after the time it recorded), drops what it already announced, and hands each
subscriber the rest. Fifty tabs cost the same queries as one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from heliograph.services import message_changes
from heliograph.services.context import Context

logger = logging.getLogger(__name__)

Row = dict[str, Any]

POLL_SECONDS = 0.5
OVERLAP_US = 3_000_000  # a change committed up to 3 s after the time it carries is still seen
QUEUE_SIZE = 1000


class OrgFeed:
    def __init__(self, ctx: Context, org_id: str) -> None:
        self.ctx = ctx
        self.org_id = org_id
        self.subscribers: set[asyncio.Queue] = set()
        self._announced: dict[tuple[str, str], int] = {}  # (message id, status) → when announced
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"console-feed-{self.org_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        cursor = self.ctx.now()
        while True:
            await asyncio.sleep(POLL_SECONDS)
            started = self.ctx.now()
            try:
                rows = await message_changes.since(self.ctx, self.org_id, cursor - OVERLAP_US)
            except Exception:  # the database is busy or gone for a moment: try again next tick
                logger.exception("console feed poll failed", extra={"action": "console_feed"})
                continue
            fresh = [r for r in rows if (r["id"], r["status"]) not in self._announced]
            for r in fresh:
                self._announced[(r["id"], r["status"])] = started
            horizon = started - 2 * OVERLAP_US
            self._announced = {k: v for k, v in self._announced.items() if v >= horizon}
            cursor = started
            if fresh:
                for queue in list(self.subscribers):
                    with contextlib.suppress(asyncio.QueueFull):  # a stuck tab misses updates, nobody waits
                        queue.put_nowait(fresh)


class Feeds:
    """Per-organization feeds of this process; a feed runs while someone listens."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._feeds: dict[str, OrgFeed] = {}

    @contextlib.asynccontextmanager
    async def subscribe(self, org_id: str) -> AsyncIterator[asyncio.Queue]:
        feed = self._feeds.get(org_id)
        if feed is None:
            feed = self._feeds[org_id] = OrgFeed(self.ctx, org_id)
            feed.start()
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        feed.subscribers.add(queue)
        try:
            yield queue
        finally:
            feed.subscribers.discard(queue)
            if not feed.subscribers and self._feeds.get(org_id) is feed:
                del self._feeds[org_id]
                await feed.stop()

    def listeners(self) -> int:
        return sum(len(f.subscribers) for f in self._feeds.values())
