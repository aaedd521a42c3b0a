"""Scheduling, cancellation and queue expiry, driven by the injectable clock."""

from __future__ import annotations

import pytest

from heliograph.domain.errors import HeliographError, ValidationFailed
from heliograph.domain.times import iso
from heliograph.services import dispatch, messages_query, sending

MINUTE = 60 * 1_000_000


def _send_at(world, minutes: float) -> str:
    return iso(world.clock.now_us() + int(minutes * MINUTE))


async def _schedule(world, minutes: float, endpoint=sending.SCHEDULE) -> dict:
    body = {"from": world.long_code, "to": "+13125550123", "text": "later", "send_at": _send_at(world, minutes)}
    return await sending.send(world.ctx, world.caller, body, endpoint)


async def test_scheduled_message_waits_then_is_sent_when_due(world):
    wire = await _schedule(world, 10)
    assert wire["to"][0]["status"] == "scheduled"
    assert wire["send_at"] == _send_at(world, 10)
    assert (await dispatch.dispatch_once(world.ctx, world.links)).taken == 0
    world.clock.advance(9 * 60 + 59)
    assert (await dispatch.dispatch_once(world.ctx, world.links)).taken == 0
    world.clock.advance(1)
    assert (await dispatch.dispatch_once(world.ctx, world.links)).taken == 1
    sent_at, submission = world.carrier.submitted[0]
    assert submission.message_id == wire["id"]
    assert sent_at - world.clock.now_us() == 0
    retrieved = await messages_query.retrieve(world.ctx, world.caller.organization_id, wire["id"])
    assert retrieved["to"][0]["status"] == "sent"


@pytest.mark.parametrize("minutes", [4.9, 5 * 24 * 60 + 1, -1])
async def test_send_at_outside_the_window_is_refused(world, minutes):
    with pytest.raises(ValidationFailed) as exc:
        await _schedule(world, minutes)
    assert (exc.value.code, exc.value.pointer, exc.value.status) == ("10033", "/send_at", 422)


async def test_schedule_endpoint_requires_send_at(world):
    body = {"from": world.long_code, "to": "+13125550123", "text": "x"}
    with pytest.raises(ValidationFailed) as exc:
        await sending.send(world.ctx, world.caller, body, sending.SCHEDULE)
    assert exc.value.code == "10004"


async def test_send_at_on_the_plain_send_endpoint_schedules_too(world):
    wire = await _schedule(world, 30, endpoint=sending.SEND)
    assert wire["to"][0]["status"] == "scheduled"


async def test_cancel_until_a_minute_before_send_at(world):
    wire = await _schedule(world, 10)
    cancelled = await messages_query.cancel(world.ctx, world.caller.organization_id, wire["id"])
    assert cancelled["to"][0]["status"] == "cancelled"
    world.clock.advance(3600)
    assert (await dispatch.dispatch_once(world.ctx, world.links)).taken == 0
    assert world.carrier.submitted == []
    retrieved = await messages_query.retrieve(world.ctx, world.caller.organization_id, wire["id"])
    assert retrieved["to"][0]["status"] == "cancelled"


async def test_cancel_refused_inside_the_last_minute_and_after_sending(world):
    wire = await _schedule(world, 10)
    world.clock.advance(9 * 60 + 1)
    with pytest.raises(HeliographError) as exc:
        await messages_query.cancel(world.ctx, world.caller.organization_id, wire["id"])
    assert (exc.value.status, exc.value.code) == (403, "10015")
    world.clock.advance(60)
    await dispatch.dispatch_once(world.ctx, world.links)
    with pytest.raises(HeliographError) as exc:
        await messages_query.cancel(world.ctx, world.caller.organization_id, wire["id"])
    assert exc.value.status == 403


async def test_message_still_queued_at_valid_until_fails_unbilled(world):
    world.ctx.settings.queue_ttl_seconds = 60
    body = {"from": world.long_code, "to": "+13125550123", "text": "stale"}
    wire = await sending.send(world.ctx, world.caller, body)
    world.clock.advance(61)  # the dispatcher was down for a minute
    await dispatch.dispatch_once(world.ctx, world.links)
    retrieved = await messages_query.retrieve(world.ctx, world.caller.organization_id, wire["id"])
    assert retrieved["to"][0]["status"] == "sending_failed"
    assert retrieved["errors"][0]["code"] == "40014"
    assert retrieved["cost"]["amount"] == "0.0000"
    assert world.carrier.submitted == []
