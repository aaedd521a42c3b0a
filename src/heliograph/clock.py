"""One injectable source of time, so schedules, retries and expiries are tested without sleeping."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now_us(self) -> int:
        """Wall-clock time in microseconds since the epoch (UTC)."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""


class SystemClock:
    def now_us(self) -> int:
        return time.time_ns() // 1000

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FrozenClock:
    """A clock that moves only when told to; sleepers wake when time passes their deadline.

    Usage: clock = FrozenClock(1_700_000_000_000_000); clock.advance(5.0)
    """

    def __init__(self, start_us: int) -> None:
        self._now = start_us
        self._changed = asyncio.Event()

    def now_us(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += int(seconds * 1_000_000)
        self._changed.set()
        self._changed = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        deadline = self._now + int(seconds * 1_000_000)
        while self._now < deadline:
            await self._changed.wait()
