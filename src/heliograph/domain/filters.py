"""List filters: what a list endpoint's query string asks for, as plain values.

Routes parse the query string into one of these, services pass it on, and `store/` turns it into
WHERE clauses. A field left at None filters nothing. Times are epoch microseconds, already
parsed (an `lte` bound is the inclusive upper bound `parse_upper_bound` returns).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A closed range on one time column; either end may be open."""

    gte: int | None = None
    lte: int | None = None


@dataclass(frozen=True, slots=True)
class OptOutFilter:
    """GET /messaging_optouts."""

    messaging_profile_id: str | None = None
    from_number: str | None = None
    created_at: TimeRange = TimeRange()


@dataclass(frozen=True, slots=True)
class AutoRespConfigFilter:
    """GET /messaging_profiles/{id}/autoresp_configs."""

    country_code: str | None = None
    created_at: TimeRange = TimeRange()
    updated_at: TimeRange = TimeRange()


@dataclass(frozen=True, slots=True)
class NumberOrderFilter:
    """GET /number_orders. The created_at bounds are exclusive (`gt` / `lt`)."""

    status: str | None = None
    customer_reference: str | None = None
    created_after: int | None = None
    created_before: int | None = None
    phone_numbers_count: int | None = None


@dataclass(frozen=True, slots=True)
class WebhookDeliveryFilter:
    """GET /webhook_deliveries.

    `delivered`: True for delivered events, False for all others, None for both. `event_types`: an
    empty tuple matches nothing. The `contains` needles match as plain substrings (no wildcards).
    """

    delivered: bool | None = None
    event_types: tuple[str, ...] | None = None
    webhook_contains: str | None = None
    attempts_contains: str | None = None
    started_at: TimeRange = TimeRange()
    finished_at: TimeRange = TimeRange()
