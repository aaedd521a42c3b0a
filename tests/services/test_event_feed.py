"""The event feed (services/event_feed.py) and the attempts made on request (services/webhook_replay.py)."""

from __future__ import annotations

import asyncio
import base64
import os

import orjson
import pytest
from nacl.signing import VerifyKey

from heliograph.domain.errors import NotFound, ValidationFailed
from heliograph.services import event_feed, inbound, webhook_deliveries, webhook_replay, webhooks
from heliograph.store import outbox

HANDSET = "+13125550123"


def _verify(world, event: event_feed.FeedEvent) -> None:
    key = VerifyKey(base64.b64decode(world.account.organization["public_key"]))
    signed = event.headers["telnyx-timestamp"].encode() + b"|" + event.body.encode()
    key.verify(signed, base64.b64decode(event.headers["telnyx-signature-ed25519"]))


def _event(world, event_type: str = "message.sent") -> dict:
    return webhooks.new_event(
        organization_id=world.account.organization["id"],
        event_type=event_type,
        payload={"id": "m", "messaging_profile_id": world.account.profile_id},
        occurred_at=world.ctx.now(),
        urls=[],
    )


async def test_events_without_a_webhook_url_are_in_the_feed_signed_in_commit_order(world) -> None:
    org = world.account.organization["id"]
    start = await event_feed.head(world.ctx, org)
    first = await inbound.receive(world.ctx, org, sender=HANDSET, to=world.long_code, text="one", media_urls=[])
    second = await inbound.receive(world.ctx, org, sender=HANDSET, to=world.long_code, text="two", media_urls=[])

    events, cursor = await event_feed.read(world.ctx, org, start)

    assert [(e.event_type, e.message_id) for e in events] == [
        ("message.received", first["id"]),
        ("message.received", second["id"]),
    ]
    for event in events:
        _verify(world, event)
        assert orjson.loads(event.body)["data"]["id"] == event.id
    assert cursor == events[-1].cursor == await event_feed.head(world.ctx, org)
    assert await event_feed.read(world.ctx, org, cursor) == ([], cursor)
    resumed, _ = await event_feed.read(world.ctx, org, events[0].cursor)
    assert [e.id for e in resumed] == [events[1].id]  # after that event exactly: no loss, no duplicate


async def test_a_batch_of_events_keeps_its_order_in_the_feed_and_cursors_never_repeat(world) -> None:
    org = world.account.organization["id"]
    start = await event_feed.head(world.ctx, org)
    batches = [[_event(world) for _ in range(3)], [_event(world, "message.finalized") for _ in range(2)]]
    for batch in batches:
        async with world.ctx.db.transaction() as conn:
            await outbox.add_events(conn, batch)

    events, _ = await event_feed.read(world.ctx, org, start)

    assert [e.id for e in events] == [e["id"] for batch in batches for e in batch]
    cursors = [e.cursor for e in events]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    resumed, _ = await event_feed.read(world.ctx, org, events[2].cursor)  # between the two transactions
    assert [e.id for e in resumed] == [e["id"] for e in batches[1]]


async def test_filters_and_other_organizations(world) -> None:
    org = world.account.organization["id"]
    start = await event_feed.head(world.ctx, org)
    async with world.ctx.db.transaction() as conn:
        await outbox.add_events(conn, [_event(world, "message.sent"), _event(world, "message.finalized")])
        await outbox.add_events(conn, [{**_event(world), "organization_id": "someone-else"}])
    only_final = event_feed.Filters(event_types=["message.finalized"])
    events, _ = await event_feed.read(world.ctx, org, start, filters=only_final)
    assert [e.event_type for e in events] == ["message.finalized"]
    other_profile = event_feed.Filters(messaging_profile_id="another-profile")
    events, cursor = await event_feed.read(world.ctx, org, start, filters=other_profile)
    assert events == [] and cursor != start  # the cursor still moves past what the filter left out
    with pytest.raises(ValidationFailed):
        await event_feed.read(world.ctx, org, "not-a-cursor")


async def test_follow_wakes_on_a_commit_and_ends_when_the_feed_closes(world) -> None:
    org = world.account.organization["id"]
    stream = event_feed.follow(world.ctx, org)
    ready = await anext(stream)
    assert isinstance(ready, event_feed.Idle)
    waiting = asyncio.ensure_future(anext(stream))
    async with world.ctx.db.transaction() as conn:
        await outbox.add_events(conn, [_event(world)])
    item = await asyncio.wait_for(waiting, 10)
    assert isinstance(item, event_feed.FeedEvent) and item.event_type == "message.sent"
    waiting = asyncio.ensure_future(anext(stream))
    event_feed.close(world.ctx)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 10)


# PostgreSQL only: SQLite writers take turns, so there a transaction cannot commit around another
@pytest.mark.parametrize(
    "world", ["postgresql"] if os.environ.get("HELIOGRAPH_TEST_DATABASE_URL") else [], indirect=True
)
async def test_a_late_commit_is_never_skipped(world) -> None:
    """A row that commits after a newer one is still read, before it (never behind the cursor)."""
    org = world.account.organization["id"]
    start = await event_feed.head(world.ctx, org)
    slow = _event(world, "message.sent")
    fast = _event(world, "message.finalized")
    async with world.ctx.db.transaction() as slow_conn:
        await outbox.add_events(slow_conn, [slow])
        async with world.ctx.db.transaction() as fast_conn:
            await outbox.add_events(fast_conn, [fast])
        held, cursor = await event_feed.read(world.ctx, org, start)
        assert held == [] and cursor == start  # the newer row waits for the older transaction
    events, _ = await event_feed.read(world.ctx, org, start)
    assert [e.id for e in events] == [slow["id"], fast["id"]]


async def test_a_forward_is_logged_as_an_attempt_and_replay_needs_a_url(world) -> None:
    org = world.account.organization["id"]
    event = _event(world)
    async with world.ctx.db.transaction() as conn:
        await outbox.add_events(conn, [event])
    with pytest.raises(ValidationFailed):
        await webhook_replay.replay(world.ctx, org, event["id"])  # no URL, and never forwarded
    forward = webhook_replay.Forward(url="http://127.0.0.1:9/hook", http_status=500, duration_ms=12)
    first = await webhook_replay.record_forward(world.ctx, org, event["id"], forward)
    ok = webhook_replay.Forward(url="http://127.0.0.1:9/hook", http_status=204, duration_ms=3, response_body="")
    second = await webhook_replay.record_forward(world.ctx, org, event["id"], ok)
    assert (first["attempt"], second["attempt"]) == (1, 2)
    delivery = await webhook_deliveries.get_delivery(world.ctx, org, event["id"])
    assert delivery["status"] == "delivered"
    assert [a["http"]["response"]["status"] for a in delivery["attempts"]] == [204, 500]
    assert delivery["attempts"][1]["errors"] == [75500]
    with pytest.raises(NotFound):
        await webhook_replay.record_forward(world.ctx, "someone-else", event["id"], ok)
