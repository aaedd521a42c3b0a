"""Readiness: ready only with a reachable database, a schema not behind this release, and a worker reporting."""

from __future__ import annotations

from sqlalchemy import text

from heliograph.bootstrap import build
from heliograph.services import readiness
from heliograph.settings import Settings
from heliograph.store.migrate import head_revision


async def test_not_ready_until_a_worker_reports_its_links(world) -> None:
    result = await readiness.check(world.ctx)
    assert not result.ready
    assert "worker" in result.reason
    await world.links.report()
    assert await readiness.check(world.ctx) == readiness.Readiness(True)


async def test_a_silent_worker_makes_it_not_ready_after_the_heartbeat_window(world) -> None:
    await world.links.report()
    world.clock.advance(world.ctx.settings.ready_heartbeat_seconds - 1)
    assert (await readiness.check(world.ctx)).ready
    world.clock.advance(2)
    result = await readiness.check(world.ctx)
    assert not result.ready
    assert f"{world.ctx.settings.ready_heartbeat_seconds:g} s" in result.reason


async def _set_revision(world, revision: str) -> None:
    async with world.ctx.db.transaction() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


async def test_a_schema_behind_this_release_is_not_ready_one_ahead_is(world) -> None:
    await world.links.report()
    await _set_revision(world, "0001")
    result = await readiness.check(world.ctx)
    assert not result.ready
    assert "heliograph migrate" in result.reason
    assert head_revision() in result.reason
    await _set_revision(world, "9999_from_a_newer_release")  # a rolling upgrade: the new release migrated first
    assert (await readiness.check(world.ctx)).ready


async def test_an_unreachable_database_is_not_ready(tmp_path) -> None:
    from support import free_port

    nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/heliograph"  # nothing listens there
    settings = Settings(data_dir=tmp_path, mode="gateway", database_url=nobody)
    hg = build(settings)
    try:
        result = await readiness.check(hg.ctx)
    finally:
        await hg.ctx.db.dispose()
    assert not result.ready
    assert "database" in result.reason
