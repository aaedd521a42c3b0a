"""Console sessions: an API key, given once, opens a session kept in a cookie.

The cookie names the key's row and an expiry, signed with a secret derived from the organization's
signing seed (already shared by every process through the database), so any API process can check it
and revoking the key ends the session. The key itself never travels in the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from heliograph.domain.errors import ApiKeyRevoked, AuthenticationFailed
from heliograph.services import sealing
from heliograph.services.accounts import Caller, hash_key
from heliograph.services.context import Context
from heliograph.store import accounts as store

SESSION_SECONDS = 12 * 3600


def _mac(seed_hex: str, message: str) -> str:
    secret = hashlib.sha256(b"heliograph console session|" + bytes.fromhex(seed_hex)).digest()
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


async def open_session(ctx: Context, api_key: str) -> str:
    """The cookie value for a valid, unrevoked API key; AuthenticationFailed otherwise."""
    api_key = api_key.strip()
    if not api_key:
        raise AuthenticationFailed("Enter an API key.")
    async with ctx.db.read() as conn:
        found = await store.organization_for_key(conn, hash_key(api_key))
        if found is None:
            raise AuthenticationFailed("The API key is not valid.")
        key, _ = found
        if key["revoked_at"] is not None:
            raise ApiKeyRevoked("This API key has been revoked.")
        org = await store.get_organization(conn, key["organization_id"])
    assert org is not None
    expires = ctx.now() // 1_000_000 + SESSION_SECONDS
    payload = f"{key['id']}.{expires}"
    return f"{payload}.{_mac(sealing.open_seed(ctx, org['id'], org['signing_seed']), payload)}"


async def caller_for_session(ctx: Context, cookie: str | None) -> Caller | None:
    """Who a session cookie belongs to; None when it is missing, forged, expired or its key was revoked."""
    if not cookie or cookie.count(".") != 2:
        return None
    key_id, expires, mac = cookie.split(".")
    if not expires.isdigit() or int(expires) < ctx.now() // 1_000_000:
        return None
    async with ctx.db.read() as conn:
        found = await store.key_with_organization(conn, key_id)
    if found is None:
        return None
    key, org = found
    if key["revoked_at"] is not None or not hmac.compare_digest(
        mac, _mac(sealing.open_seed(ctx, org["id"], org["signing_seed"]), f"{key_id}.{expires}")
    ):
        return None
    return Caller(org["id"], key["key_hash"], bool(org["messaging_enabled"]))


async def sandbox_caller(ctx: Context) -> Caller | None:
    """The bootstrapped sandbox organization (the console on loopback needs no login)."""
    async with ctx.db.read() as conn:
        org = await store.sandbox_organization(conn)
    return Caller(org["id"], "", bool(org["messaging_enabled"])) if org else None


async def organization(ctx: Context, org_id: str) -> dict[str, Any]:
    """The organization's public facts (never the signing seed)."""
    async with ctx.db.read() as conn:
        org = await store.get_organization(conn, org_id)
    assert org is not None
    return {"id": org["id"], "name": org["name"], "public_key": org["public_key"]}
