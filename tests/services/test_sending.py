"""services/sending.py, the send use case, in process: what a send answers, what it stores, and how it is
refused (spec messages.md §3). Through its public entry point `sending.send(ctx, caller, body, endpoint)`,
with a temp SQLite file (and PostgreSQL when configured), a frozen clock and a recording carrier."""

from __future__ import annotations

from typing import Any

import pytest

from heliograph.domain.errors import HeliographError
from heliograph.services import dispatch, inbound, messages_query, numbers, profiles, sending

HANDSET = "+13125550123"


async def _send(world, body: dict[str, Any], endpoint: sending.Endpoint = sending.SEND) -> dict[str, Any]:
    return await sending.send(world.ctx, world.caller, body, endpoint)


async def _refusal(world, body: dict[str, Any], endpoint: sending.Endpoint = sending.SEND) -> HeliographError:
    with pytest.raises(HeliographError) as refused:
        await _send(world, body, endpoint)
    return refused.value


async def _profile(world, **values: Any) -> dict[str, Any]:
    body = {"name": "P", "whitelisted_destinations": ["*"], **values}
    return await profiles.create_profile(world.ctx, world.caller.organization_id, body)


async def test_a_send_is_queued_priced_and_stored_but_not_yet_submitted(world) -> None:
    sent = await _send(world, {"from": world.long_code, "to": HANDSET, "text": "hello"})
    assert sent["to"] == [
        {"phone_number": HANDSET, "carrier": sent["to"][0]["carrier"], "line_type": "Wireless", "status": "queued"}
    ]
    assert (sent["type"], sent["encoding"], sent["parts"], sent["text"]) == ("SMS", "GSM-7", 1, "hello")
    assert sent["cost"] == {"amount": "0.0050", "currency": "USD"}
    assert sent["messaging_profile_id"] == world.account.profile_id
    stored = await messages_query.retrieve(world.ctx, world.caller.organization_id, sent["id"])
    stored.pop("heliograph")
    assert stored == sent
    assert world.carrier.submitted == []  # submitting is the dispatcher's job


@pytest.mark.parametrize(
    ("text", "encoding", "parts"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),  # a UDH takes 6 bytes: a concatenated GSM-7 part holds 153 characters
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("中" * 70, "UCS-2", 1),
        ("中" * 71, "UCS-2", 2),  # 67 per concatenated UCS-2 part
        ("中" * 134, "UCS-2", 2),
        ("中" * 135, "UCS-2", 3),
    ],
    ids=["gsm7-160", "gsm7-161", "gsm7-306", "gsm7-307", "ucs2-70", "ucs2-71", "ucs2-134", "ucs2-135"],
)
async def test_encoding_and_parts_follow_the_text(world, text: str, encoding: str, parts: int) -> None:
    sent = await _send(world, {"from": world.long_code, "to": HANDSET, "text": text})
    assert (sent["encoding"], sent["parts"], sent["num_chars"]) == (encoding, parts, len(text))


async def test_smart_encoding_keeps_a_message_in_gsm7(world) -> None:
    profile = await _profile(world, smart_encoding=True)
    number = "+13125550188"
    await numbers.add_number(world.ctx, world.caller.organization_id, number, profile_id=profile["id"])
    text = "\u201cSmart\u201d quotes \u2013 and \u2018more\u2019"
    sent = await _send(world, {"from": number, "to": HANDSET, "text": text})
    assert (sent["encoding"], sent["smart_encoding_applied"], sent["text"]) == ("GSM-7", True, text)
    plain = await _send(world, {"from": world.long_code, "to": HANDSET, "text": text})
    assert (plain["encoding"], plain["smart_encoding_applied"]) == ("UCS-2", False)


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"from": "+13125559999", "to": HANDSET, "text": "x"}, "40305", "/from"),
        ({"from": "{long_code}", "to": "+15005550004", "text": "x"}, "40310", "/to"),
        ({"from": "{long_code}", "to": HANDSET}, "40316", None),
        ({"from": "{long_code}", "to": HANDSET, "text": "x", "send_at": "2099-01-01T00:00:00Z"}, "10033", "/send_at"),
        ({"from": "{long_code}", "to": HANDSET, "text": 5}, "10026", "/text"),
        ({"from": "{long_code}", "to": HANDSET, "text": "x", "webhook_url": "ftp://x"}, "10003", "/webhook_url"),
    ],
)
async def test_a_refusal_names_its_code_and_field(world, body: dict, code: str, pointer: str | None) -> None:
    body = {k: (world.long_code if v == "{long_code}" else v) for k, v in body.items()}
    refused = await _refusal(world, body)
    assert (refused.code, refused.pointer) == (code, pointer), refused


async def test_whitelisted_destinations_hold_until_the_profile_allows_the_region(world) -> None:
    profile = await _profile(world, whitelisted_destinations=["US"])
    number = "+13125550189"
    await numbers.add_number(world.ctx, world.caller.organization_id, number, profile_id=profile["id"])
    refused = await _refusal(world, {"from": number, "to": "+447400123456", "text": "Hello London"})
    assert refused.code == "40309" and "GB" in str(refused.detail)
    await profiles.update_profile(
        world.ctx, world.caller.organization_id, profile["id"], {"whitelisted_destinations": ["*"]}
    )
    assert (await _send(world, {"from": number, "to": "+447400123456", "text": "Hello London"}))["to"][0][
        "status"
    ] == "queued"


async def test_an_opted_out_recipient_cannot_be_sent_to_or_scheduled(world) -> None:
    await inbound.receive(
        world.ctx, world.caller.organization_id, sender=HANDSET, to=world.long_code, text="STOP", media_urls=[]
    )
    for extra in ({}, {"send_at": "2027-01-15T09:00:00Z"}):
        refused = await _refusal(world, {"from": world.long_code, "to": HANDSET, "text": "x", **extra})
        assert refused.code == "40300"
    other = await _send(world, {"from": world.long_code, "to": "+13125550124", "text": "x"})
    assert other["to"][0]["status"] == "queued"


async def test_a_scheduled_message_waits_for_its_time(world) -> None:
    sent = await _send(
        world, {"from": world.long_code, "to": HANDSET, "text": "later", "send_at": "2027-01-15T09:00:00Z"}
    )
    assert sent["to"][0]["status"] == "scheduled"
    await dispatch.dispatch_once(world.ctx, world.links)
    assert world.carrier.submitted == []
    world.clock.advance(3600)
    await dispatch.dispatch_once(world.ctx, world.links)
    assert [s.message_id for _, s in world.carrier.submitted] == [sent["id"]]


async def test_a_number_pool_sends_from_one_of_its_numbers(world) -> None:
    pool = {"long_code_weight": 1, "toll_free_weight": 1, "skip_unhealthy": False}
    profile = await _profile(world, number_pool_settings=pool)
    mine = {"+13125550191", "+13125550192"}
    for number in sorted(mine):
        await numbers.add_number(world.ctx, world.caller.organization_id, number, profile_id=profile["id"])
    for to in ("+13125550124", "+13125550125", "+13125550126"):
        sent = await _send(world, {"messaging_profile_id": profile["id"], "to": to, "text": "p"}, sending.NUMBER_POOL)
        assert sent["from"]["phone_number"] in mine


async def test_a_group_mms_makes_one_message_per_recipient(world) -> None:
    recipients = ["+13125550131", "+13125550132"]
    body = {"from": world.long_code, "to": recipients, "text": "Look", "media_urls": ["https://example.com/cat.jpg"]}
    group = await _send(world, body, sending.GROUP_MMS)
    assert sorted(t["phone_number"] for t in group["to"]) == recipients
    assert group["type"] == "MMS"
