"""Migrations: an empty database reaches head, and a database of the first release keeps its data on the way."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from heliograph.store.engine import Database
from heliograph.store.migrate import alembic_config, upgrade
from heliograph.store.tables import metadata


async def test_empty_database_upgrades_to_the_current_tables(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/fresh.db")
    await upgrade(db)
    async with db.read() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    await db.dispose()
    assert set(metadata.tables) <= tables


async def test_first_release_database_keeps_its_rows(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/old.db")
    await upgrade(db, "0001")
    async with db.transaction() as conn:
        await conn.execute(
            text(
                "INSERT INTO organizations (id, name, signing_seed, public_key, messaging_enabled, is_sandbox, "
                "created_at) VALUES ('org', 'Old', 'seed', 'key', 1, 1, 1)"
            )
        )
    await upgrade(db)
    async with db.read() as conn:
        names = (await conn.execute(text("SELECT name FROM organizations"))).scalars().all()
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    await db.dispose()
    assert names == ["Old"]
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
