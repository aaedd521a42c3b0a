"""Sender throughput: a burst from one long code reaches the carrier spaced at its messages per second."""

from __future__ import annotations

import asyncio

import pytest

from heliograph.domain.errors import MessagingRejected
from heliograph.services import dispatch, sending


async def _drain(world, seconds: float, step: float = 0.01) -> None:
    for _ in range(int(seconds / step)):
        await dispatch.dispatch_once(world.ctx, world.links)
        world.clock.advance(step)


async def test_burst_from_one_long_code_is_spaced_at_its_mps(world):
    world.ctx.settings.mps_long_code = 5.0
    body = {"from": world.long_code, "to": "+13125550123", "text": "burst"}
    wires = await asyncio.gather(*(sending.send(world.ctx, world.caller, dict(body)) for _ in range(20)))
    waits = sorted(w["wait_seconds"] for w in wires)
    assert waits == pytest.approx([i * 0.2 for i in range(20)], abs=1e-6)
    await _drain(world, 5)
    times = sorted(t for t, _ in world.carrier.submitted)
    assert len(times) == 20
    gaps = [(b - a) / 1e6 for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.2 - 1e-6


async def test_senders_are_paced_independently(world):
    world.ctx.settings.mps_long_code = 1.0
    world.ctx.settings.mps_toll_free = 1.0
    long_code, toll_free = world.long_code, world.toll_free
    first = await sending.send(world.ctx, world.caller, {"from": long_code, "to": "+13125550123", "text": "a"})
    other = await sending.send(world.ctx, world.caller, {"from": toll_free, "to": "+13125550123", "text": "b"})
    second = await sending.send(world.ctx, world.caller, {"from": long_code, "to": "+13125550123", "text": "c"})
    assert (first["wait_seconds"], other["wait_seconds"], second["wait_seconds"]) == (0.0, 0.0, 1.0)


async def test_a_queue_longer_than_validity_is_refused(world):
    world.ctx.settings.mps_long_code = 1.0
    world.ctx.settings.queue_ttl_seconds = 3
    body = {"from": world.long_code, "to": "+13125550123", "text": "x"}
    for _ in range(4):
        await sending.send(world.ctx, world.caller, dict(body))
    with pytest.raises(MessagingRejected) as exc:
        await sending.send(world.ctx, world.caller, dict(body))
    assert exc.value.code == "40318"


async def test_a_number_can_have_its_own_throughput(world):
    from heliograph.services import numbers

    world.ctx.settings.mps_long_code = 1.0
    await numbers.add_number(world.ctx, world.caller.organization_id, world.long_code, mps=4.0)
    body = {"from": world.long_code, "to": "+13125550123", "text": "x"}
    waits = [(await sending.send(world.ctx, world.caller, dict(body)))["wait_seconds"] for _ in range(3)]
    assert waits == [0.0, 0.25, 0.5]
