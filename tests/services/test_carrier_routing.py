"""Routes, failover and per-part receipts, through the services with a frozen clock and connector doubles
that behave like links (part ids, up/down, retryable refusals)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from heliograph.carriers.base import CarrierReceipt, LinkState, Sinks, Submission, SubmitResult
from heliograph.services import connectors, delivery, dispatch, inbound, messages_query, receipts, sending
from heliograph.services.carrier_links import CarrierLinks
from heliograph.store import carriers as carrier_store


@dataclass
class LinkDouble:
    """A connector with part ids, a state, and a switch for retryable refusals."""

    name: str
    type: str = "smpp"
    state: str = "up"
    retryable: bool = False
    submitted: list[Submission] = field(default_factory=list)

    async def open(self, sinks: Sinks) -> None:
        self.sinks = sinks

    def link_state(self) -> LinkState:
        return LinkState(self.state, 1)

    async def submit(self, submissions: Sequence[Submission]) -> list[SubmitResult]:
        if self.retryable:
            return [SubmitResult(s.message_id, False, retryable=True) for s in submissions]
        self.submitted.extend(submissions)
        return [
            SubmitResult(
                s.message_id,
                True,
                carrier_message_id=f"{self.name}-{s.message_id}-0",
                carrier_part_ids=tuple(f"{self.name}-{s.message_id}-{i}" for i in range(s.parts)),
            )
            for s in submissions
        ]

    async def resume(self, in_flight: Sequence[Submission]) -> None:
        pass

    async def close(self) -> None:
        pass


@pytest.fixture
async def links(world):
    doubles = {"a": LinkDouble("a"), "b": LinkDouble("b")}
    for name in doubles:
        await connectors.add_connector(world.ctx, "smpp", name, {"host": "h", "port": 1, "system_id": "x"})
    await connectors.add_route(world.ctx, "uk", ["a", "b"], prefixes=["+44"], priority=5)
    sinks = Sinks(
        reports=lambda items: delivery.record_reports(world.ctx, items),
        receipts=lambda items: receipts.record(world.ctx, items),
        inbound=lambda items: inbound.record_carrier_inbound(world.ctx, items),
    )
    running = CarrierLinks(world.ctx, lambda row: doubles.get(row["name"], world.carrier), sinks)
    await running.start()
    running.doubles = doubles
    yield running
    await running.close()


async def _send(world, to: str, text: str = "hello") -> dict:
    return await sending.send(world.ctx, world.caller, {"from": world.long_code, "to": to, "text": text}, sending.SEND)


async def _status(world, message_id: str) -> dict:
    return await messages_query.retrieve(world.ctx, world.caller.organization_id, message_id)


def _receipt(connector: str, carrier_id: str, status: str, at: int, code: str | None = None) -> CarrierReceipt:
    return CarrierReceipt(connector, carrier_id, status, at, error_code=code)


async def _finalized_events(world, message_id: str) -> int:
    from sqlalchemy import func, select

    from heliograph.store.tables import webhook_events

    async with world.ctx.db.read() as conn:
        query = select(func.count()).where(
            webhook_events.c.message_id == message_id, webhook_events.c.event_type == "message.finalized"
        )
        return (await conn.execute(query)).scalar()


async def test_the_route_picks_its_first_connector_and_records_part_ids(world, links):
    sent = await _send(world, "+447700900001", "x" * 300)  # 2 GSM-7 parts
    await dispatch.dispatch_once(world.ctx, links)
    view = await _status(world, sent["id"])
    assert view["to"][0]["status"] == "sent"
    assert view["heliograph"] == {
        "connector": "a",
        "carrier_message_ids": [f"a-{sent['id']}-0", f"a-{sent['id']}-1"],
    }
    assert links.doubles["b"].submitted == []


async def test_a_down_or_retrying_connector_passes_the_message_to_the_next(world, links):
    links.doubles["a"].state = "down"
    first = await _send(world, "+447700900002")
    await dispatch.dispatch_once(world.ctx, links)
    assert (await _status(world, first["id"]))["heliograph"]["connector"] == "b"
    links.doubles["a"].state = "up"
    links.doubles["a"].retryable = True
    second = await _send(world, "+447700900003")
    world.clock.advance(1)  # past the sender's throughput slot
    await dispatch.dispatch_once(world.ctx, links)
    assert (await _status(world, second["id"]))["heliograph"]["connector"] == "b"


async def test_when_every_connector_is_down_the_message_waits_queued(world, links):
    for double in links.doubles.values():
        double.state = "down"
    sent = await _send(world, "+447700900004")
    await dispatch.dispatch_once(world.ctx, links)
    assert (await _status(world, sent["id"]))["to"][0]["status"] == "queued"
    links.doubles["b"].state = "up"
    world.clock.advance(2)
    await dispatch.dispatch_once(world.ctx, links)
    assert (await _status(world, sent["id"]))["to"][0]["status"] == "sent"


async def test_no_matching_route_is_not_routable(world, links):
    await connectors.remove_route(world.ctx, "default")
    assert await links.refresh()
    sent = await _send(world, "+13125550199")
    await dispatch.dispatch_once(world.ctx, links)
    view = await _status(world, sent["id"])
    assert view["to"][0]["status"] == "sending_failed"
    assert view["errors"][0]["code"] == "40001"


async def test_multipart_is_delivered_only_when_every_part_is_and_once(world, links):
    sent = await _send(world, "+447700900005", "y" * 400)  # 3 parts
    await dispatch.dispatch_once(world.ctx, links)
    ids = (await _status(world, sent["id"]))["heliograph"]["carrier_message_ids"]
    now = world.clock.now_us()
    await receipts.record(world.ctx, [_receipt("a", ids[2], "delivered", now), _receipt("a", ids[0], "sent", now)])
    await receipts.record(world.ctx, [_receipt("a", ids[0], "delivered", now)])
    await receipts.apply_pending(world.ctx)
    assert (await _status(world, sent["id"]))["to"][0]["status"] == "sent"
    await receipts.record(world.ctx, [_receipt("a", ids[1], "delivered", now), _receipt("a", ids[1], "delivered", now)])
    await receipts.apply_pending(world.ctx)
    assert (await _status(world, sent["id"]))["to"][0]["status"] == "delivered"
    await receipts.record(world.ctx, [_receipt("a", ids[1], "delivered", now)])  # a late duplicate
    await receipts.apply_pending(world.ctx)
    assert await _finalized_events(world, sent["id"]) == 1
    async with world.ctx.db.read() as conn:
        assert await carrier_store.pending_receipts(conn, 0, 0, 10) == []


async def test_one_failed_part_fails_the_message_at_once(world, links):
    sent = await _send(world, "+447700900006", "z" * 400)
    await dispatch.dispatch_once(world.ctx, links)
    ids = (await _status(world, sent["id"]))["heliograph"]["carrier_message_ids"]
    now = world.clock.now_us()
    await receipts.record(world.ctx, [_receipt("a", ids[1], "delivery_failed", now, "40008")])
    await receipts.apply_pending(world.ctx)
    view = await _status(world, sent["id"])
    assert view["to"][0]["status"] == "delivery_failed"
    assert view["errors"][0]["code"] == "40008"
    await receipts.record(world.ctx, [_receipt("a", i, "delivered", now) for i in ids])
    await receipts.apply_pending(world.ctx)
    assert (await _status(world, sent["id"]))["to"][0]["status"] == "delivery_failed"
    assert await _finalized_events(world, sent["id"]) == 1


async def test_a_receipt_that_overtakes_the_sent_commit_waits_for_its_part(world, links):
    sent = await _send(world, "+447700900007")
    early = f"a-{sent['id']}-0"
    await receipts.record(world.ctx, [_receipt("a", early, "delivered", world.clock.now_us())])
    assert await receipts.apply_pending(world.ctx) == 0  # its part is not stored yet
    await dispatch.dispatch_once(world.ctx, links)
    assert await receipts.apply_pending(world.ctx) == 1
    assert (await _status(world, sent["id"]))["to"][0]["status"] == "delivered"


async def test_receipts_matching_nothing_are_purged_after_the_receipt_window(world, links):
    await receipts.record(world.ctx, [_receipt("a", "not-ours", "delivered", world.clock.now_us())])
    assert await receipts.purge_unmatched(world.ctx) == 0
    world.clock.advance(world.ctx.settings.receipt_window_seconds + 1)
    assert await receipts.purge_unmatched(world.ctx) == 1


async def test_route_and_connector_changes_reach_running_links(world, links):
    await connectors.add_route(world.ctx, "uk-b", ["b"], prefixes=["+447"], priority=5)
    assert await links.refresh()
    assert links.route("+447700900008", None, "SMS").name == "uk-b"  # the longer prefix wins at equal priority
    with pytest.raises(connectors.AdminError):
        await connectors.remove_connector(world.ctx, "b")
    await connectors.remove_route(world.ctx, "uk-b")
    await connectors.remove_route(world.ctx, "uk")
    await connectors.remove_connector(world.ctx, "b")
    assert await links.refresh()
    assert links.get("b") is None and links.get("a") is not None


async def test_simulator_controls_apply_to_the_running_simulator(world):
    controls = await connectors.set_simulator_controls(world.ctx, failure_rate_percent=100, handsets_off=["+1"])
    assert controls["failure_rate_percent"] == 100 and controls["handsets_off"] == ["+1"]
    assert (await connectors.get_simulator_controls(world.ctx))["failure_rate_percent"] == 100
    with pytest.raises(connectors.AdminError):
        await connectors.set_simulator_controls(world.ctx, failure_rate_percent=101)


async def test_a_connector_that_cannot_open_is_listed_down_with_why(world, links):
    def refuse(row):
        raise ValueError("SMPP password must be ASCII, at most 8 characters")

    broken = CarrierLinks(world.ctx, refuse, links._sinks)
    await connectors.add_connector(world.ctx, "smpp", "bad", {"host": "h", "port": 1, "system_id": "x"})
    await broken.start()
    await broken.report()
    listed = {c["name"]: c for c in await connectors.list_connectors(world.ctx)}
    assert listed["bad"]["state"] == "down"
    assert "at most 8 characters" in listed["bad"]["last_error"]
    await broken.close()


async def test_a_message_type_no_connector_carries_is_not_routable_and_others_skip_ahead(world, links):
    links.doubles["a"].carries = frozenset({"SMS"})
    links.doubles["b"].carries = frozenset({"SMS"})
    await connectors.add_route(world.ctx, "chicago", ["a", "b"], prefixes=["+1312"], priority=5)
    assert await links.refresh()
    body = {"from": world.long_code, "to": "+13125550177", "media_urls": ["https://example.com/a.png"]}
    sent = await sending.send(world.ctx, world.caller, body, sending.SEND)
    round_ = await dispatch.claim(world.ctx)
    round_.ready, round_.awaiting_media = round_.ready + round_.awaiting_media, []  # media fetching is not the point
    await dispatch.submit_round(world.ctx, links, round_)
    view = await _status(world, sent["id"])
    assert view["to"][0]["status"] == "sending_failed"
    assert view["errors"][0]["code"] == "40001" and "carries MMS" in view["errors"][0]["detail"]
    links.doubles["b"].carries = frozenset({"SMS", "MMS"})
    again = await sending.send(world.ctx, world.caller, {**body, "to": "+13125550178"}, sending.SEND)
    world.clock.advance(1)
    round_ = await dispatch.claim(world.ctx)
    round_.ready, round_.awaiting_media = round_.ready + round_.awaiting_media, []
    await dispatch.submit_round(world.ctx, links, round_)
    assert (await _status(world, again["id"]))["heliograph"]["connector"] == "b"


async def test_receipts_for_parts_of_one_message_applied_at_once_still_finalize_it(world, links):
    import asyncio

    sent = await _send(world, "+447700900011", "w" * 300)  # 2 parts
    await dispatch.dispatch_once(world.ctx, links)
    ids = (await _status(world, sent["id"]))["heliograph"]["carrier_message_ids"]
    now = world.clock.now_us()
    await asyncio.gather(
        receipts.record(world.ctx, [_receipt("a", ids[0], "delivered", now)]),
        receipts.record(world.ctx, [_receipt("a", ids[1], "delivered", now)]),
    )
    assert (await _status(world, sent["id"]))["to"][0]["status"] == "delivered"
    assert await _finalized_events(world, sent["id"]) == 1
