"""Profile metrics from rollups: exact counts and rates for known traffic, inside and outside the window."""

from __future__ import annotations

from heliograph.carriers.base import DeliveryReport
from heliograph.services import delivery, dispatch, inbound, metrics, sending


async def _traffic(world, destinations: list[str]) -> list[dict]:
    wires = []
    for to in destinations:
        wires.append(await sending.send(world.ctx, world.caller, {"from": world.long_code, "to": to, "text": "m"}))
    world.clock.advance(1)  # past the sender's pacing slots (10 per second)
    await dispatch.dispatch_once(world.ctx, world.links)
    return wires


async def test_counts_rates_and_spend_for_known_traffic(world):
    wires = await _traffic(world, ["+13125550101", "+13125550102", "+13125550103", "+13125550104"])
    reports = [
        DeliveryReport(wires[0]["id"], "delivered", world.clock.now_us()),
        DeliveryReport(wires[1]["id"], "delivered", world.clock.now_us()),
        DeliveryReport(wires[2]["id"], "delivery_failed", world.clock.now_us(), error_code="40008"),
    ]
    await delivery.record_reports(world.ctx, reports)
    await inbound.receive(
        world.ctx, world.caller.organization_id, sender="+13125550900", to=world.long_code, text="hi", media_urls=[]
    )
    data, total = await metrics.high_level(world.ctx, world.caller.organization_id, "1h", None, 0, 20)
    assert total == 1
    overview = data[0]
    assert overview["outbound"]["sent"] == 4
    assert overview["outbound"]["delivered"] == 2
    assert overview["outbound"]["error_ratio"] == 0.25
    assert overview["outbound"]["delivery_rate"] == 0.5
    assert overview["inbound"]["received"] == 1
    assert overview["phone_numbers"] == 2
    assert overview["spend"]["amount"] == "0.0200"  # 4 × (0.0040 + 0.0010)
    detail = await metrics.detailed(world.ctx, world.caller.organization_id, world.account.profile_id, "1h")
    assert detail["overview"]["outbound"]["error_breakdown"] == [{"code": "40008", "count": 1}]
    assert sum(m["sent"] for b in detail["detailed"] for m in b["metrics"]) == 4


async def test_traffic_older_than_the_window_is_not_counted(world):
    await _traffic(world, ["+13125550101"])
    world.clock.advance(2 * 3600)
    data, _ = await metrics.high_level(world.ctx, world.caller.organization_id, "1h", None, 0, 20)
    assert data[0]["outbound"]["sent"] == 0
    data, _ = await metrics.high_level(world.ctx, world.caller.organization_id, "3h", None, 0, 20)
    assert data[0]["outbound"]["sent"] == 1


async def test_failure_before_sending_counts_as_attempted_and_failed(world):
    world.ctx.settings.queue_ttl_seconds = 1
    await sending.send(world.ctx, world.caller, {"from": world.long_code, "to": "+13125550101", "text": "m"})
    world.clock.advance(5)
    await dispatch.dispatch_once(world.ctx, world.links)
    data, _ = await metrics.high_level(world.ctx, world.caller.organization_id, "1h", None, 0, 20)
    assert (data[0]["outbound"]["sent"], data[0]["outbound"]["error_ratio"]) == (0, 1.0)
