"""The dispatch loop with the simulator carrier: accepted messages are submitted as soon as they are
committed and walk queued → sent → a final status, each step announced by a signed webhook
(spec messages.md §6, webhooks.md §1). In-process: the real loops, a temp SQLite file, an aiohttp receiver."""

from __future__ import annotations

import pytest
from workers_support import Receiver, World, eventually

TERMINAL = {"delivered", "delivery_failed", "delivery_unconfirmed", "sending_failed"}


async def _final(world: World, message_id: str) -> dict:
    async def done() -> dict | None:
        msg = await world.message(message_id)
        return msg if msg["to"][0]["status"] in TERMINAL else None

    return await eventually(done, message=f"{message_id} never reached a final status")


async def test_a_message_is_sent_then_delivered_with_signed_webhooks(world: World, receiver: Receiver) -> None:
    msg = await world.send(to="+13125550123", text="hello", webhook_url=receiver.url("/message"))
    assert msg["to"][0]["status"] == "queued"
    final = await _final(world, msg["id"])
    assert final["to"][0]["status"] == "delivered"
    assert final["sent_at"] and final["completed_at"]
    await eventually(lambda: len(receiver.events(msg["id"])) >= 2, message="webhooks did not arrive")
    sent, finalized = receiver.events(msg["id"])
    assert [h.path for h in (sent, finalized)] == ["/message", "/message"]
    sent_body, final_body = world.verify(sent), world.verify(finalized)
    assert sent_body["data"]["event_type"] == "message.sent"
    assert sent_body["data"]["payload"]["to"][0]["status"] == "sent"
    assert final_body["data"]["event_type"] == "message.finalized"
    assert final_body["data"]["payload"]["to"][0]["status"] == "delivered"
    assert final_body["meta"] == {"attempt": 1, "delivered_to": receiver.url("/message")}


@pytest.mark.parametrize(
    ("to", "status", "sent_event"),
    [
        ("+15005550001", "delivery_failed", True),  # the handset never gets it: 40008
        ("+15005550002", "sending_failed", False),  # refused at submission: no message.sent
        ("+15005550003", "delivery_unconfirmed", True),
    ],
)
async def test_the_simulators_numbers_end_in_their_status(
    world: World, receiver: Receiver, to: str, status: str, sent_event: bool
) -> None:
    msg = await world.send(to=to, text="x", webhook_url=receiver.url())
    assert (await _final(world, msg["id"]))["to"][0]["status"] == status
    finalized = await eventually(lambda: receiver.events(msg["id"], "message.finalized"))
    assert world.verify(finalized[0])["data"]["payload"]["to"][0]["status"] == status
    assert bool(receiver.events(msg["id"], "message.sent")) is sent_event


async def test_a_burst_of_messages_all_finish(world: World) -> None:
    ids = [(await world.send(to=f"+1312555{i:04d}", text=f"n{i}"))["id"] for i in range(30)]
    for message_id in ids:
        assert (await _final(world, message_id))["to"][0]["status"] == "delivered"
