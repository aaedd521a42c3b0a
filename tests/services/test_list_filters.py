"""List filters (domain/filters.py): what a list endpoint's query asks for, turned into WHERE clauses by
store/, on SQLite and (with HELIOGRAPH_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from heliograph.domain.filters import (
    AutoRespConfigFilter,
    NumberOrderFilter,
    OptOutFilter,
    TimeRange,
    WebhookDeliveryFilter,
)
from heliograph.services import compliance, numbers, webhook_deliveries, webhooks
from heliograph.store import compliance as compliance_store
from heliograph.store import outbox

SECOND = 1_000_000


async def test_opt_outs_by_profile_sender_and_time(world) -> None:
    org, profile = world.caller.organization_id, world.account.profile_id
    now = world.ctx.now()
    async with world.ctx.db.transaction() as conn:
        for i, recipient in enumerate(("+13125550001", "+13125550002", "+13125550003")):
            row = {
                "messaging_profile_id": profile,
                "recipient": recipient,
                "organization_id": org,
                "from_number": world.long_code if i < 2 else world.toll_free,
                "keyword": "STOP",
                "created_at": now + i * SECOND,
            }
            await compliance_store.add_opt_out(conn, row)

    async def recipients(wanted: OptOutFilter) -> list[str]:
        rows, total = await compliance.list_opt_outs(world.ctx, org, wanted, 0, 10)
        assert total == len(rows)
        return [r["recipient"] for r in rows]

    assert len(await recipients(OptOutFilter())) == 3
    assert len(await recipients(OptOutFilter(messaging_profile_id=profile))) == 3
    assert await recipients(OptOutFilter(messaging_profile_id="a-profile-of-nobody")) == []
    assert await recipients(OptOutFilter(from_number=world.toll_free)) == ["+13125550003"]
    between = TimeRange(gte=now + SECOND, lte=now + SECOND)
    assert await recipients(OptOutFilter(created_at=between)) == ["+13125550002"]
    assert await recipients(OptOutFilter(created_at=TimeRange(gte=now + SECOND))) == ["+13125550002", "+13125550003"]


async def test_auto_response_configs_by_country_and_time(world) -> None:
    org, profile = world.caller.organization_id, world.account.profile_id
    created = {}
    for country, word in (("US", "AYUDA"), ("CA", "AIDE")):
        text = "Reply STOP to opt out, HELP."
        values = {"op": "info", "keywords": [word], "country_code": country, "resp_text": text}
        created[country] = await compliance.create_config(world.ctx, org, profile, values)
        world.clock.advance(1.0)

    async def countries(wanted: AutoRespConfigFilter) -> list[str]:
        return [r["country_code"] for r in await compliance.list_configs(world.ctx, org, profile, wanted)]

    assert await countries(AutoRespConfigFilter()) == ["US", "CA"]
    assert await countries(AutoRespConfigFilter(country_code="CA")) == ["CA"]
    ca = created["CA"]["created_at"]
    assert await countries(AutoRespConfigFilter(created_at=TimeRange(gte=ca))) == ["CA"]
    assert await countries(AutoRespConfigFilter(updated_at=TimeRange(lte=ca - 1))) == ["US"]


async def test_number_orders_by_status_reference_time_and_size(world) -> None:
    org = world.caller.organization_id
    small = await numbers.create_order(
        world.ctx, org, {"phone_numbers": [{"phone_number": "+13125557001"}], "customer_reference": "small"}
    )
    world.clock.advance(1.0)
    large = await numbers.create_order(
        world.ctx,
        org,
        {"phone_numbers": [{"phone_number": "+13125557002"}, {"phone_number": "+13125557003"}]},
    )

    async def ids(wanted: NumberOrderFilter) -> list[str]:
        rows, total = await numbers.list_orders(world.ctx, org, wanted, 0, 10)
        assert total == len(rows)
        return [r["id"] for r in rows]

    assert await ids(NumberOrderFilter()) == [small["id"], large["id"]]
    assert await ids(NumberOrderFilter(status="success")) == [small["id"], large["id"]]
    assert await ids(NumberOrderFilter(status="pending")) == []
    assert await ids(NumberOrderFilter(customer_reference="small")) == [small["id"]]
    assert await ids(NumberOrderFilter(created_after=small["created_at"])) == [large["id"]]
    assert await ids(NumberOrderFilter(created_before=large["created_at"])) == [small["id"]]
    assert await ids(NumberOrderFilter(phone_numbers_count=2)) == [large["id"]]


async def test_webhook_deliveries_by_outcome_type_contents_and_time(world) -> None:
    org = world.caller.organization_id
    now = world.ctx.now()
    events = [
        webhooks.new_event(
            organization_id=org,
            event_type=event_type,
            payload={"text": text},
            occurred_at=now,
            urls=["http://127.0.0.1:9/hook"],
        )
        for event_type, text in (("message.sent", "50% off_today"), ("message.finalized", "plain"))
    ]
    attempts, outcomes = [], []
    for i, (event, delivered) in enumerate(zip(events, (True, False), strict=True)):
        started = now + i * SECOND
        attempts.append(
            {
                "event_id": event["id"],
                "attempt": 1,
                "url": "http://127.0.0.1:9/hook",
                "started_at": started,
                "finished_at": started + 1000,
                "delivered": delivered,
                "http_status": 200 if delivered else 500,
                "error_code": None,
                "error_detail": None,
                "response_body": "ok" if delivered else "boom",
            }
        )
        outcomes.append(
            {
                "id": event["id"],
                "status": "delivered" if delivered else "failed",
                "attempts": 1,
                "next_url_index": 0,
                "next_attempt_at": None,
                "first_attempt_at": started,
                "finished_at": started + 1000,
            }
        )
    async with world.ctx.db.transaction() as conn:
        await outbox.add_events(conn, events)
        await outbox.record_attempts(conn, attempts, outcomes)
    sent, finalized = events[0]["id"], events[1]["id"]

    async def ids(wanted: WebhookDeliveryFilter) -> list[str]:
        rows, total = await webhook_deliveries.list_deliveries(world.ctx, org, wanted, 0, 10)
        assert total == len(rows)
        return [r["id"] for r in rows]

    assert await ids(WebhookDeliveryFilter()) == [sent, finalized]
    assert await ids(WebhookDeliveryFilter(delivered=True)) == [sent]
    assert await ids(WebhookDeliveryFilter(delivered=False)) == [finalized]
    assert await ids(WebhookDeliveryFilter(event_types=("message.finalized", "message.received"))) == [finalized]
    assert await ids(WebhookDeliveryFilter(event_types=())) == []
    # the needles are plain text: '%' and '_' are no wildcards
    assert await ids(WebhookDeliveryFilter(webhook_contains="50% off_")) == [sent]
    assert await ids(WebhookDeliveryFilter(webhook_contains="5%f")) == []
    assert await ids(WebhookDeliveryFilter(attempts_contains="boom")) == [finalized]
    assert await ids(WebhookDeliveryFilter(attempts_contains="127.0.0.1:9")) == [sent, finalized]
    assert await ids(WebhookDeliveryFilter(started_at=TimeRange(gte=now + 1))) == [finalized]
    assert await ids(WebhookDeliveryFilter(finished_at=TimeRange(lte=now + 1000))) == [sent]
