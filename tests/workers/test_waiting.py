"""The one "sleep until the next due item, or until nudged" the background loops share
(workers/waiting.py): it wakes at the due time, on a nudge, or after the poll interval at most, never
spins on work already due, and outlives a failing look-up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from heliograph.clock import SystemClock
from heliograph.workers.waiting import wait_until_due


class Ctx:
    def __init__(self) -> None:
        self.clock = SystemClock()

    def now(self) -> int:
        return self.clock.now_us()


NextDue = Callable[[Ctx], Awaitable[int | None]]


def due_in(seconds: float | None) -> NextDue:
    async def next_due_at(ctx: Ctx) -> int | None:
        return None if seconds is None else ctx.now() + int(seconds * 1_000_000)

    return next_due_at


async def _timed(ctx: Ctx, nudge: asyncio.Event, next_due_at: NextDue, **options: float) -> float:
    started = time.monotonic()
    await asyncio.wait_for(wait_until_due(ctx, nudge, next_due_at, **options), 8)
    return time.monotonic() - started


async def test_it_wakes_when_the_next_item_is_due() -> None:
    took = await _timed(Ctx(), asyncio.Event(), due_in(0.2), poll_seconds=10, busy_sleep=0.001)
    assert 0.15 <= took < 3


async def test_nothing_due_waits_the_poll_interval() -> None:
    took = await _timed(Ctx(), asyncio.Event(), due_in(None), poll_seconds=0.2, busy_sleep=0.001)
    assert 0.15 <= took < 3


async def test_a_nudge_wakes_it_at_once() -> None:
    nudge = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, nudge.set)
    took = await _timed(Ctx(), nudge, due_in(60), poll_seconds=60, busy_sleep=0.001)
    assert took < 3


async def test_work_already_due_yields_for_the_busy_sleep_only() -> None:
    took = await _timed(Ctx(), asyncio.Event(), due_in(-5), poll_seconds=60, busy_sleep=0.05)
    assert 0.04 <= took < 3


async def test_a_failing_look_up_waits_the_poll_interval(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(ctx: Ctx) -> int | None:
        raise RuntimeError("database went away")

    took = await _timed(Ctx(), asyncio.Event(), broken, poll_seconds=0.2, busy_sleep=0.001)
    assert 0.15 <= took < 3
    assert "reading the next due time failed" in caplog.text
