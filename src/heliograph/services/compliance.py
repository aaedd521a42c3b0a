"""Opt-outs, auto-response configs and the URL domains of the link shortener."""

from __future__ import annotations

from heliograph.domain import keywords
from heliograph.domain.errors import (
    BlockedByStop,
    DuplicateResource,
    InvalidValue,
    MessagingRejected,
    NotFound,
    ValueOutOfRange,
)
from heliograph.domain.filters import AutoRespConfigFilter, OptOutFilter
from heliograph.domain.ids import new_uuid
from heliograph.domain.rows import Row
from heliograph.domain.times import iso, later
from heliograph.services.context import Context
from heliograph.store import accounts
from heliograph.store import compliance as store


def blocked(from_number: str, to: str, pointer: str = "/to") -> MessagingRejected:
    return BlockedByStop(
        f"Messages cannot be sent from '{from_number}' to '{to}' due to an existing block rule.",
        pointer=pointer,
    )


async def check_not_opted_out(conn, profile_id: str, from_number: str, recipients: list[str]) -> None:
    """Refuse (40300) when any recipient opted out of this profile."""
    hits = await store.opted_out(conn, profile_id, recipients)
    for i, to in enumerate(recipients):
        if to in hits:
            raise blocked(from_number, to, "/to" if len(recipients) == 1 else f"/to/{i}")


# --- opt-out listing --------------------------------------------------------------------------------


def opt_out_view(row: Row, *, redact: bool = False) -> Row:
    to = row["recipient"]
    if redact and len(to) > 4:
        to = to[:-4] + "****"
    return {
        "from": row["from_number"],
        "to": to,
        "messaging_profile_id": row["messaging_profile_id"],
        "keyword": row["keyword"],
        "created_at": iso(row["created_at"]),
    }


async def list_opt_outs(
    ctx: Context, org_id: str, wanted: OptOutFilter, offset: int, limit: int
) -> tuple[list[Row], int]:
    async with ctx.db.read() as conn:
        return await store.list_opt_outs(conn, org_id, wanted, offset, limit)


# --- auto-response configs --------------------------------------------------------------------------


def config_view(row: Row) -> Row:
    view = {
        "id": row["id"],
        "op": row["op"],
        "keywords": row["keywords"],
        "country_code": row["country_code"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }
    if row["resp_text"] is not None:
        view["resp_text"] = row["resp_text"]
    return view


async def _profile(conn, org_id: str, profile_id: str) -> Row:
    profile = await accounts.get_profile(conn, org_id, profile_id)
    if profile is None:
        raise NotFound(f"Messaging profile {profile_id} was not found.")
    return profile


async def _check_config(conn, profile_id: str, values: Row, exclude_id: str | None = None) -> Row:
    words = [keywords.normalise(k) for k in values["keywords"]]
    if not 1 <= len(words) <= 20 or any(not w for w in words):
        raise ValueOutOfRange("'keywords' must hold 1 to 20 non-empty keywords.", pointer="/keywords")
    conflict = keywords.reserved_conflict(values["op"], words)
    if conflict:
        raise InvalidValue(
            f"{conflict} is reserved for the '{keywords.RESERVED[conflict]}' operation.",
            pointer="/keywords",
        )
    text = values.get("resp_text")
    if text is not None and len(text) < 20:
        raise ValueOutOfRange("'resp_text' must be at least 20 characters.", pointer="/resp_text")
    for other in await store.configs_of_profile(conn, profile_id):
        if other["id"] == exclude_id or other["country_code"] != values["country_code"]:
            continue
        taken = set(words) & {keywords.normalise(k) for k in other["keywords"]}
        if taken:
            raise DuplicateResource(
                f"Keyword {sorted(taken)[0]} is already used by another auto-response config for this country.",
                pointer="/keywords",
            )
    return {**values, "keywords": words}


async def create_config(ctx: Context, org_id: str, profile_id: str, values: Row) -> Row:
    now = ctx.now()
    async with ctx.db.transaction() as conn:
        await _profile(conn, org_id, profile_id)
        values = await _check_config(conn, profile_id, values)
        row = {
            "id": new_uuid(),
            "organization_id": org_id,
            "messaging_profile_id": profile_id,
            "op": values["op"],
            "keywords": values["keywords"],
            "country_code": values["country_code"],
            "resp_text": values.get("resp_text"),
            "created_at": now,
            "updated_at": now,
        }
        await store.insert_config(conn, row)
    return row


async def get_config(ctx: Context, org_id: str, profile_id: str, config_id: str) -> Row:
    async with ctx.db.read() as conn:
        await _profile(conn, org_id, profile_id)
        row = await store.get_config(conn, profile_id, config_id)
    if row is None:
        raise NotFound(f"Auto-response config {config_id} was not found.")
    return row


async def list_configs(ctx: Context, org_id: str, profile_id: str, wanted: AutoRespConfigFilter) -> list[Row]:
    async with ctx.db.read() as conn:
        await _profile(conn, org_id, profile_id)
        return await store.configs_of_profile(conn, profile_id, wanted)


async def replace_config(ctx: Context, org_id: str, profile_id: str, config_id: str, values: Row) -> Row:
    async with ctx.db.transaction() as conn:
        await _profile(conn, org_id, profile_id)
        row = await store.get_config(conn, profile_id, config_id)
        if row is None:
            raise NotFound(f"Auto-response config {config_id} was not found.")
        values = await _check_config(conn, profile_id, values, exclude_id=config_id)
        changes = {
            "op": values["op"],
            "keywords": values["keywords"],
            "country_code": values["country_code"],
            "resp_text": values.get("resp_text"),
            "updated_at": later(ctx.now(), row["updated_at"]),
        }
        await store.update_config(conn, config_id, changes)
        row.update(changes)
    return row


async def delete_config(ctx: Context, org_id: str, profile_id: str, config_id: str) -> None:
    async with ctx.db.transaction() as conn:
        await _profile(conn, org_id, profile_id)
        if await store.get_config(conn, profile_id, config_id) is None:
            raise NotFound(f"Auto-response config {config_id} was not found.")
        await store.delete_config(conn, config_id)


# --- URL shortener domains --------------------------------------------------------------------------


def url_domains(ctx: Context) -> list[Row]:
    """The domains a profile's url_shortener_settings may use: Heliograph's own address, plus configured ones."""
    from urllib.parse import urlsplit

    own = urlsplit(ctx.settings.base_url()).netloc
    names = [own] + [d.strip() for d in ctx.settings.url_shortener_domains.split(",") if d.strip() and d.strip() != own]
    return [
        {
            "id": new_uuid_for(name),
            "record_type": "messaging_url_domain",
            "url_domain": name,
            "use_case": "link_shortening",
        }
        for name in names
    ]


def new_uuid_for(name: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))
