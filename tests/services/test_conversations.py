"""What the console reads: conversations, threads, search, live changes, message detail and the signature
check, in process (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import base64

import orjson
import pytest

from heliograph.domain.errors import NotFound
from heliograph.services import (
    conversations,
    dispatch,
    inbound,
    message_changes,
    message_detail,
    profiles,
    sending,
    signature_check,
    signing,
    webhook_log,
    webhooks,
)
from heliograph.store import accounts as account_store
from heliograph.store import conversations as store
from heliograph.store import outbox


async def _send(world, to: str, text: str, sender: str | None = None) -> dict:
    world.clock.advance(1)
    return await sending.send(world.ctx, world.caller, {"from": sender or world.long_code, "to": to, "text": text})


async def _receive(world, handset: str, text: str, to: str | None = None) -> dict:
    world.clock.advance(1)
    org = world.caller.organization_id
    return await inbound.receive(world.ctx, org, sender=handset, to=to or world.long_code, text=text, media_urls=[])


async def test_handsets_newest_activity_first_with_their_last_message(world, monkeypatch):
    await _send(world, "+13125550001", "first to one")
    await _send(world, "+13125550002", "first to two")
    await _receive(world, "+13125550001", "one writes back")
    await _send(world, "+13125550003", "first to three")
    expected = [
        ("+13125550003", "first to three", "outbound"),
        ("+13125550001", "one writes back", "inbound"),
        ("+13125550002", "first to two", "outbound"),
    ]
    org = world.caller.organization_id
    listed = await conversations.latest(world.ctx, org)
    assert [(c["handset"], c["text"], c["direction"]) for c in listed] == expected
    # the GROUP BY path (the newest messages name too few handsets) gives the same answer
    monkeypatch.setattr(store, "RECENT_WINDOW", 2)
    listed = await conversations.latest(world.ctx, org, limit=3)
    assert [(c["handset"], c["text"], c["direction"]) for c in listed] == expected
    assert [c["handset"] for c in await conversations.latest(world.ctx, org, limit=2)] == [e[0] for e in expected[:2]]
    assert await conversations.latest(world.ctx, "another-organization") == []


async def test_a_thread_is_one_handset_with_one_of_our_numbers(world):
    handset = "+13125550010"
    await _send(world, handset, "from the long code")
    await _send(world, handset, "from toll-free", sender=world.toll_free)
    await _receive(world, handset, "back to the long code")
    org = world.caller.organization_id

    thread = await conversations.thread(world.ctx, org, handset)
    assert thread.number == world.long_code  # the most recent activity
    assert thread.numbers == [world.long_code, world.toll_free]
    assert [m["text"] for m in thread.messages] == ["from the long code", "back to the long code"]
    other = await conversations.thread(world.ctx, org, handset, world.toll_free)
    assert [m["text"] for m in other.messages] == ["from toll-free"]
    # a number that is not ours is ignored; a handset that never wrote starts with our first number
    assert (await conversations.thread(world.ctx, org, handset, "+19995550000")).number == world.long_code
    fresh = await conversations.thread(world.ctx, org, "+13125550011")
    assert fresh.number is not None and fresh.messages == [] and not fresh.opted_out

    await _receive(world, handset, "STOP")
    assert (await conversations.thread(world.ctx, org, handset)).opted_out
    await _receive(world, handset, "START")
    assert not (await conversations.thread(world.ctx, org, handset)).opted_out


async def test_search_by_text_or_number(world):
    await _send(world, "+13125550020", "Your parcel is on its way")
    await _send(world, "+13125550021", "Dinner at eight?")
    org = world.caller.organization_id
    assert [r["text"] for r in await conversations.search(world.ctx, org, "PARCEL")] == ["Your parcel is on its way"]
    assert [r["to_number"] for r in await conversations.search(world.ctx, org, "555 0021")] == ["+13125550021"]
    assert await conversations.search(world.ctx, org, "  ") == []
    assert await conversations.search(world.ctx, "another-organization", "parcel") == []
    assert await conversations.search(world.ctx, org, "100%_") == []  # LIKE wildcards are plain characters


async def test_changes_since_report_new_messages_and_status_moves(world):
    org = world.caller.organization_id
    before = world.ctx.now()
    sent = await _send(world, "+13125550030", "watch me")
    changes = await message_changes.since(world.ctx, org, before)
    assert [(c["id"], c["status"], c["new"]) for c in changes] == [(sent["id"], "queued", True)]

    world.clock.advance(1)
    moved_after = world.ctx.now()
    await dispatch.dispatch_once(world.ctx, world.links)
    changes = await message_changes.since(world.ctx, org, moved_after)
    assert [(c["id"], c["status"], c["new"]) for c in changes] == [(sent["id"], "sent", False)]
    assert await message_changes.since(world.ctx, "another-organization", before) == []


async def test_message_detail_cuts_parts_and_builds_a_timeline(world):
    text = "x" * 200  # two GSM-7 parts: 153 + 47 septets
    sent = await _send(world, "+13125550040", text)
    world.clock.advance(1)
    await dispatch.dispatch_once(world.ctx, world.links)
    org = world.caller.organization_id
    detail = await message_detail.detail(world.ctx, org, sent["id"])
    assert [(p.number, p.units) for p in detail.parts] == [(1, 153), (2, 47)]
    assert "".join(p.text for p in detail.parts) == text
    assert [s.what for s in detail.timeline][:2] == ["accepted", "sent"]
    assert "message.sent" in [s.what for s in detail.timeline]
    assert detail.message["id"] == sent["id"]
    with pytest.raises(NotFound):
        await message_detail.detail(world.ctx, "another-organization", sent["id"])


async def _event_with_attempt(world) -> tuple[dict, bytes, int]:
    """A message.sent event with one recorded attempt, and the body and timestamp that attempt was signed with."""
    org = world.caller.organization_id
    await profiles.update_profile(world.ctx, org, world.account.profile_id, {"webhook_url": "http://127.0.0.1:9/hook"})
    sent = await _send(world, "+13125550050", "sign me")
    world.clock.advance(1)
    await dispatch.dispatch_once(world.ctx, world.links)
    async with world.ctx.db.read() as conn:
        [event] = [e for e in await outbox.events_for_message(conn, sent["id"]) if e["event_type"] == "message.sent"]
    started = world.ctx.now()
    attempt = {
        "event_id": event["id"],
        "attempt": 1,
        "url": "http://127.0.0.1:9/hook",
        "started_at": started,
        "finished_at": started + 5000,
        "delivered": True,
        "http_status": 200,
        "error_code": None,
        "error_detail": None,
        "response_body": "ok",
    }
    outcome = {
        "id": event["id"],
        "status": "delivered",
        "attempts": 1,
        "next_url_index": 0,
        "next_attempt_at": None,
        "first_attempt_at": started,
        "finished_at": started + 5000,
    }
    async with world.ctx.db.transaction() as conn:
        await outbox.record_attempts(conn, [attempt], [outcome])
    event = {**event, "attempts": 1}
    return event, webhooks.body_for_attempt(event, 1, attempt["url"]), started // 1_000_000


async def test_signature_check_tells_a_good_signature_from_an_altered_body_and_a_wrong_key(world):
    org = world.caller.organization_id
    event, body, stamp = await _event_with_attempt(world)
    async with world.ctx.db.read() as conn:
        seed = (await account_store.get_organization(conn, org))["signing_seed"]
    signature = signing.sign(seed, stamp, body)

    good = await signature_check.check(world.ctx, org, body.decode(), str(stamp), signature)
    assert good.verified and "verifies" in good.reasons[0]

    reserialized = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2).decode()
    altered = await signature_check.check(world.ctx, org, reserialized, str(stamp), signature)
    assert not altered.verified and altered.reasons[0].startswith("Body altered")

    other_seed, _ = signing.new_key_pair()
    foreign = signing.sign(other_seed, stamp, body)
    wrong = await signature_check.check(world.ctx, org, body.decode(), str(stamp), foreign)
    assert not wrong.verified and wrong.reasons[0].startswith("Wrong key")

    shifted = await signature_check.check(world.ctx, org, body.decode(), str(stamp + 1), signature)
    assert not shifted.verified and shifted.reasons[-1].startswith("Timestamp altered")

    world.clock.advance(3600)
    stale = await signature_check.check(world.ctx, org, body.decode(), str(stamp), signature)
    assert not stale.verified and stale.reasons[0].startswith("Stale timestamp")

    garbage = await signature_check.check(world.ctx, org, body.decode(), str(stamp), base64.b64encode(b"x").decode())
    assert not garbage.verified and "64 bytes" in garbage.reasons[0]
    unknown = await signature_check.check(world.ctx, org, '{"data":{"id":"nope"}}', str(stamp), foreign)
    assert not unknown.verified and "not one of your recorded webhooks" in unknown.reasons[-1]


async def test_webhook_log_newest_first_with_the_signed_requests(world):
    org = world.caller.organization_id
    event, body, stamp = await _event_with_attempt(world)
    entries = await webhook_log.recent(world.ctx, org)
    assert entries[0].event["id"] == event["id"] and entries[0].url == "http://127.0.0.1:9/hook"
    assert await webhook_log.recent(world.ctx, org, failed_only=True) == []
    entry, [signed] = await webhook_log.entry(world.ctx, org, event["id"])
    assert signed.body.encode() == body
    assert signed.headers["telnyx-timestamp"] == str(stamp)
    async with world.ctx.db.read() as conn:
        seed = (await account_store.get_organization(conn, org))["signing_seed"]
    assert signed.headers["telnyx-signature-ed25519"] == signing.sign(seed, stamp, body)
    with pytest.raises(NotFound):
        await webhook_log.entry(world.ctx, "another-organization", event["id"])
