"""Send slots shared by every process (services/pacing.py): each process's pacer takes its slots from the
same pacing_slots row, so two processes together keep one sender's, or one connector's, throughput."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from heliograph.services.pacing import SharedPacer
from heliograph.store.tables import pacing_slots


async def _next_free(world, key: str) -> int:
    async with world.ctx.db.read() as conn:
        return (await conn.execute(select(pacing_slots.c.next_free).where(pacing_slots.c.sender == key))).scalar()


async def test_two_processes_pacers_share_one_connectors_slots(world):
    first, second = SharedPacer(world.ctx), SharedPacer(world.ctx)  # as in two worker processes
    waits = [pacer.wait("connector:smsc", 1000) for pacer in (first, second) for _ in range(5)]
    await asyncio.gather(*waits)
    # ten consecutive 1 ms slots from one row, not five from each of two
    assert await _next_free(world, "connector:smsc") == world.ctx.now() + 10 * 1000


async def test_a_connectors_slots_continue_where_the_last_process_left_them(world):
    await SharedPacer(world.ctx).wait("connector:smsc", 1000)
    await SharedPacer(world.ctx).wait("connector:smsc", 1000)
    assert await _next_free(world, "connector:smsc") == world.ctx.now() + 2 * 1000


async def test_sends_through_two_processes_take_consecutive_slots_of_their_sender(world):
    from heliograph.services import sending
    from heliograph.services.committer import GroupCommitter

    world.ctx.settings.mps_long_code = 5.0
    body = {"from": world.long_code, "to": "+13125550123", "text": "paced"}
    committers = [world.ctx.committer, GroupCommitter(world.ctx.db)]  # the second: another process's
    wires = []
    for i in range(6):
        world.ctx.committer = committers[i % 2]
        wires.append(await sending.send(world.ctx, world.caller, dict(body)))
    world.ctx.committer = committers[0]
    assert [w["wait_seconds"] for w in wires] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
