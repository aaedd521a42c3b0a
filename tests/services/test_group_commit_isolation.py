"""Issue 11 #2: one request's bad row never fails the other requests that share its group commit."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from heliograph.services.committer import WriteIntent
from heliograph.store.tables import rate_limit_buckets


def _intent(key_hash: str, tat: object = 0) -> WriteIntent:
    return WriteIntent(rows=[(rate_limit_buckets, {"key_hash": key_hash, "tat": tat})])


async def test_a_poison_request_fails_alone_among_concurrent_good_ones(world) -> None:
    # a value the database refuses: NUL in text on PostgreSQL, a value SQLite cannot bind on SQLite
    postgres = not world.ctx.db.sqlite
    poison = _intent("poison\x00", 0) if postgres else _intent("poison", object())
    good = [_intent(f"good-{i:03d}") for i in range(40)]
    intents = good[:20] + [poison] + good[20:]
    committer = world.ctx.committer
    committer.start()
    try:
        results = await asyncio.gather(*(committer.commit(i) for i in intents), return_exceptions=True)
    finally:
        await committer.stop()
    failed = [intents[n] for n, r in enumerate(results) if isinstance(r, BaseException)]
    assert failed == [poison]
    async with world.ctx.db.read() as conn:
        stored = (await conn.execute(select(func.count()).select_from(rate_limit_buckets))).scalar()
    assert stored == 40
