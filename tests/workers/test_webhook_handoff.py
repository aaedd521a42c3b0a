"""Events the worker commits are handed straight to its own webhook sender, leased at insert; when the
sender has no room they are claimed from the outbox instead, and leases a stopping sender could not use
are given back (services/webhooks.py Handoff). Either way every webhook arrives once, signed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from workers_support import eventually, receiving, running

from heliograph.services import webhooks
from heliograph.store import outbox


async def test_every_webhook_arrives_once_when_the_sender_has_little_room(tmp_path: Path) -> None:
    # two attempts in flight at most: most events cannot be handed off and wait in the outbox for a claim
    async with running(tmp_path, webhook_concurrency=2) as world, receiving() as hooks:
        sent = await asyncio.gather(
            *(world.send(to=f"+1312555{i:04d}", text=f"n{i}", webhook_url=hooks.url()) for i in range(30))
        )
        ids = {m["id"] for m in sent}

        def complete() -> bool:
            return all(hooks.events(i, "message.finalized") for i in ids)

        await eventually(complete, timeout=30, message="some message.finalized never arrived")
        for message_id in ids:
            for kind in ("message.sent", "message.finalized"):
                [hit] = hooks.events(message_id, kind)  # exactly once
                assert world.verify(hit)["meta"]["attempt"] == 1


async def test_leases_taken_for_a_sender_are_given_back_for_others_to_claim(tmp_path: Path) -> None:
    async with running(tmp_path) as world, receiving() as hooks:
        ctx = world.hg.ctx
        msg = await world.send(to="+13125550199", text="x", webhook_url=hooks.url())
        await eventually(lambda: hooks.events(msg["id"], "message.finalized"))
        await world.hg.workers.stop()  # no sender of this process competes for the claim below
        world.hg.workers.tasks.clear()
        event = webhooks.new_event(
            organization_id=world.account.organization["id"],
            event_type="message.finalized",
            payload={"id": msg["id"]},
            occurred_at=ctx.now(),
            urls=[hooks.url()],
            message_id=msg["id"],
        )
        event["lease_until"] = ctx.now() + 60_000_000  # as a Handoff leases it
        async with ctx.db.transaction() as conn:
            await outbox.add_events(conn, [event])
        seeds = webhooks.SeedCache()
        assert await webhooks.claim_due(ctx, seeds, 10, 1_000_000) == []  # leased: nobody else takes it
        await webhooks.release(ctx, [event])
        [claimed] = await webhooks.claim_due(ctx, seeds, 10, 1_000_000)
        assert claimed["id"] == event["id"]
