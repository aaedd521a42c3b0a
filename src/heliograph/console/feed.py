"""Live feed for the console: one poller per organization and process, fanned out to every open tab.

The poller asks services.message_changes what moved since its last look (minus an overlap, because a
transaction may commit after the time it recorded), drops what it already announced, and hands each
subscriber the rest, rendered once. It also keeps the conversation list (newest handsets first) up to
date from those changes, so open tabs receive the list instead of each asking the database for it.
Fifty tabs cost the same queries and the same rendering as one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from heliograph.domain.rows import Row
from heliograph.services import conversations, message_changes
from heliograph.services.context import Context

logger = logging.getLogger(__name__)


POLL_SECONDS = 0.5
OVERLAP_US = 3_000_000  # a change committed up to 3 s after the time it carries is still seen
QUEUE_SIZE = 1000


class OrgFeed:
    def __init__(self, ctx: Context, org_id: str, render: Callable[[list[Row], list[Row]], str]) -> None:
        self.ctx = ctx
        self.org_id = org_id
        self.render = render
        self.conversations: list[Row] | None = None  # the list page's entries, newest activity first
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
                try:
                    await self._follow_conversations(fresh)
                except Exception:
                    logger.exception("console feed could not load conversations", extra={"action": "console_feed"})
                    continue
                chunk = self.render(fresh, self.conversations or [])
                for queue in list(self.subscribers):
                    with contextlib.suppress(asyncio.QueueFull):  # a stuck tab misses updates, nobody waits
                        queue.put_nowait(chunk)

    async def _follow_conversations(self, changed: list[Row]) -> None:
        """Load the list once, then move handsets with new messages to the top and update the statuses
        of the last messages shown."""
        if self.conversations is None:
            self.conversations = await conversations.latest(self.ctx, self.org_id)
            return
        entries = {c["handset"]: c for c in self.conversations}
        for row in sorted(changed, key=lambda r: r["received_at"]):
            handset = row["to_number"] if row["direction"] == "outbound" else row["from_number"]
            current = entries.get(handset)
            if row["new"] and (current is None or row["received_at"] >= current["received_at"]):
                entries[handset] = {**row, "handset": handset}
            elif current is not None and current["id"] == row["id"]:
                current["status"] = row["status"]
        ordered = sorted(entries.values(), key=lambda c: (c["received_at"], c["id"]), reverse=True)
        self.conversations = ordered[: conversations.LIST_LIMIT]


_OF_CONTEXT: dict[int, Feeds] = {}


def close(ctx: Context) -> None:
    """End every console stream of this process (the server is stopping), so shutdown does not wait on them."""
    feeds = _OF_CONTEXT.get(id(ctx))
    if feeds is not None:
        feeds.close()


class Feeds:
    """Per-organization feeds of this process; a feed runs while someone listens. `render(changed, list)`
    turns a batch of changed messages and the updated conversation list into what every subscriber receives."""

    def __init__(self, ctx: Context, render: Callable[[list[Row], list[Row]], str]) -> None:
        self.ctx = ctx
        self.render = render
        self._feeds: dict[str, OrgFeed] = {}
        self.closed = False
        _OF_CONTEXT[id(ctx)] = self

    def close(self) -> None:
        """Tell every subscriber to finish (each receives None)."""
        self.closed = True
        for feed in self._feeds.values():
            for queue in feed.subscribers:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)

    @contextlib.asynccontextmanager
    async def subscribe(self, org_id: str) -> AsyncIterator[asyncio.Queue]:
        """A queue of rendered batches; None means the server is stopping."""
        feed = self._feeds.get(org_id)
        if feed is None:
            feed = self._feeds[org_id] = OrgFeed(self.ctx, org_id, self.render)
            feed.start()
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        feed.subscribers.add(queue)
        if self.closed:
            queue.put_nowait(None)
        try:
            yield queue
        finally:
            feed.subscribers.discard(queue)
            if not feed.subscribers and self._feeds.get(org_id) is feed:
                del self._feeds[org_id]
                await feed.stop()

    def listeners(self) -> int:
        return sum(len(f.subscribers) for f in self._feeds.values())
