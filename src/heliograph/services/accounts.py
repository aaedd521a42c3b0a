"""Organizations, API keys and the sandbox bootstrap."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

from heliograph.domain.errors import ApiKeyRevoked, AuthenticationFailed, HeliographError
from heliograph.domain.ids import new_uuid
from heliograph.domain.rows import Row
from heliograph.domain.urls import is_loopback_host
from heliograph.services import numbers, profiles, sealing, signing
from heliograph.services.context import Context
from heliograph.settings import Settings
from heliograph.store import accounts as store

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the organization behind the API key."""

    organization_id: str
    key_hash: str
    messaging_enabled: bool


MIN_CHOSEN_KEY_LENGTH = 32
PREFIX_LENGTH = 12


class KeyTooShort(ValueError):
    """A chosen API key shorter than 32 characters, outside a sandbox on loopback."""


def hash_key(key: str) -> str:
    # generated keys carry 192 random bits and chosen ones at least 32 characters (outside a loopback
    # sandbox), so a fast hash is enough; it keeps auth off the hot path's budget
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key_hash: str) -> str:
    """What listings show to tell keys apart: the start of the key's hash, which tells nothing about the key
    (the first characters of a chosen key did)."""
    return key_hash[:PREFIX_LENGTH]


def new_api_key() -> str:
    return "KEY" + secrets.token_hex(24).upper()


def check_chosen_key(settings: Settings, key: str) -> None:
    """Short chosen keys are for a developer's own machine only: a sandbox listening on loopback."""
    if len(key) >= MIN_CHOSEN_KEY_LENGTH or (settings.mode == "sandbox" and is_loopback_host(settings.host)):
        return
    raise KeyTooShort(
        f"A chosen API key must be at least {MIN_CHOSEN_KEY_LENGTH} characters long outside a sandbox on loopback "
        f"(this one has {len(key)}); leave HELIOGRAPH_API_KEY unset to have one generated."
    )


class KeyCache:
    """Recently seen keys, so most requests authenticate without a query.

    Every `recheck_seconds` (on the first request after that) one query asks which keys were revoked
    lately, and those leave the cache: a revocation takes effect within about a second in every
    process. Keys seen are written back as `last_used_at`: a key not yet written at once, others every
    `touch_seconds`."""

    REVOCATION_LOOKBACK_US = 300 * 1_000_000  # wide enough for clock differences between machines

    def __init__(self, ttl_seconds: float = 30.0, recheck_seconds: float = 1.0, touch_seconds: float = 60.0) -> None:
        self._ttl = ttl_seconds
        self._recheck = recheck_seconds
        self._touch = touch_seconds
        self._entries: dict[str, tuple[float, Caller | None]] = {}
        self._checked_at = time.monotonic()
        self._touched_at = time.monotonic()
        self._used: dict[str, int] = {}
        self._written: set[str] = set()
        self._refreshing: asyncio.Future | None = None

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

    def used(self, key_hash: str, now: int) -> None:
        self._used[key_hash] = now

    async def refresh_if_due(self, ctx: Context) -> None:
        if time.monotonic() - self._checked_at < self._recheck:
            return
        if self._refreshing is not None:  # another request is refreshing: wait for it rather than repeat it
            await asyncio.shield(self._refreshing)
            return
        self._refreshing = asyncio.get_running_loop().create_future()
        try:
            await self._refresh(ctx)
        finally:
            self._checked_at = time.monotonic()
            self._refreshing.set_result(None)
            self._refreshing = None

    async def _refresh(self, ctx: Context) -> None:
        try:
            async with ctx.db.read() as conn:
                revoked = await store.keys_revoked_since(conn, ctx.now() - self.REVOCATION_LOOKBACK_US)
            for key_hash in revoked:
                self._entries.pop(key_hash, None)
            due = time.monotonic() - self._touched_at >= self._touch
            if self._used and (due or not self._used.keys() <= self._written):
                used, self._used = self._used, {}
                self._touched_at = time.monotonic()
                self._written |= used.keys()
                async with ctx.db.transaction() as conn:
                    await store.touch_keys(conn, used)
        except Exception:  # a failed check is retried a second later; requests go on
            logger.exception("refreshing the API key cache failed", extra={"action": "key_cache_refresh"})


async def authenticate(ctx: Context, cache: KeyCache, authorization: str | None) -> Caller:
    if not authorization:
        raise AuthenticationFailed("No API key was given (Authorization: Bearer <key>).")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed("The Authorization header must be 'Bearer <API key>'.")
    key_hash = hash_key(token)
    await cache.refresh_if_due(ctx)
    hit, caller = cache.get(key_hash)
    if not hit:
        async with ctx.db.read() as conn:
            found = await store.organization_for_key(conn, key_hash)
        caller = None
        if found is not None:
            key, org = found
            if key["revoked_at"] is not None:
                raise ApiKeyRevoked("This API key has been revoked.")
            caller = Caller(org["id"], key_hash, bool(org["messaging_enabled"]))
        cache.put(key_hash, caller)
    if caller is None:
        raise AuthenticationFailed("The API key is not valid.")
    cache.used(key_hash, ctx.now())
    return caller


async def create_organization(ctx: Context, name: str, *, sandbox: bool = False) -> Row:
    seed, public_key = signing.new_key_pair()
    org_id = new_uuid()
    row = {
        "id": org_id,
        "name": name,
        "signing_seed": sealing.sealer(ctx).seal(seed, sealing.seed_context(org_id)),
        "public_key": public_key,
        "messaging_enabled": True,
        "is_sandbox": sandbox,
        "created_at": ctx.now(),
    }
    async with ctx.db.transaction() as conn:
        await store.insert_organization(conn, row)
    return row


async def sandbox_organization(ctx: Context) -> Row | None:
    """The sandbox's one organization (`heliograph info`), if the sandbox was started once."""
    async with ctx.db.read() as conn:
        return await store.sandbox_organization(conn)


async def organization_exists(ctx: Context, organization_id: str) -> bool:
    async with ctx.db.read() as conn:
        return await store.get_organization(conn, organization_id) is not None


async def add_api_key(ctx: Context, organization_id: str, key: str | None = None) -> str:
    """Store a key (hashed) and return it; the plain key is never stored or shown again.
    A chosen `key` must pass `check_chosen_key` (KeyTooShort otherwise)."""
    if key:
        check_chosen_key(ctx.settings, key)
    key = key or new_api_key()
    async with ctx.db.transaction() as conn:
        if await store.organization_for_key(conn, hash_key(key)) is not None:
            return key
        await store.insert_api_key(
            conn,
            {
                "id": new_uuid(),
                "organization_id": organization_id,
                "key_hash": hash_key(key),
                "prefix": key_prefix(hash_key(key)),
                "created_at": ctx.now(),
                "revoked_at": None,
            },
        )
    return key


async def list_keys(ctx: Context, organization_id: str | None = None) -> list[Row]:
    """Every API key (of one organization): id, prefix, created, last used, revoked. No secrets."""
    async with ctx.db.read() as conn:
        return await store.list_keys(conn, organization_id)


class KeyNotFound(LookupError):
    """No key, or more than one, matches what was given to revoke."""


async def revoke_key(ctx: Context, selector: str) -> Row:
    """Revoke the key named by its id, its listed prefix, or the key itself. Every process stops taking
    it within about a second (KeyCache's recheck); revoking twice keeps the first time."""
    async with ctx.db.transaction() as conn:
        found = await store.find_keys(conn, key_id=selector, prefix=selector, key_hash=hash_key(selector))
        if len(found) != 1:
            raise KeyNotFound(
                f"{'No' if not found else 'More than one'} API key matches {selector[:PREFIX_LENGTH]!r}"
                + ("; give the key id instead." if found else ".")
            )
        key = found[0]
        await store.revoke_key(conn, key["id"], ctx.now())
    logger.info("API key revoked", extra={"action": "revoke_key", "key_id": key["id"], "prefix": key["prefix"]})
    return {**key, "revoked_at": key["revoked_at"] or ctx.now()}


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
