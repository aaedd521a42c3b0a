"""Secrets at rest: the sandbox's files are owner-only, and with HELIOGRAPH_SECRET_KEY signing seeds and
connector secrets are sealed in the database (plain ones from before are sealed at start; keys rotate)."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import subprocess
import sys

import pytest
from nacl.signing import VerifyKey
from sqlalchemy import select

from heliograph.bootstrap import build
from heliograph.services import connectors, event_feed, inbound, sealing
from heliograph.settings import Settings
from heliograph.store.migrate import upgrade
from heliograph.store.tables import connectors as connectors_table
from heliograph.store.tables import organizations

KEY1 = base64.b64encode(b"1" * 32).decode()
KEY2 = (b"2" * 32).hex()


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_the_data_directory_and_database_files_are_owner_only(tmp_path, caplog) -> None:
    old_umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh"
        hg = build(Settings(data_dir=fresh))
        await upgrade(hg.ctx.db)
        async with hg.ctx.db.transaction() as conn:  # a write, so the WAL and shared-memory files exist
            await conn.exec_driver_sql("CREATE TABLE probe (x INTEGER)")
        assert (fresh / "heliograph.db-wal").exists()
        modes = {name: _mode(fresh / name) for name in ("heliograph.db", "heliograph.db-wal", "heliograph.db-shm")}
        await hg.ctx.db.dispose()
        assert _mode(fresh) == 0o700
        assert all(mode == 0o600 for mode in modes.values()), modes

        old = tmp_path / "old"  # as an earlier version left it
        old.mkdir(mode=0o755)
        for name in ("heliograph.db", "heliograph.db-wal", "heliograph.db-shm"):
            (old / name).touch(mode=0o644)
            os.chmod(old / name, 0o644)
        os.chmod(old, 0o755)
        with caplog.at_level(logging.WARNING, logger="heliograph.store.files"):
            build(Settings(data_dir=old))
        assert _mode(old) == 0o700
        assert all(_mode(old / name) == 0o600 for name in ("heliograph.db", "heliograph.db-wal", "heliograph.db-shm"))
        assert sum("tightened permissions" in r.message for r in caplog.records) == 4
    finally:
        os.umask(old_umask)


class TestSealed:
    @pytest.fixture
    def world_settings(self) -> dict:
        return {"mode": "gateway", "secret_key": KEY1}

    async def test_signing_seeds_are_sealed_and_webhooks_still_verify(self, world) -> None:
        org = world.account.organization["id"]
        async with world.ctx.db.read() as conn:
            stored = (await conn.execute(select(organizations.c.signing_seed))).scalar()
        assert stored.startswith("sealed:v1:")
        seed = sealing.open_seed(world.ctx, org, stored)
        assert len(seed) == 64 and seed not in stored

        start = await event_feed.head(world.ctx, org)
        await inbound.receive(world.ctx, org, sender="+13125550123", to=world.long_code, text="hi", media_urls=[])
        events, _ = await event_feed.read(world.ctx, org, start)
        key = VerifyKey(base64.b64decode(world.account.organization["public_key"]))
        signed = events[0].headers["telnyx-timestamp"].encode() + b"|" + events[0].body.encode()
        key.verify(signed, base64.b64decode(events[0].headers["telnyx-signature-ed25519"]))

        with pytest.raises(sealing.SecretKeyError):  # bound to its row: moved to another, it does not open
            sealing.open_seed(world.ctx, "another-org", stored)

    async def test_connector_secrets_are_sealed(self, world) -> None:
        config = {"base_url": "https://up.example/v2", "api_key": "KEYUPSTREAM", "public_key": "cHVibGlj"}
        shown = await connectors.add_connector(world.ctx, "telnyx", "up", config)
        assert "api_key" not in shown["config"]
        async with world.ctx.db.read() as conn:
            stored = (
                await conn.execute(select(connectors_table.c.config).where(connectors_table.c.name == "up"))
            ).scalar()
        assert stored["api_key"].startswith("sealed:v1:") and "KEYUPSTREAM" not in json.dumps(stored)
        snapshot = await connectors.load(world.ctx)
        assert snapshot.connectors["up"]["config"]["api_key"] == "KEYUPSTREAM"


async def test_plain_seeds_are_sealed_at_start_and_keys_rotate(world, tmp_path) -> None:
    """A sandbox-era (plain) database: a start with a key seals it; a new key with the old one as previous
    re-seals it; `heliograph secrets reseal` does the same from the command line."""
    org = world.account.organization["id"]
    await connectors.add_connector(
        world.ctx, "telnyx", "up", {"base_url": "https://up.example/v2", "api_key": "KEYUP", "public_key": "cA=="}
    )

    async def stored() -> str:
        async with world.ctx.db.read() as conn:
            return (await conn.execute(select(organizations.c.signing_seed).where(organizations.c.id == org))).scalar()

    plain = await stored()
    assert not sealing.is_sealed(plain)

    def sealer(**keys: str) -> object:
        return sealing.Sealer.from_settings(Settings(**keys))

    async def start_with(**keys: str) -> sealing.ResealReport:
        world.ctx.sealer = sealer(**keys)
        return await sealing.reseal_all(world.ctx)

    report = await start_with(secret_key=KEY1)
    assert (report.resealed, report.plain, report.previous) == (2, 0, 0)
    first = await stored()
    assert first.startswith(f"sealed:v1:{sealing.key_id(sealing.parse_key(KEY1))}:")
    assert (await start_with(secret_key=KEY1)).resealed == 0  # idempotent

    with pytest.raises(sealing.SecretKeyError):  # a new key alone cannot open the old seals: refuse
        await start_with(secret_key=KEY2)
    report = await start_with(secret_key=KEY2, previous_secret_keys=KEY1)
    assert report.resealed == 2 and report.current == 2
    assert sealer(secret_key=KEY2).open(await stored(), sealing.seed_context(org)) == plain
    snapshot = await connectors.load(world.ctx)
    assert snapshot.connectors["up"]["config"]["api_key"] == "KEYUP"

    if world.ctx.db.sqlite:  # the command line, on the same database
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
        env.update({"HELIOGRAPH_SECRET_KEY": KEY1, "HELIOGRAPH_PREVIOUS_SECRET_KEYS": KEY2})
        done = subprocess.run(
            [sys.executable, "-m", "heliograph", "secrets", "reseal", "--data-dir", str(world.hg.settings.data_dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"resealed": 2, "current": 2, "previous": 0, "plain": 0}
        assert sealer(secret_key=KEY1).open(await stored(), sealing.seed_context(org)) == plain
