"""API rate limiting per key (services/rate_limits.py, shared by every API process), reported in the
x-ratelimit-* headers."""

from __future__ import annotations

from heliograph.services.rate_limits import RateLimiter


class TokenBuckets:
    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    @property
    def enabled(self) -> bool:
        return self.limiter.enabled

    async def take(self, key: str) -> tuple[bool, dict[str, str]]:
        """Spend one request; (allowed, headers to send)."""
        decision = await self.limiter.take(key)
        headers = {
            "x-ratelimit-limit": str(decision.limit),
            "x-ratelimit-remaining": str(decision.remaining),
            "x-ratelimit-reset": str(decision.reset),
        }
        if not decision.allowed:
            headers["retry-after"] = str(decision.retry_after)
        return decision.allowed, headers
