"""The SQLite engine's own machinery: driver-level reads agree with SQLAlchemy's, urgent writers go
first across processes, and the WAL checkpointer moves committed pages into the database file."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy import text

from heliograph.bootstrap import build
from heliograph.services import accounts
from heliograph.settings import Settings
from heliograph.store import accounts as store
from heliograph.store.engine import Database
from heliograph.store.migrate import upgrade
from heliograph.store.tables import opt_outs


async def test_driver_level_sender_lookup_matches_sqlalchemy(tmp_path) -> None:
    hg = build(Settings(data_dir=tmp_path))
    await upgrade(hg.ctx.db)
    account = await accounts.bootstrap_sandbox(hg.ctx, "KEYDRIVERTEST")
    org = account.organization["id"]
    number = account.phone_numbers[0]
    async with hg.ctx.db.read() as conn:
        profile_id = (await store.sender_with_profile(conn, org, number))[1]["id"]
    async with hg.ctx.db.transaction() as conn:
        row = {"messaging_profile_id": profile_id, "recipient": "+13125559999", "organization_id": org}
        await conn.execute(opt_outs.insert(), [{**row, "from_number": number, "keyword": "STOP", "created_at": 1}])
    driver = hg.ctx.db.driver_reader()
    assert driver is not None

    for args in ((org, number, "+13125559999"), (org, number, "+13125550000"), (org, "+19995550000", "+1312")):
        async with hg.ctx.db.read() as conn:
            expected = await store.sender_with_profile(conn, *args)
        assert store.sender_with_profile_now(driver, *args) == expected

    found = store.sender_with_profile_now(driver, org, number, "+13125559999")
    assert found is not None
    _, profile = found
    assert profile["opted_out"] is True  # decoded as the column type says, not SQLite's 1
    assert isinstance(profile["whitelisted_destinations"], list)  # JSON decoded
    await hg.ctx.db.dispose()


async def test_an_urgent_writer_goes_before_a_background_writer_that_asked_later(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/locks.db"
    first = Database(url)
    await upgrade(first)
    urgent, background = Database(url), Database(url)  # separate lock files: as separate processes
    order: list[str] = []
    release_first = asyncio.Event()

    async def hold(db: Database, name: str, *, is_urgent: bool, until: asyncio.Event | None = None) -> None:
        async with db.transaction(urgent=is_urgent) as conn:
            order.append(name)
            await conn.execute(text("SELECT 1"))
            if until is not None:
                await until.wait()

    holder = asyncio.create_task(hold(first, "background holding the lock", is_urgent=False, until=release_first))
    await _until(lambda: order)
    waiting_urgent = asyncio.create_task(hold(urgent, "urgent", is_urgent=True))
    await asyncio.sleep(0.1)  # the urgent writer is queued first ...
    waiting_background = asyncio.create_task(hold(background, "background", is_urgent=False))
    await asyncio.sleep(0.1)  # ... and a background writer queues behind it
    release_first.set()
    await asyncio.wait_for(asyncio.gather(holder, waiting_urgent, waiting_background), 10)

    assert order == ["background holding the lock", "urgent", "background"]
    for db in (first, urgent, background):
        await db.dispose()


async def test_checkpointer_copies_committed_pages_into_the_database_file(tmp_path) -> None:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite:///{path}")
    await upgrade(db)
    size_before = os.path.getsize(path)
    db.start_checkpointer()
    async with db.transaction() as conn:
        for i in range(200):
            await conn.execute(
                text(
                    "INSERT INTO organizations (id, name, signing_seed, public_key, messaging_enabled, is_sandbox, "
                    "created_at) VALUES (:id, :name, 'seed', 'key', 1, 1, 1)"
                ),
                {"id": f"org-{i}", "name": "x" * 2000},
            )
    # the automatic checkpoint would wait for thousands of pages; the thread copies them within a second
    await _until(lambda: os.path.getsize(path) > size_before + 200 * 2000, timeout=5)
    await db.dispose()


async def _until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
