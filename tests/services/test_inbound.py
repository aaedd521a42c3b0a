"""Inbound messages, keywords, opt-outs and auto-replies, in process (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import pytest

from heliograph.domain.errors import MessagingRejected, NotFound
from heliograph.domain.filters import OptOutFilter
from heliograph.services import compliance, dispatch, inbound, sending
from heliograph.store import outbox

HANDSET = "+13125550777"


async def _receive(world, text: str, to: str | None = None) -> dict:
    return await inbound.receive(
        world.ctx, world.caller.organization_id, sender=HANDSET, to=to or world.long_code, text=text, media_urls=[]
    )


async def _send(world, **extra) -> dict:
    body = {"from": world.long_code, "to": HANDSET, "text": "hello", **extra}
    return await sending.send(world.ctx, world.caller, body)


async def test_stop_blocks_sends_from_every_number_of_the_profile_and_start_lifts_it(world):
    row = await _receive(world, "  stop ")
    assert row["extra"] == {"autoresponse_type": "STOP"}
    for sender in (world.long_code, world.toll_free):
        with pytest.raises(MessagingRejected) as exc:
            await sending.send(world.ctx, world.caller, {"from": sender, "to": HANDSET, "text": "x"})
        assert exc.value.code == "40300"
    await _receive(world, "START")
    assert (await _send(world))["to"][0]["status"] == "queued"


async def test_a_sentence_containing_stop_is_not_a_keyword(world):
    row = await _receive(world, "please stop calling me later")
    assert row["extra"] is None
    await _send(world)


async def test_configured_keyword_replies_with_a_real_outbound_message(world):
    profile_id = world.account.profile_id
    await compliance.create_config(
        world.ctx,
        world.caller.organization_id,
        profile_id,
        {
            "op": "info",
            "keywords": ["AYUDA"],
            "country_code": "US",
            "resp_text": "Help: reply STOP to opt out of all texts.",
        },
    )
    await _receive(world, "ayuda")
    await dispatch.dispatch_once(world.ctx, world.links)
    replies = [s for _, s in world.carrier.submitted if s.to_number == HANDSET]
    assert [r.text for r in replies] == ["Help: reply STOP to opt out of all texts."]
    assert replies[0].from_number == world.long_code


async def test_without_a_config_default_keywords_change_block_rules_but_send_nothing(world):
    await _receive(world, "UNSUBSCRIBE")
    await dispatch.dispatch_once(world.ctx, world.links)
    assert world.carrier.submitted == []
    rules, total = await compliance.list_opt_outs(world.ctx, world.caller.organization_id, OptOutFilter(), 0, 10)
    assert total == 1 and rules[0]["keyword"] == "UNSUBSCRIBE" and rules[0]["from_number"] == world.long_code


async def test_inbound_owes_message_received_to_the_profile_urls(world):
    from heliograph.services import profiles

    await profiles.update_profile(
        world.ctx, world.caller.organization_id, world.account.profile_id, {"webhook_url": "http://127.0.0.1:9/hook"}
    )
    row = await _receive(world, "hi there")
    async with world.ctx.db.read() as conn:
        events = await outbox.events_for_message(conn, row["id"])
    assert [(e["event_type"], e["urls"]) for e in events] == [("message.received", ["http://127.0.0.1:9/hook"])]


async def test_inbound_to_a_number_of_another_account_is_refused(world):
    with pytest.raises(NotFound):
        await _receive(world, "hi", to="+13125550999")


async def test_reserved_keywords_cannot_move_to_another_operation(world):
    from heliograph.domain.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        await compliance.create_config(
            world.ctx,
            world.caller.organization_id,
            world.account.profile_id,
            {"op": "info", "keywords": ["STOP"], "country_code": "US", "resp_text": "x" * 25},
        )
    assert exc.value.code == "10015"
