"""Daily spend limits (services/spend.py): a send that would take a profile past its limit is refused
with 429 40333, the counter starts again at 00:00 UTC, and two processes sharing the database cannot
together spend past the limit. One SMS part costs 0.0050 USD here (0.0040 rate + 0.0010 carrier fee)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from heliograph.bootstrap import build
from heliograph.domain.errors import MessagingRejected
from heliograph.services import profiles, sending
from heliograph.services.spend import DAY_US
from heliograph.store.tables import messages, profile_daily_spend, webhook_events

TO = "+13125550123"


async def _limit(world, amount: str, enabled: bool = True) -> None:
    await profiles.update_profile(
        world.ctx,
        world.account.organization["id"],
        world.account.profile_id,
        {"daily_spend_limit": amount, "daily_spend_limit_enabled": enabled, "webhook_url": "https://hooks.example/p"},
    )


async def _send(ctx, world, text: str = "hi"):
    return await sending.send(ctx, world.caller, {"from": world.long_code, "to": TO, "text": text})


async def _count(world, table) -> int:
    async with world.ctx.db.read() as conn:
        return len((await conn.execute(select(table))).all())


async def test_a_send_that_would_pass_the_limit_is_refused(world) -> None:
    await _limit(world, "0.0100")
    await _send(world.ctx, world)
    await _send(world.ctx, world)  # 0.0100: exactly the limit is allowed
    for _ in range(2):
        with pytest.raises(MessagingRejected) as refused:
            await _send(world.ctx, world)
        assert (refused.value.status, refused.value.code) == (429, "40333")
    assert await _count(world, messages) == 2
    async with world.ctx.db.read() as conn:
        events = (
            await conn.execute(
                select(webhook_events.c.data_json, webhook_events.c.urls).where(
                    webhook_events.c.event_type == "messaging-profile.spend-limit-reached"
                )
            )
        ).all()
    assert len(events) == 1  # once a day, not once per refusal
    assert '"configured_limit":"0.0100"' in events[0][0] and '"current_cost":"0.0100"' in events[0][0]
    assert list(events[0][1]) == ["https://hooks.example/p"]

    with pytest.raises(MessagingRejected):  # a two-part SMS (0.0100) does not fit either
        await _send(world.ctx, world, "x" * 200)
    await _limit(world, "0.0150")  # raising the limit takes effect at once; the day's spend stays
    await _send(world.ctx, world)
    with pytest.raises(MessagingRejected):
        await _send(world.ctx, world)


async def test_the_limit_starts_again_at_utc_midnight(world) -> None:
    await _limit(world, "0.0050")
    await _send(world.ctx, world)
    with pytest.raises(MessagingRejected):
        await _send(world.ctx, world)
    now = world.clock.now_us()
    world.clock.advance((DAY_US - now % DAY_US - 1) / 1_000_000)  # 23:59:59.999999 UTC, same day
    with pytest.raises(MessagingRejected):
        await _send(world.ctx, world)
    world.clock.advance(1 / 1_000_000)  # 00:00 UTC
    await _send(world.ctx, world)


async def test_a_disabled_limit_is_not_enforced(world) -> None:
    await _limit(world, "0.00", enabled=False)
    for _ in range(3):
        await _send(world.ctx, world)
    assert await _count(world, profile_daily_spend) == 0


async def test_the_limit_holds_across_processes(world) -> None:
    """Two servers on one database, each with its group committer: concurrent sends spend at most the limit."""
    await _limit(world, "0.0500")  # room for 10 messages
    other = build(world.hg.settings, clock=world.clock)
    servers = [world.hg, other]
    for hg in servers:
        hg.ctx.committer.start()
    try:
        results = await asyncio.gather(*(_send(servers[i % 2].ctx, world) for i in range(30)), return_exceptions=True)
    finally:
        for hg in servers:
            await hg.ctx.committer.stop()
        await other.ctx.db.dispose()
    refused = [r for r in results if isinstance(r, MessagingRejected)]
    assert all(r.code == "40333" for r in refused)
    assert len(results) - len(refused) == 10 == await _count(world, messages)
    async with world.ctx.db.read() as conn:
        assert (await conn.execute(select(profile_daily_spend.c.spend_micros))).scalar() == 50_000
