"""Daily spend limits (spec compliance.md §5): a profile with `daily_spend_limit_enabled` takes sends
only while the day's spend, plus what the send would cost, stays within `daily_spend_limit` (USD).

The day's spend lives in the database (profile_daily_spend) and is charged by the group committer in
the same transaction as the messages it pays for, so the limit holds across processes and a refused
send leaves no trace but its refusal. The day is the UTC day: the counter starts again at midnight.
The first refusal of a day sends `messaging-profile.spend-limit-reached` to the profile's webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from heliograph.domain.errors import MessagingRejected, SpendLimitReached
from heliograph.domain.pricing import money
from heliograph.domain.rows import Row
from heliograph.services import webhooks
from heliograph.store import outbox
from heliograph.store import spend as store
from heliograph.store.engine import Connection

DAY_US = 86_400 * 1_000_000


def micros(amount: str | Decimal) -> int:
    return int((Decimal(amount) * 1_000_000).to_integral_value())


def utc_day(now_us: int) -> int:
    return now_us // DAY_US


@dataclass(frozen=True, slots=True)
class SpendCharge:
    """What a send would add to its profile's spend today; checked and charged at commit."""

    profile: Row
    organization_id: str
    day: int
    cost: int  # USD millionths
    limit: int
    at: int  # when the send was made (µs)


def charge_for(profile: Row, organization_id: str, rows: list[Row], now: int) -> SpendCharge | None:
    """The charge a send's message rows owe, or None when the profile has no limit enabled."""
    if not profile.get("daily_spend_limit_enabled"):
        return None
    try:
        limit = micros(profile.get("daily_spend_limit") or "0")
    except InvalidOperation:
        limit = 0
    cost = sum(micros(r["cost_rate"]) + micros(r["cost_carrier_fee"]) for r in rows)
    return SpendCharge(profile, organization_id, utc_day(now), cost, limit, now)


def limit_reached(charge: SpendCharge) -> MessagingRejected:
    return SpendLimitReached(
        "Request refused because this would incur cost above the spend limit configured on the messaging profile "
        f"({money(Decimal(charge.limit) / 1_000_000)} USD a day, reset at 00:00 UTC).",
    )


async def apply(conn: Connection, charge: SpendCharge) -> MessagingRejected | None:
    """Charge inside the commit's transaction: None when charged, the refusal otherwise (and, the first
    time that day, the profile's `messaging-profile.spend-limit-reached` webhook, owed in the same transaction)."""
    profile_id = charge.profile["id"]
    if await store.charge(conn, profile_id, charge.day, charge.cost, charge.limit) is not None:
        return None
    current = await store.mark_reached(conn, profile_id, charge.day, charge.at)
    if current is not None:
        payload = {
            "configured_limit": str(charge.profile.get("daily_spend_limit") or "0.00"),
            "current_cost": money(Decimal(current) / 1_000_000),
            "profile_id": profile_id,
        }
        event = webhooks.new_event(
            organization_id=charge.organization_id,
            event_type="messaging-profile.spend-limit-reached",
            payload=payload,
            occurred_at=charge.at,
            urls=webhooks.profile_urls(charge.profile),
        )
        await outbox.add_events(conn, [event])
    return limit_reached(charge)
