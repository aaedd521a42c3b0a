"""Messaging profiles: create, read, update (merge semantics for the pool settings), delete."""

from __future__ import annotations

from typing import Any

from heliograph.domain.errors import NotFound, UrlDomainNotAllowed
from heliograph.domain.ids import new_uuid, new_v1_secret
from heliograph.domain.rows import Row
from heliograph.domain.times import later
from heliograph.services import destinations
from heliograph.services.context import Context
from heliograph.store import accounts as store
from heliograph.store import compliance as compliance_store

DEFAULTS: Row = {
    "enabled": True,
    "webhook_url": None,
    "webhook_failover_url": None,
    "webhook_api_version": "2",
    "number_pool_settings": None,
    "url_shortener_settings": None,
    "alpha_sender": None,
    "daily_spend_limit": "0.00",
    "daily_spend_limit_enabled": False,
    "mms_fall_back_to_sms": False,
    "mms_transcoding": False,
    "mobile_only": False,
    "smart_encoding": False,
    "health_webhook_url": None,
    "ai_assistant_id": None,
    "resource_group_id": None,
}

POOL_DEFAULTS: Row = {
    "long_code_weight": 1,
    "toll_free_weight": 1,
    "skip_unhealthy": False,
    "sticky_sender": False,
    "geomatch": False,
}


def _normalise(values: Row) -> Row:
    out = dict(values)
    for url_field in ("webhook_url", "webhook_failover_url", "health_webhook_url"):
        if out.get(url_field) == "":
            out[url_field] = None  # Telnyx takes "" on input and shows null
    return out


def merge_pool_settings(current: Row | None, patch: Row | None) -> Row | None:
    """PATCH merges into the existing pool settings; null or {} disables the pool."""
    if not patch:
        return None
    return {**POOL_DEFAULTS, **(current or {}), **patch}


def _check_shortener_domain(ctx: Context, values: Row) -> None:
    from heliograph.services.compliance import url_domains

    settings = values.get("url_shortener_settings")
    if settings and settings.get("domain") not in {d["url_domain"] for d in url_domains(ctx)}:
        raise UrlDomainNotAllowed(
            f"The domain {settings.get('domain')!r} is not listed as a valid domain to be used with URL Shortener "
            "(see GET /v2/messaging_url_domains).",
            pointer="/url_shortener_settings/domain",
        )


PROFILE_URL_FIELDS = ("webhook_url", "webhook_failover_url", "health_webhook_url")


async def create_profile(ctx: Context, org_id: str, values: Row) -> Row:
    _check_shortener_domain(ctx, values)
    destinations.check_webhook_urls(ctx, values, PROFILE_URL_FIELDS)
    now = ctx.now()
    row = {
        **DEFAULTS,
        **_normalise(values),
        "id": new_uuid(),
        "organization_id": org_id,
        "v1_secret": new_v1_secret(),
        "created_at": now,
        "updated_at": now,
    }
    if row["number_pool_settings"] is not None:
        row["number_pool_settings"] = merge_pool_settings(None, row["number_pool_settings"])
    async with ctx.db.transaction() as conn:
        await store.insert_profile(conn, row)
    return row


async def get_profile(ctx: Context, org_id: str, profile_id: str) -> Row:
    async with ctx.db.read() as conn:
        row = await store.get_profile(conn, org_id, profile_id)
    if row is None:
        raise NotFound(f"Messaging profile {profile_id} was not found.")
    return row


async def default_profile(ctx: Context, org_id: str) -> Row | None:
    async with ctx.db.read() as conn:
        return await store.first_profile(conn, org_id)


async def list_profiles(ctx: Context, org_id: str, **filters: Any) -> tuple[list[Row], int]:
    async with ctx.db.read() as conn:
        return await store.list_profiles(conn, org_id, **filters)


async def update_profile(ctx: Context, org_id: str, profile_id: str, values: Row) -> Row:
    destinations.check_webhook_urls(ctx, values, PROFILE_URL_FIELDS)
    async with ctx.db.transaction() as conn:
        row = await store.get_profile(conn, org_id, profile_id)
        if row is None:
            raise NotFound(f"Messaging profile {profile_id} was not found.")
        changes = _normalise(values)
        _check_shortener_domain(ctx, changes)
        if "number_pool_settings" in changes:
            changes["number_pool_settings"] = merge_pool_settings(
                row["number_pool_settings"], changes["number_pool_settings"]
            )
        changes["updated_at"] = later(ctx.now(), row["updated_at"])
        pool = changes.get("number_pool_settings", row["number_pool_settings"]) or {}
        if not pool.get("sticky_sender"):
            await store.forget_sticky_senders(conn, profile_id=profile_id)  # disabling clears all mappings
        await store.update_profile(conn, profile_id, changes)
        row.update(changes)
    return row


async def delete_profile(ctx: Context, org_id: str, profile_id: str) -> Row:
    async with ctx.db.transaction() as conn:
        row = await store.get_profile(conn, org_id, profile_id)
        if row is None:
            raise NotFound(f"Messaging profile {profile_id} was not found.")
        await store.forget_sticky_senders(conn, profile_id=profile_id)
        await compliance_store.delete_profile_rules(conn, profile_id)
        await store.delete_profile(conn, org_id, profile_id, ctx.now())
    return row


async def profile_numbers(ctx: Context, org_id: str, profile_id: str, offset: int, limit: int) -> tuple[list[Row], int]:
    await get_profile(ctx, org_id, profile_id)
    async with ctx.db.read() as conn:
        return await store.list_numbers(conn, org_id, profile_id=profile_id, offset=offset, limit=limit)


async def regenerate_secret(ctx: Context, org_id: str, profile_id: str) -> Row:
    """A new v1_secret; the old one stops matching at once."""
    async with ctx.db.transaction() as conn:
        row = await store.get_profile(conn, org_id, profile_id)
        if row is None:
            raise NotFound(f"Messaging profile {profile_id} was not found.")
        changes = {"v1_secret": new_v1_secret(), "updated_at": later(ctx.now(), row["updated_at"])}
        await store.update_profile(conn, profile_id, changes)
        row.update(changes)
    return row
