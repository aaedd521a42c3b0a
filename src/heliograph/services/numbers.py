"""Phone numbers, short codes and sandbox number orders."""

from __future__ import annotations

from typing import Any

from heliograph.domain import phone
from heliograph.domain.errors import (
    AssociatedResourceMissing,
    DuplicateResource,
    IneligibleMessagingProduct,
    InvalidMessagingProfileId,
    InvalidPhoneNumber,
    NotE164,
    NotFound,
    PhoneNumbersNotAvailable,
    ValidationFailed,
    ValueOutOfRange,
)
from heliograph.domain.filters import NumberOrderFilter
from heliograph.domain.ids import new_phone_number_id, new_uuid
from heliograph.domain.rows import Row
from heliograph.domain.times import later
from heliograph.services.context import Context
from heliograph.store import accounts as store


def _number_row(org_id: str, e164: str, profile_id: str | None, now: int, **flags: Any) -> Row:
    info = phone.lookup(e164)
    return {
        "id": new_phone_number_id(),
        "organization_id": org_id,
        "phone_number": e164,
        "messaging_profile_id": profile_id,
        "type": flags.get("kind") or ("tollfree" if info.toll_free else "longcode"),
        "country_code": info.country or "US",
        "messaging_product": "A2P",
        "tags": [],
        "hosted": flags.get("hosted", False),
        "whatsapp": flags.get("whatsapp", False),
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }


async def _check_profile(
    conn,
    org_id: str,
    profile_id: str | None,
    *,
    missing: type[ValidationFailed] = AssociatedResourceMissing,
) -> None:
    if profile_id is not None and await store.get_profile(conn, org_id, profile_id) is None:
        raise missing(f"Messaging profile {profile_id} does not exist.", pointer="/messaging_profile_id")


async def add_number(
    ctx: Context,
    org_id: str,
    number: str,
    *,
    profile_id: str | None = None,
    kind: str | None = None,
    hosted: bool = False,
    whatsapp: bool = False,
    mps: float | None = None,
) -> Row:
    """Give the organization a number (CLI and bootstrap), or change one it has. Short codes are 5–6
    digits. `mps` sets the number's own throughput (messages per second) instead of its type's default."""
    if mps is not None and mps <= 0:
        raise ValueOutOfRange("Messages per second must be more than 0.", pointer="/mps")
    now = ctx.now()
    async with ctx.db.transaction() as conn:
        await _check_profile(conn, org_id, profile_id)
        if kind == "short-code" or (kind is None and number.isdigit() and 5 <= len(number) <= 6):
            if not (number.isdigit() and 5 <= len(number) <= 6):
                raise InvalidPhoneNumber("A short code is 5 or 6 digits.", pointer="/short_code")
            if await store.short_code_by_code(conn, number) is not None:
                raise PhoneNumbersNotAvailable(f"Short code {number} is already taken.")
            row: Row = {
                "id": new_uuid(),
                "organization_id": org_id,
                "short_code": number,
                "country_code": "US",
                "messaging_profile_id": profile_id,
                "tags": [],
                "created_at": now,
                "updated_at": now,
            }
            await store.insert_short_code(conn, row)
            return row
        if not phone.is_e164(number):
            raise NotE164(f"{number} is not an E.164 number.", pointer="/phone_number")
        existing = await store.number_by_e164(conn, number)
        if existing is not None:
            if existing["organization_id"] != org_id:
                raise PhoneNumbersNotAvailable(f"{number} is held by another account.")
            changes = {"hosted": hosted or existing["hosted"], "whatsapp": whatsapp or existing["whatsapp"]}
            if mps is not None:
                changes["mps"] = mps
            if profile_id is not None:
                changes["messaging_profile_id"] = profile_id
            changes["updated_at"] = now
            await store.update_number(conn, existing["id"], changes)
            return {**existing, **changes}
        kind_value = {"long-code": "longcode", "toll-free": "tollfree"}.get(kind or "")
        row = _number_row(org_id, number, profile_id, now, kind=kind_value, hosted=hosted, whatsapp=whatsapp)
        row["mps"] = mps
        await store.insert_number(conn, row)
        return row


# --- number orders ----------------------------------------------------------------------------------


def _order_phone_number(e164: str, extra: Row) -> Row:
    info = phone.lookup(e164)
    country = info.country or "US"
    number_type = (
        "toll_free" if info.toll_free else ("mobile" if info.line_type == "Wireless" and country != "US" else "local")
    )
    entry = {
        "id": new_uuid(),
        "record_type": "number_order_phone_number",
        "phone_number": e164,
        "status": "success",
        "phone_number_type": number_type,
        "country_code": country,
        "country_iso_alpha2": country,
        "regulatory_requirements": [],
        "requirements_met": True,
        "requirements_status": "approved",
    }
    if extra.get("bundle_id") is not None:
        entry["bundle_id"] = extra["bundle_id"]
    return entry


async def create_order(ctx: Context, org_id: str, values: Row) -> Row:
    """Sandbox ordering: any valid E.164 number nobody else holds is yours at once."""
    now = ctx.now()
    requested = values["phone_numbers"]
    seen: set[str] = set()
    for index, item in enumerate(requested):
        e164 = item["phone_number"]
        if not phone.is_e164(e164):
            raise NotE164(
                f"{e164!r} is not a valid +E.164 phone number.",
                pointer=f"/phone_numbers/{index}/phone_number",
            )
        if e164 in seen:
            raise DuplicateResource(f"{e164} appears twice in the order.")
        seen.add(e164)
    profile_id = values.get("messaging_profile_id")
    async with ctx.db.transaction() as conn:
        await _check_profile(conn, org_id, profile_id, missing=InvalidMessagingProfileId)
        for index, item in enumerate(requested):
            existing = await store.number_by_e164(conn, item["phone_number"])
            if existing is not None:
                raise PhoneNumbersNotAvailable(
                    f"{item['phone_number']} is not available.",
                    pointer=f"/phone_numbers/{index}/phone_number",
                )
        entries = []
        for item in requested:
            entry = _order_phone_number(item["phone_number"], item)
            await store.insert_number(conn, _number_row(org_id, item["phone_number"], profile_id, now))
            entries.append(entry)
        order = {
            "id": new_uuid(),
            "organization_id": org_id,
            "status": "success",
            "messaging_profile_id": profile_id,
            "connection_id": values.get("connection_id"),
            "billing_group_id": values.get("billing_group_id"),
            "customer_reference": values.get("customer_reference"),
            "phone_numbers": entries,
            "created_at": now,
            "updated_at": now,
        }
        await store.insert_order(conn, order)
    return order


async def get_order(ctx: Context, org_id: str, order_id: str) -> Row:
    async with ctx.db.read() as conn:
        row = await store.get_order(conn, org_id, order_id)
    if row is None:
        raise NotFound(f"Number order {order_id} was not found.")
    return row


async def list_orders(
    ctx: Context, org_id: str, wanted: NumberOrderFilter, offset: int, limit: int
) -> tuple[list[Row], int]:
    async with ctx.db.read() as conn:
        return await store.list_orders(conn, org_id, wanted, offset=offset, limit=limit)


async def update_order(ctx: Context, org_id: str, order_id: str, values: Row) -> Row:
    async with ctx.db.transaction() as conn:
        row = await store.get_order(conn, org_id, order_id)
        if row is None:
            raise NotFound(f"Number order {order_id} was not found.")
        changes = {"updated_at": ctx.now()}
        if "customer_reference" in values:
            changes["customer_reference"] = values["customer_reference"]
        await store.update_order(conn, order_id, changes)
        row.update(changes)
    return row


# --- phone-number messaging settings ----------------------------------------------------------------


async def get_number(ctx: Context, org_id: str, id_or_e164: str, *, hosted: bool = False) -> Row:
    async with ctx.db.read() as conn:
        row = await store.get_number(conn, org_id, id_or_e164)
    if row is None or (hosted and not row["hosted"]):
        raise NotFound(f"{'Hosted number' if hosted else 'Phone number'} {id_or_e164} was not found.")
    return row


async def delete_hosted(ctx: Context, org_id: str, id_or_e164: str) -> Row:
    """Stop hosting a number's messaging here: the number leaves the account."""
    async with ctx.db.transaction() as conn:
        row = await store.get_number(conn, org_id, id_or_e164)
        if row is None or not row["hosted"]:
            raise NotFound(f"Hosted number {id_or_e164} was not found.")
        await store.forget_sticky_senders(conn, number=row["phone_number"])
        await store.delete_number(conn, row["id"])
    return row


async def list_numbers(ctx: Context, org_id: str, **filters: Any) -> tuple[list[Row], int]:
    async with ctx.db.read() as conn:
        return await store.list_numbers(conn, org_id, **filters)


async def update_number(ctx: Context, org_id: str, id_or_e164: str, values: Row) -> Row:
    """`messaging_profile_id`: omitted/None keeps, "" unassigns, an id assigns. `tags` replaces."""
    async with ctx.db.transaction() as conn:
        row = await store.get_number(conn, org_id, id_or_e164)
        if row is None:
            raise NotFound(f"Phone number {id_or_e164} was not found.")
        changes: Row = {}
        profile_id = values.get("messaging_profile_id")
        if profile_id == "":
            changes["messaging_profile_id"] = None
        elif profile_id is not None:
            await _check_profile(conn, org_id, profile_id)
            changes["messaging_profile_id"] = profile_id
        product = values.get("messaging_product")
        if product is not None:
            if product not in ("A2P", "P2P"):
                raise IneligibleMessagingProduct(
                    f"{product!r} is not an eligible messaging product for this number.",
                    pointer="/messaging_product",
                )
            changes["messaging_product"] = product
        if values.get("tags") is not None:
            changes["tags"] = values["tags"]
        changes["updated_at"] = later(ctx.now(), row["updated_at"])
        if changes.get("messaging_profile_id", row["messaging_profile_id"]) != row["messaging_profile_id"]:
            await store.forget_sticky_senders(conn, number=row["phone_number"])  # it left the old pool
        await store.update_number(conn, row["id"], changes)
        row.update(changes)
    return row


# --- short codes ------------------------------------------------------------------------------------


async def get_short_code(ctx: Context, org_id: str, short_code_id: str) -> Row:
    async with ctx.db.read() as conn:
        row = await store.get_short_code(conn, org_id, short_code_id)
    if row is None:
        raise NotFound(f"Short code {short_code_id} was not found.")
    return row


async def list_short_codes(ctx: Context, org_id: str, **filters: Any) -> tuple[list[Row], int]:
    async with ctx.db.read() as conn:
        return await store.list_short_codes(conn, org_id, **filters)


async def update_short_code(ctx: Context, org_id: str, short_code_id: str, values: Row) -> Row:
    async with ctx.db.transaction() as conn:
        row = await store.get_short_code(conn, org_id, short_code_id)
        if row is None:
            raise NotFound(f"Short code {short_code_id} was not found.")
        changes: Row = {"updated_at": later(ctx.now(), row["updated_at"])}
        if "messaging_profile_id" in values:
            profile_id = values["messaging_profile_id"] or None
            await _check_profile(conn, org_id, profile_id)
            changes["messaging_profile_id"] = profile_id
        if values.get("tags") is not None:
            changes["tags"] = values["tags"]
        await store.update_short_code(conn, short_code_id, changes)
        row.update(changes)
    return row


HEALTH_WINDOW_DAYS = 30


async def health(ctx: Context, numbers: list[str]) -> dict[str, Row]:
    """NumberHealthMetrics per number over the last 30 days: what `skip_unhealthy` judges by.

    message_count = finished outbound + received inbound; success_ratio = delivered ÷ finished outbound
    (1.0 with none); inbound_outbound_ratio = received ÷ finished outbound; spam_ratio is always 0 (the
    sandbox does not simulate spam blocking)."""
    from heliograph.store import messages as message_store

    since = ctx.now() - HEALTH_WINDOW_DAYS * 86400 * 1_000_000
    async with ctx.db.read() as conn:
        counts = await message_store.number_health(conn, numbers, since)
    out = {}
    for number, c in counts.items():
        finished, delivered, received = c["finished"], c["delivered"], c["received"]
        out[number] = {
            "message_count": finished + received,
            "inbound_outbound_ratio": round(received / finished, 4) if finished else 0.0,
            "success_ratio": round(delivered / finished, 4) if finished else 1.0,
            "spam_ratio": 0.0,
        }
    return out


async def views_with_health(ctx: Context, rows: list[Row]) -> list[dict]:
    from heliograph.services import views

    healths = await health(ctx, [r["phone_number"] for r in rows])
    return [views.phone_number(r, healths.get(r["phone_number"])) for r in rows]
