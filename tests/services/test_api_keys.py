"""API keys (services/accounts.py): listings cannot reveal a chosen key, short chosen keys are only for a
sandbox on loopback, and a revoked key stops working in a process that has it cached."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from heliograph.domain.errors import AuthenticationFailed
from heliograph.services import accounts
from heliograph.settings import Settings

CHOSEN = "acme-production-key-0123456789-abcdefgh"


async def test_a_listed_prefix_reveals_nothing_of_a_chosen_key(world) -> None:
    org = world.account.organization["id"]
    await accounts.add_api_key(world.ctx, org, CHOSEN)
    keys = await accounts.list_keys(world.ctx, org)
    listed = next(k for k in keys if k["prefix"] == hashlib.sha256(CHOSEN.encode()).hexdigest()[:12])
    assert CHOSEN[:4] not in listed["prefix"]
    assert all(k["prefix"] not in CHOSEN and "key_hash" not in k for k in keys)
    assert listed["last_used_at"] is None and listed["revoked_at"] is None


@pytest.mark.parametrize(
    ("settings", "allowed"),
    [
        (Settings(mode="sandbox", host="127.0.0.1"), True),
        (Settings(mode="sandbox", host="localhost"), True),
        (Settings(mode="sandbox", host="0.0.0.0"), False),
        (Settings(mode="gateway", host="127.0.0.1"), False),
    ],
)
def test_short_chosen_keys_are_for_a_sandbox_on_loopback_only(settings: Settings, allowed: bool) -> None:
    if allowed:
        accounts.check_chosen_key(settings, "KEYSHORT")
    else:
        with pytest.raises(accounts.KeyTooShort):
            accounts.check_chosen_key(settings, "KEYSHORT")
    accounts.check_chosen_key(settings, "K" * 32)


async def test_a_revoked_key_stops_working_in_a_process_that_cached_it(world) -> None:
    org = world.account.organization["id"]
    key = await accounts.add_api_key(world.ctx, org)
    cache = accounts.KeyCache()  # as a running server holds it: positive entries live 30 s
    caller = await accounts.authenticate(world.ctx, cache, f"Bearer {key}")
    assert caller.organization_id == org

    listed = next(
        k for k in await accounts.list_keys(world.ctx, org) if k["prefix"] == accounts.key_prefix(caller.key_hash)
    )
    revoked = await accounts.revoke_key(world.ctx, listed["prefix"])
    assert revoked["id"] == listed["id"]

    deadline = asyncio.get_running_loop().time() + 10  # well under the cache's 30 s
    while True:
        try:
            await accounts.authenticate(world.ctx, cache, f"Bearer {key}")
        except AuthenticationFailed as exc:
            assert exc.code == "20002"
            break
        assert asyncio.get_running_loop().time() < deadline, "the revoked key was still accepted"
        await asyncio.sleep(0.05)
    with pytest.raises(accounts.KeyNotFound):
        await accounts.revoke_key(world.ctx, "no-such-key")


async def test_last_use_is_recorded(world) -> None:
    org = world.account.organization["id"]
    key = await accounts.add_api_key(world.ctx, org)
    cache = accounts.KeyCache(recheck_seconds=0)
    for _ in range(2):  # the second request's check writes what the first one used
        await accounts.authenticate(world.ctx, cache, f"Bearer {key}")
    listed = [
        k
        for k in await accounts.list_keys(world.ctx, org)
        if k["prefix"] == accounts.key_prefix(accounts.hash_key(key))
    ]
    assert listed[0]["last_used_at"] == world.ctx.now()
