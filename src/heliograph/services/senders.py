"""Sender resolution (spec messages.md §4, §11, §12): which number or ID a message goes out from,
on which profile, and how fast that sender may send."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from heliograph.domain import number_pool, phone
from heliograph.domain.errors import (
    AlphaSenderMismatch,
    AlphaSenderNotConfigured,
    FromTemporarilyUnusable,
    IncompatibleMessageType,
    InvalidAlphanumericSenderId,
    InvalidFrom,
    MessagingRejected,
    NoUsableNumbers,
)
from heliograph.domain.rows import Row
from heliograph.services.accounts import Caller
from heliograph.services.context import Context
from heliograph.store import accounts as store
from heliograph.store import messages as message_store

ALPHANUMERIC = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
STICKY_DAYS = 8
HEALTH_WINDOW_DAYS = 30
PLATFORM_CARRIER = "Heliograph"


@dataclass
class Sender:
    number: str
    kind: str  # longcode | tollfree | short_code | alphanumeric
    profile: Row
    country: str
    tags: list[str] = field(default_factory=list)
    mps_override: float | None = None
    remember_sticky: bool = False  # record (profile, recipient) → number after the send commits
    opted_out: bool | None = None  # known from the sender lookup; None = not looked up yet
    carrier: str = PLATFORM_CARRIER
    line_type: str = "VoIP"

    def mps(self, settings: Any) -> float:
        if self.mps_override:
            return self.mps_override
        return {
            "longcode": settings.mps_long_code,
            "tollfree": settings.mps_toll_free,
            "short_code": settings.mps_short_code,
            "alphanumeric": settings.mps_alphanumeric,
        }[self.kind]


def invalid_from(detail: str | None = None) -> MessagingRejected:
    return InvalidFrom(
        detail
        or "The 'from' address should be a string containing a valid phone number or alphanumeric sender ID "
        "associated with the sending messaging profile.",
        pointer="/from",
    )


def for_number(number: Row, profile: Row) -> Sender:
    return Sender(
        number=number["phone_number"],
        kind=number["type"],
        profile=profile,
        country=number["country_code"],
        tags=list(number["tags"] or []),
        mps_override=number.get("mps"),
    )


async def phone_number(conn, caller: Caller, e164: str, to: str = "") -> Sender:
    return _number_sender(await store.sender_with_profile(conn, caller.organization_id, e164, to), e164, to)


def number_sender_now(ctx: Context, caller: Caller, kind: str, value: str | None, to: str) -> Sender | None:
    """The common send — `from` (`value`) an E.164 number, no messaging_profile_id — resolved with one
    query on SQLite's driver connection (store/driver.py). None where that does not apply (PostgreSQL,
    other senders, a profile argument): resolve() answers those."""
    if kind not in ("send", "long_code", "schedule") or not isinstance(value, str):
        return None
    connection = ctx.db.driver_reader()
    if connection is None or not phone.is_e164(value):
        return None
    return _number_sender(store.sender_with_profile_now(connection, caller.organization_id, value, to), value, to)


async def number_sender_pg(ctx: Context, caller: Caller, kind: str, value: str | None, to: str) -> Sender | None:
    """number_sender_now on PostgreSQL: the same one query, on asyncpg's own pool (one round trip)."""
    if kind not in ("send", "long_code", "schedule") or not isinstance(value, str) or not phone.is_e164(value):
        return None
    pool = await ctx.db.pg_reader()
    if pool is None:
        return None
    return _number_sender(await store.sender_with_profile_pg(pool, caller.organization_id, value, to), value, to)


def _number_sender(found: tuple[Row, Row | None] | None, e164: str, to: str) -> Sender:
    if found is None:
        raise invalid_from(f"The number {e164} is not a number of this account.")
    number, profile = found
    if profile is None:
        raise invalid_from(f"The number {e164} is not assigned to a messaging profile.")
    if number["status"] != "active":
        raise FromTemporarilyUnusable(
            f"The sending number {e164} is in a temporarily unusable or pending state.",
            pointer="/from",
        )
    blocked = profile.pop("opted_out", False)
    sender = for_number(number, profile)
    sender.opted_out = bool(blocked) if to else None
    return sender


async def short_code(conn, caller: Caller, code: str) -> Sender:
    row = await store.short_code_by_code(conn, code)
    if row is None or row["organization_id"] != caller.organization_id:
        raise invalid_from(f"The short code {code} is not a short code of this account.")
    profile = await store.get_profile(conn, caller.organization_id, row["messaging_profile_id"] or "")
    if profile is None:
        raise invalid_from(f"The short code {code} is not assigned to a messaging profile.")
    return Sender(code, "short_code", profile, row["country_code"], list(row["tags"] or []), line_type="")


async def alphanumeric(conn, caller: Caller, sender_id: str, profile: Row | None, to: str) -> Sender:
    """An alphanumeric ID registered on the profile; +1 destinations use its US long-code fallback."""
    if profile is None:
        raise invalid_from("An alphanumeric sender needs 'messaging_profile_id'.")
    if not ALPHANUMERIC.match(sender_id):
        raise InvalidAlphanumericSenderId("The specified alphanumeric sender ID value is invalid.", pointer="/from")
    records = await store.alpha_senders_of_profile(conn, profile["id"])
    if not records and not profile["alpha_sender"]:
        raise AlphaSenderNotConfigured(
            "The messaging profile doesn't have an associated alphanumeric sender ID.",
            pointer="/from",
        )
    record = next((r for r in records if r["alphanumeric_sender_id"] == sender_id), None)
    if record is None and profile["alpha_sender"] != sender_id:
        if profile["alpha_sender"]:
            raise AlphaSenderMismatch(
                f"The specified alphanumeric sender ID {sender_id} does not match the one configured on the profile.",
                pointer="/from",
            )
        raise invalid_from(f"{sender_id} is not an alphanumeric sender ID of this messaging profile.")
    if to.startswith("+1"):
        fallback = record["us_long_code_fallback"] if record else None
        if not fallback:
            raise IncompatibleMessageType(
                f"Sending messages from {sender_id} to {to} is not possible: alphanumeric senders cannot reach "
                "+1 destinations and no us_long_code_fallback is set.",
                pointer="/to",
            )
        sender = await phone_number(conn, caller, fallback)
        sender.profile = profile
        return sender
    return Sender(sender_id, "alphanumeric", profile, "", carrier="", line_type="")


async def pool(ctx: Context, conn, profile: Row, to: str) -> Sender:
    settings = profile["number_pool_settings"]
    none_usable = NoUsableNumbers(
        "Number Pool is not enabled, or it is unable to select a usable number on the messaging profile.",
    )
    if not settings:
        raise none_usable
    rows = [r for r in await store.numbers_of_profile(conn, profile["id"]) if r["status"] == "active"]
    now = ctx.now()
    health: dict[str, Row] = {}
    if settings.get("skip_unhealthy"):
        health = await message_store.number_health(
            conn, [r["phone_number"] for r in rows], now - HEALTH_WINDOW_DAYS * 86400 * 1_000_000
        )
    candidates = [
        number_pool.PoolNumber(r["phone_number"], r["type"], success_ratio(health.get(r["phone_number"])))
        for r in rows
        if r["type"] in ("longcode", "tollfree")
    ]
    sticky = None
    if settings.get("sticky_sender"):
        sticky = await store.sticky_sender(conn, profile["id"], to, now - STICKY_DAYS * 86400 * 1_000_000)
    chosen = number_pool.choose(candidates, settings, to, sticky, ctx.pool_rng)
    if chosen is None:
        raise none_usable
    row = next(r for r in rows if r["phone_number"] == chosen.phone_number)
    sender = for_number(row, profile)
    sender.remember_sticky = bool(settings.get("sticky_sender"))
    return sender


def success_ratio(health: Row | None) -> float:
    if not health or not health["finished"]:
        return 1.0
    return health["delivered"] / health["finished"]


async def resolve(
    ctx: Context,
    conn,
    caller: Caller,
    kind: str,
    sender_value: str | None,
    to: str,
    profile_arg: Row | None,
) -> Sender:
    """Resolve the sender (`from`: `sender_value`) for endpoint `kind`; raises 40305 and friends.
    The number pool and alphanumeric endpoints require `messaging_profile_id` (and the latter `from`)."""
    if kind == "number_pool":
        assert profile_arg is not None
        return await pool(ctx, conn, profile_arg, to)
    if kind == "alphanumeric":
        assert sender_value is not None
        return await alphanumeric(conn, caller, sender_value, profile_arg, to)
    if not sender_value:
        if kind in ("send", "schedule") and profile_arg is not None:
            return await pool(ctx, conn, profile_arg, to)
        raise invalid_from()
    if phone.is_e164(sender_value):
        if kind == "short_code":
            raise invalid_from(f"{sender_value} is not a short code; use POST /messages/long_code for numbers.")
        return await phone_number(conn, caller, sender_value, to)
    if phone.is_short_code(sender_value):
        if kind == "long_code":
            raise invalid_from(f"{sender_value} is a short code; use POST /messages/short_code.")
        return await short_code(conn, caller, sender_value)
    if kind in ("send", "schedule") and any(c.isalpha() for c in sender_value):
        return await alphanumeric(conn, caller, sender_value, profile_arg, to)
    raise invalid_from()
