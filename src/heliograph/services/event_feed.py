"""The organization's live event feed: every webhook event, in commit order, signed like a webhook.

It is read from the database (the outbox's `webhook_events`, events without a webhook URL included),
so it sees events committed by any process: the sandbox's worker process or any gateway process.
One poller per process watches a cheap "head" query and wakes the streams; each stream then reads
its organization's rows after its cursor. The cursor (`"<txid>_<seq>"`) resumes a stream with no
loss and no duplicate while the events are kept.

Usage (the SSE route and the console):

    async for item in event_feed.follow(ctx, org_id, after=last_event_id):
        if isinstance(item, event_feed.FeedEvent): ...   # item.cursor, item.body, item.headers
        else: ...                                          # event_feed.Idle: nothing new (keep-alive)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from heliograph.domain.errors import InvalidValue, NotFound
from heliograph.domain.rows import Row
from heliograph.domain.times import iso
from heliograph.services import sealing, signing, webhooks
from heliograph.services.context import Context
from heliograph.store import event_feed as store

logger = logging.getLogger(__name__)

START = "0_0"
POLL_SECONDS = 0.2
BATCH = 100


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One webhook event as the stream delivers it: the exact body and the headers that sign it."""

    cursor: str
    id: str
    event_type: str
    occurred_at: str
    message_id: str | None
    messaging_profile_id: str | None
    body: str
    headers: dict[str, str]

    def as_dict(self) -> Row:
        return {
            "cursor": self.cursor,
            "id": self.id,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at,
            "message_id": self.message_id,
            "messaging_profile_id": self.messaging_profile_id,
            "body": self.body,
            "headers": self.headers,
        }


@dataclass(frozen=True, slots=True)
class Idle:
    """Nothing new for a while; `cursor` is where the stream stands."""

    cursor: str


@dataclass(frozen=True, slots=True)
class Filters:
    event_types: list[str] = field(default_factory=list)
    messaging_profile_id: str | None = None
    delivered_to: str | None = None  # meta.delivered_to of the bodies (e.g. `listen --forward-to`)


def parse_cursor(raw: str) -> tuple[int, int]:
    try:
        txid, seq = raw.split("_")
        value = (int(txid), int(seq))
    except ValueError:
        raise InvalidValue(f"{raw!r} is not an event cursor.", parameter="after") from None
    if value[0] < 0 or value[1] < 0:
        raise InvalidValue(f"{raw!r} is not an event cursor.", parameter="after")
    return value


def _cursor(row: Row) -> str:
    return f"{row['txid']}_{row['seq']}"


class Feed:
    """Per process: wakes the streams when new events may be readable, and ends them on shutdown."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._changed = asyncio.Event()
        self._waiters = 0
        self._task: asyncio.Task | None = None
        self._head: tuple[Any, ...] | None = None
        self.generation = 0
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self._notify()

    def _notify(self) -> None:
        self.generation += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait(self, generation: int, timeout: float) -> None:
        """Return when the head moved after `generation` was read, on close, or after `timeout`."""
        if self.closed or generation != self.generation:
            return
        changed = self._changed
        self._waiters += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="event-feed-poller")
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters -= 1

    async def _poll(self) -> None:
        while self._waiters > 0 and not self.closed:
            try:
                async with self._ctx.db.read() as conn:
                    head: tuple[Any, ...] | None = await store.global_head(conn)
            except Exception:  # a failed probe is retried at the next tick
                logger.exception("event feed head query failed", extra={"action": "event_feed_poll"})
                head = self._head
            if head != self._head:
                self._head = head
                self._notify()
            await asyncio.sleep(POLL_SECONDS)


def feed_of(ctx: Context) -> Feed:
    if ctx.feed is None:
        ctx.feed = Feed(ctx)
    return ctx.feed


def close(ctx: Context) -> None:
    """End every stream of this process (the server is stopping), so shutdown does not wait on them."""
    if ctx.feed is not None:
        ctx.feed.close()


def _profile_of(data: Row) -> str | None:
    payload = data.get("payload") if isinstance(data.get("payload"), dict) else data
    value = payload.get("messaging_profile_id") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None


def _signed(ctx: Context, seed: str, row: Row, filters: Filters) -> FeedEvent:
    body = webhooks.body_for_attempt(row, row["attempts"] + 1, filters.delivered_to or "")
    headers = signing.headers(seed, ctx.now() // 1_000_000, body)
    data = orjson.loads(row["data_json"])
    return FeedEvent(
        cursor=_cursor(row),
        id=row["id"],
        event_type=row["event_type"],
        occurred_at=iso(row["occurred_at"]),
        message_id=row["message_id"],
        messaging_profile_id=_profile_of(data),
        body=body.decode(),
        headers={k: v for k, v in headers.items() if k.startswith("telnyx-")},
    )


async def head(ctx: Context, organization_id: str) -> str:
    """The cursor of the organization's newest event: following from it yields only what comes next."""
    async with ctx.db.read() as conn:
        txid, seq = await store.last_cursor(conn, organization_id)
    return f"{txid}_{seq}"


async def read(
    ctx: Context, organization_id: str, after: str, *, filters: Filters | None = None, limit: int = BATCH
) -> tuple[list[FeedEvent], str]:
    """Events after `after` (at most `limit`), and the cursor to read on from.

    The cursor also moves past events the filters leave out, so they are not read again."""
    filters = filters or Filters()
    position = parse_cursor(after)
    async with ctx.db.read() as conn:
        rows = await store.events_after(conn, organization_id, position, limit, filters.event_types or None)
        seed = await store.signing_seed(conn, organization_id) if rows else None
    if not rows:
        return [], after
    if seed is None:
        raise NotFound("The organization was not found.")
    out = []
    for row in rows:
        event = _signed(ctx, sealing.open_seed(ctx, organization_id, seed), row, filters)
        if filters.messaging_profile_id and event.messaging_profile_id != filters.messaging_profile_id:
            continue
        out.append(event)
    return out, _cursor(rows[-1])


async def follow(
    ctx: Context,
    organization_id: str,
    after: str | None = None,
    *,
    filters: Filters | None = None,
    idle_seconds: float = 15.0,
) -> AsyncIterator[FeedEvent | Idle]:
    """Every event after `after` (default: from now on), then each new one as it commits; forever.

    Yields Idle(cursor) first and after every `idle_seconds` without events. Ends when the process's
    feed is closed (server shutdown)."""
    feed = feed_of(ctx)
    cursor = after if after is not None else await head(ctx, organization_id)
    parse_cursor(cursor)
    yield Idle(cursor)
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    while not feed.closed:
        generation = feed.generation
        events, cursor = await read(ctx, organization_id, cursor, filters=filters)
        for event in events:
            yield event
        if events:
            quiet_since = loop.time()
            continue
        left = idle_seconds - (loop.time() - quiet_since)
        if left <= 0:
            yield Idle(cursor)
            quiet_since = loop.time()
            continue
        await feed.wait(generation, min(left, 5.0))


__all__ = ["FeedEvent", "Idle", "Filters", "START", "parse_cursor", "head", "read", "follow", "feed_of", "close"]
