"""API rate limiting per key: a token bucket in memory, reported in the x-ratelimit-* headers.

Per process: with N API processes the effective limit is N times the setting (documented).
"""

from __future__ import annotations

import math
import time


class TokenBuckets:
    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.capacity = float(burst or max(1, math.ceil(per_second)))
        self._buckets: dict[str, tuple[float, float]] = {}

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def take(self, key: str) -> tuple[bool, dict[str, str]]:
        """Spend one token; (allowed, headers to send)."""
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.per_second)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._buckets[key] = (tokens, now)
        reset = math.ceil((self.capacity - tokens) / self.per_second) if tokens < self.capacity else 0
        headers = {
            "x-ratelimit-limit": str(int(self.capacity)),
            "x-ratelimit-remaining": str(int(tokens)),
            "x-ratelimit-reset": str(reset),
        }
        if not allowed:
            headers["retry-after"] = str(max(1, math.ceil((1 - tokens) / self.per_second)))
        return allowed, headers
