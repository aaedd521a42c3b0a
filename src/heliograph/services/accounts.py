"""Organizations, API keys and the sandbox bootstrap."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from heliograph.domain.errors import AuthenticationFailed, HeliographError
from heliograph.domain.ids import new_uuid
from heliograph.services import numbers, profiles, signing
from heliograph.services.context import Context
from heliograph.store import accounts as store
from heliograph.store.tables import api_keys, organizations

logger = logging.getLogger(__name__)

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the organization behind the API key."""

    organization_id: str
    key_hash: str
    messaging_enabled: bool


def hash_key(key: str) -> str:
    # keys carry 192 random bits, so a fast hash is enough; it keeps auth off the hot path's budget
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return "KEY" + secrets.token_hex(24).upper()


class KeyCache:
    """Recently seen keys, so most requests authenticate without a query. Revocations apply within `ttl`."""

    def __init__(self, ttl_seconds: float = 30.0) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Caller | None]] = {}

    def get(self, key_hash: str) -> tuple[bool, Caller | None]:
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key_hash: str, caller: Caller | None) -> None:
        if len(self._entries) > 100_000:
            self._entries.clear()
        # unknown keys are remembered briefly too, so a flood of bad keys does not reach the database
        self._entries[key_hash] = (time.monotonic() + (self._ttl if caller else 2.0), caller)


async def authenticate(ctx: Context, cache: KeyCache, authorization: str | None) -> Caller:
    if not authorization:
        raise AuthenticationFailed("No API key was given (Authorization: Bearer <key>).")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed("The Authorization header must be 'Bearer <API key>'.")
    key_hash = hash_key(token)
    hit, caller = cache.get(key_hash)
    if not hit:
        async with ctx.db.read() as conn:
            found = await store.organization_for_key(conn, key_hash)
        caller = None
        if found is not None:
            key, org = found
            if key["revoked_at"] is not None:
                raise AuthenticationFailed("This API key has been revoked.", code="20002")
            caller = Caller(org["id"], key_hash, bool(org["messaging_enabled"]))
        cache.put(key_hash, caller)
    if caller is None:
        raise AuthenticationFailed("The API key is not valid.")
    return caller


async def create_organization(ctx: Context, name: str, *, sandbox: bool = False) -> Row:
    seed, public_key = signing.new_key_pair()
    row = {
        "id": new_uuid(),
        "name": name,
        "signing_seed": seed,
        "public_key": public_key,
        "messaging_enabled": True,
        "is_sandbox": sandbox,
        "created_at": ctx.now(),
    }
    async with ctx.db.transaction() as conn:
        await store.insert(conn, organizations, row)
    return row


async def add_api_key(ctx: Context, organization_id: str, key: str | None = None) -> str:
    """Store a key (hashed) and return it; the plain key is never stored or shown again."""
    key = key or new_api_key()
    async with ctx.db.transaction() as conn:
        if await store.organization_for_key(conn, hash_key(key)) is not None:
            return key
        await store.insert(
            conn,
            api_keys,
            {
                "id": new_uuid(),
                "organization_id": organization_id,
                "key_hash": hash_key(key),
                "prefix": key[:8],
                "created_at": ctx.now(),
                "revoked_at": None,
            },
        )
    return key


@dataclass
class SandboxAccount:
    organization: Row
    new_api_key: str | None  # only on the first start (or when HELIOGRAPH_API_KEY is new)
    profile_id: str | None
    phone_numbers: list[str]


SANDBOX_NUMBERS = ("+13125550100", "+18885550100")  # a US long code and a US toll-free number


async def bootstrap_sandbox(ctx: Context, api_key: str | None) -> SandboxAccount:
    """First start: organization, key, signing keys, default profile, two numbers. Later starts: nothing new.

    With `api_key` (HELIOGRAPH_API_KEY) that exact key is made valid; it is never echoed back.
    """
    async with ctx.db.read() as conn:
        org = await store.sandbox_organization(conn)
    generated = None
    if org is None:
        org = await create_organization(ctx, "Sandbox", sandbox=True)
        if api_key:
            await add_api_key(ctx, org["id"], api_key)
        else:
            generated = await add_api_key(ctx, org["id"])
        profile = await profiles.create_profile(ctx, org["id"], {"name": "Default", "whitelisted_destinations": ["*"]})
        for number in SANDBOX_NUMBERS:
            try:
                await numbers.add_number(ctx, org["id"], number, profile_id=profile["id"])
            except HeliographError:
                logger.warning("sandbox number unavailable", extra={"number": number})
    elif api_key:
        await add_api_key(ctx, org["id"], api_key)
    default = await profiles.default_profile(ctx, org["id"])
    async with ctx.db.read() as conn:
        rows, _ = await store.list_numbers(conn, org["id"], offset=0, limit=250)
    return SandboxAccount(org, generated, default["id"] if default else None, [r["phone_number"] for r in rows])
