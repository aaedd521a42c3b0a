"""Alphanumeric sender IDs registered on messaging profiles (spec profiles-and-numbers.md §5)."""

from __future__ import annotations

from heliograph.domain import phone
from heliograph.domain.errors import (
    AssociatedResourceMissing,
    BadAlphanumericSenderId,
    DuplicateAlphanumericSenderId,
    InvalidPhoneNumber,
    NotFound,
)
from heliograph.domain.ids import new_uuid
from heliograph.domain.rows import Row
from heliograph.services.context import Context
from heliograph.services.senders import ALPHANUMERIC
from heliograph.store import accounts as store


async def create(ctx: Context, org_id: str, values: Row) -> Row:
    sender_id = values["alphanumeric_sender_id"]
    if not ALPHANUMERIC.match(sender_id):
        raise BadAlphanumericSenderId(
            "The alphanumeric sender ID must be 1–11 letters, digits or spaces with at least one letter.",
            pointer="/alphanumeric_sender_id",
        )
    fallback = values.get("us_long_code_fallback")
    async with ctx.db.transaction() as conn:
        if await store.get_profile(conn, org_id, values["messaging_profile_id"]) is None:
            raise AssociatedResourceMissing(
                f"Messaging profile {values['messaging_profile_id']} does not exist.",
                pointer="/messaging_profile_id",
            )
        if fallback is not None:
            number = await store.get_number(conn, org_id, fallback) if phone.is_e164(fallback) else None
            if number is None or number["type"] != "longcode":
                raise InvalidPhoneNumber(
                    f"us_long_code_fallback {fallback!r} must be a long code of this account.",
                    pointer="/us_long_code_fallback",
                )
        row = {
            "id": new_uuid(),
            "organization_id": org_id,
            "messaging_profile_id": values["messaging_profile_id"],
            "alphanumeric_sender_id": sender_id,
            "us_long_code_fallback": fallback,
            "created_at": ctx.now(),
        }
        if not await store.insert_alpha_sender(conn, row):
            raise DuplicateAlphanumericSenderId(
                f"{sender_id} is already an alphanumeric sender ID of this messaging profile.",
                pointer="/alphanumeric_sender_id",
            )
    return row


async def get(ctx: Context, org_id: str, sender_id: str) -> Row:
    async with ctx.db.read() as conn:
        row = await store.get_alpha_sender(conn, org_id, sender_id)
    if row is None:
        raise NotFound(f"Alphanumeric sender ID {sender_id} was not found.")
    return row


async def list_all(
    ctx: Context, org_id: str, *, profile_id: str | None, offset: int, limit: int
) -> tuple[list[Row], int]:
    async with ctx.db.read() as conn:
        return await store.list_alpha_senders(conn, org_id, profile_id=profile_id, offset=offset, limit=limit)


async def delete(ctx: Context, org_id: str, sender_id: str) -> Row:
    async with ctx.db.transaction() as conn:
        row = await store.get_alpha_sender(conn, org_id, sender_id)
        if row is None:
            raise NotFound(f"Alphanumeric sender ID {sender_id} was not found.")
        await store.delete_alpha_sender(conn, sender_id)
    return row


def view(row: Row) -> Row:
    return {
        "record_type": "alphanumeric_sender_id",
        "id": row["id"],
        "alphanumeric_sender_id": row["alphanumeric_sender_id"],
        "messaging_profile_id": row["messaging_profile_id"],
        "organization_id": row["organization_id"],
        "us_long_code_fallback": row["us_long_code_fallback"],
    }
