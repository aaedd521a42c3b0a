"""The per-key API rate limit, shared by every API process through the database (store/rate_limits.py).

Each process takes a small allowance from the key's shared bucket at a time — 5 % of a second's worth,
at least one request — and spends it locally, so a busy key costs one statement per allowance, not per
request. An allowance not spent within 100 ms lapses: it was already taken from the bucket, so that can
only refuse early, never admit more. Accuracy: across all processes a key never gets more than
burst + rate × t requests in any t seconds, plus at most one allowance per process (none below 20/s,
where every request is counted in the database). A refusal is remembered until the bucket has room
again, so a client hammering a full bucket costs nothing more.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field

from heliograph.services.context import Context
from heliograph.store import rate_limits as store

ALLOWANCE_SECONDS = 0.05  # the share of a second's worth a process takes at once
ALLOWANCE_LIFETIME_US = 100_000  # an allowance not spent by then lapses


@dataclass(slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the bucket is full again
    retry_after: int  # seconds, when refused


@dataclass(slots=True)
class _Local:
    left: int = 0  # requests of the current allowance not spent yet
    until: int = 0  # when the allowance lapses (µs)
    tat: int = 0  # the shared bucket's tat when the allowance was taken
    refused_until: int = 0  # the bucket has no room before then
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one allowance fetch per key at a time


class RateLimiter:
    def __init__(self, ctx: Context, per_second: float, burst: int) -> None:
        self.ctx = ctx
        self.per_second = per_second
        self.burst = burst or max(1, math.ceil(per_second))
        self.interval = max(1, round(1_000_000 / per_second)) if per_second > 0 else 0
        self.window = self.burst * self.interval
        self.allowance = max(1, min(self.burst, math.floor(per_second * ALLOWANCE_SECONDS)))
        self._keys: dict[str, _Local] = {}

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    async def take(self, key: str) -> Decision:
        """Spend one request of the key's limit."""
        local = self._keys.get(key)
        if local is None:
            local = self._keys[key] = _Local()
        async with local.lock:  # the process's other requests for this key wait for the allowance being fetched
            now = self.ctx.now()
            if now < local.refused_until:
                return self._refused(local, now)
            if local.left > 0 and now < local.until:
                local.left -= 1
                return self._allowed(local, now)
            async with self.ctx.db.transaction(urgent=True) as conn:
                count = self.allowance
                tat = await store.take(conn, key, now, count, self.interval, self.window)
                if tat is None and count > 1:
                    count = 1
                    tat = await store.take(conn, key, now, count, self.interval, self.window)
                if tat is None:
                    current = await store.tat(conn, key) or now
            if tat is None:
                # one more request fits once max(tat, now) + interval <= now + window
                local.left, local.refused_until = 0, current + self.interval - self.window
                return self._refused(local, now)
            local.left, local.until, local.tat = count - 1, now + ALLOWANCE_LIFETIME_US, tat
            return self._allowed(local, now)

    def _allowed(self, local: _Local, now: int) -> Decision:
        ahead = max(0, local.tat - now)
        remaining = max(0, (self.window - ahead) // self.interval) + local.left
        return Decision(True, self.burst, min(self.burst, remaining), math.ceil(ahead / 1_000_000), 0)

    def _refused(self, local: _Local, now: int) -> Decision:
        wait = max(1, math.ceil((local.refused_until - now) / 1_000_000))
        ahead = max(0, local.refused_until + self.window - self.interval - now)
        return Decision(False, self.burst, 0, math.ceil(ahead / 1_000_000), wait)
